-- 009_highlight_words: highlight words live on the server, per person (team features issue).
--
-- A message that names one of your highlight words counts as a mention, like your nick or
-- @room/@all/@here: it is in your mention counts and in `mentions`, also when it came while you
-- were offline, on every device. One row per owner (an account's nick key, or '~' || a resume
-- identity's id, see 004); `words` is the whole list, replaced at once by the `highlights`
-- command: at most 16 words of 1-32 letters, digits, _ or -, lower-case (checked by the server,
-- and checked again where the mention pattern is built: team-features-store.ts).
CREATE TABLE highlight_words (
  owner      text PRIMARY KEY,
  words      text[] NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Unread counts of private conversations read the owner's latest received private messages
-- newest first: messages_pm_recipient_owner_id (004) serves that as a backward index scan, so no
-- new index is needed here.
