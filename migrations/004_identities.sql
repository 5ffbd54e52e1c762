-- 004_identities: access belongs to a person, not to a string (isolation issue).
--
-- An "owner" is who holds memberships, invites, room-creator rights and private history:
--   * a registered account: its nick key (the nick it was registered under, lower-case);
--   * anyone else: '~' || identities.id, a resume identity proven by the secret token the
--     server gave that client in `welcome` (only its SHA-256 is stored).
-- '~' cannot start a nick, so the two never collide. memberships.nick_key, room_invites.nick_key
-- and rooms.creator now hold owners.
CREATE TABLE identities (
  id          text PRIMARY KEY,
  secret_hash text NOT NULL,
  created_at  timestamptz NOT NULL
);

-- Before this migration those columns held bare nicks, which anybody could later take. Keep what
-- belongs to registered accounts; what belonged to an unregistered nick cannot be told apart from
-- a stranger's claim to it, so it is dropped (those users join their rooms again).
DELETE FROM memberships m WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.nick_key = m.nick_key AND u.password_hash IS NOT NULL);
DELETE FROM room_invites i WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.nick_key = i.nick_key AND u.password_hash IS NOT NULL);
UPDATE rooms r SET creator = NULL WHERE creator IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.nick_key = r.creator AND u.password_hash IS NOT NULL);

-- Private messages remember the owners of both ends, and private history is read by owner: a
-- stranger who takes a nick later does not read what was said to its previous holder.
ALTER TABLE messages ADD COLUMN sender_owner text;
ALTER TABLE messages ADD COLUMN recipient_owner text;
UPDATE messages m SET sender_owner = m.sender_key
  WHERE m.recipient IS NOT NULL AND EXISTS (SELECT 1 FROM users u WHERE u.nick_key = m.sender_key AND u.password_hash IS NOT NULL);
UPDATE messages m SET recipient_owner = m.recipient_key
  WHERE m.recipient IS NOT NULL AND EXISTS (SELECT 1 FROM users u WHERE u.nick_key = m.recipient_key AND u.password_hash IS NOT NULL);
CREATE INDEX messages_pm_sender_owner_id ON messages (sender_owner, id) WHERE recipient IS NOT NULL;
CREATE INDEX messages_pm_recipient_owner_id ON messages (recipient_owner, id) WHERE recipient IS NOT NULL;
