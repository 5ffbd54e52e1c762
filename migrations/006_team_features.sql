-- 006_team_features: replies, edits, deletes, reactions and read markers (team features issue).

-- A reply names the message it answers (any message of the same room); a thread is a message
-- and every reply to it.
ALTER TABLE messages ADD COLUMN reply_to bigint;
CREATE INDEX messages_reply_to ON messages (reply_to) WHERE reply_to IS NOT NULL;

-- An edit replaces the text in place and sets edited_at. A delete empties the text (it is gone
-- from the database, as users expect) and sets deleted_at: history shows a tombstone.
ALTER TABLE messages ADD COLUMN edited_at timestamptz;
ALTER TABLE messages ADD COLUMN deleted_at timestamptz;

-- Reactions: one per (message, emoji, owner); `nick` is how the reactor was called then.
CREATE TABLE message_reactions (
  message_id bigint NOT NULL,
  emoji      text NOT NULL,
  owner      text NOT NULL,
  nick       text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (message_id, emoji, owner)
);

-- Read markers: per owner (account or resume identity) and conversation (a room name, or
-- '@' || the other person's nick key for private messages), the id read up to. Every
-- connection of the owner learns of a change, so reading on one device clears the others.
CREATE TABLE read_markers (
  owner        text NOT NULL,
  conversation text NOT NULL,
  message_id   bigint NOT NULL,
  updated_at   timestamptz NOT NULL,
  PRIMARY KEY (owner, conversation)
);
