-- 003_accounts_and_room_modes: registered nicks (password hashes) and room modes.
--
-- users.password_hash: NULL for an unregistered nick; otherwise
--   'scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>' (node:crypto scrypt, a random salt per user).
ALTER TABLE users ADD COLUMN password_hash text;
ALTER TABLE users ADD COLUMN registered_at timestamptz;

-- rooms.creator: nick key of whoever created the room (the only one who may change its modes);
-- NULL for rooms created before this migration.
-- rooms.key_hash: the room key (+k) as a scrypt hash in the same format; NULL: no key.
-- rooms.invite_only (+i): only invited nicks (and members) may join.
ALTER TABLE rooms ADD COLUMN creator text;
ALTER TABLE rooms ADD COLUMN key_hash text;
ALTER TABLE rooms ADD COLUMN invite_only boolean NOT NULL DEFAULT false;

-- room_invites: nicks (by key) invited into a room; kept until the room stops being invite-only.
CREATE TABLE room_invites (
  room       text NOT NULL REFERENCES rooms (name) ON DELETE CASCADE,
  nick_key   text NOT NULL,
  invited_by text NOT NULL,
  invited_at timestamptz NOT NULL,
  PRIMARY KEY (room, nick_key)
);
