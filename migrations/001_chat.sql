-- 001_chat: the chat schema (users, rooms, memberships, messages).
-- Applied by packages/server/src/store/migrator.ts on PGlite and Postgres alike, in one transaction.
--
-- Nick keys (`*_key`, `nick_key`) are the lower-case form of a nick (protocol `nickKey`), used for
-- lookups and uniqueness; display nicks keep the case the user chose.

-- users: every nick ever registered. nick_key is unique; nick is the latest display form.
CREATE TABLE users (
  nick_key   text PRIMARY KEY,
  nick       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- rooms: every room ever created (names are stored normalized, lower-case, without '#').
-- topic/topic_by/topic_at are NULL while no topic is set.
CREATE TABLE rooms (
  name       text PRIMARY KEY,
  topic      text,
  topic_by   text,
  topic_at   timestamptz,
  created_at timestamptz NOT NULL
);

-- memberships: the rooms a nick (by key) belongs to; restored when the nick comes back,
-- and kept across server restarts.
CREATE TABLE memberships (
  nick_key  text NOT NULL,
  room      text NOT NULL REFERENCES rooms (name) ON DELETE CASCADE,
  joined_at timestamptz NOT NULL,
  PRIMARY KEY (nick_key, room)
);
-- "who is in this room" (the primary key already serves "which rooms has this nick").
CREATE INDEX memberships_room ON memberships (room);

-- messages: room messages (room set, recipient NULL) and private messages (room NULL,
-- recipient set). One identity sequence for both: the id is the history/resume cursor.
-- sender/recipient are display nicks as sent; the *_key and pm_pair columns are derived for lookups.
CREATE TABLE messages (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  room          text,
  sender        text NOT NULL,
  recipient     text,
  text          text NOT NULL,
  action        boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL,
  sender_key    text GENERATED ALWAYS AS (lower(sender)) STORED,
  recipient_key text GENERATED ALWAYS AS (lower(recipient)) STORED,
  -- A private conversation, independent of direction: 'alice bob' for alice<->bob.
  pm_pair       text GENERATED ALWAYS AS (
                  CASE WHEN recipient IS NULL THEN NULL
                       ELSE least(lower(sender), lower(recipient)) || ' ' || greatest(lower(sender), lower(recipient))
                  END) STORED,
  CONSTRAINT messages_room_xor_recipient CHECK ((room IS NULL) <> (recipient IS NULL))
);

-- Room history: latest page / paging by id within a room is an index scan on (room, id).
CREATE INDEX messages_room_id ON messages (room, id);
-- Private history of one nick: sent and received, each an index scan by id.
CREATE INDEX messages_pm_sender_id ON messages (sender_key, id) WHERE recipient IS NOT NULL;
CREATE INDEX messages_pm_recipient_id ON messages (recipient_key, id) WHERE recipient IS NOT NULL;
-- One conversation (`pm-history with`): index scan on (pm_pair, id).
CREATE INDEX messages_pm_pair_id ON messages (pm_pair, id) WHERE recipient IS NOT NULL;
