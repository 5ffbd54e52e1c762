-- 007_search: full-text search over message text (team features issue: search).
--
-- Two GIN indexes, read by packages/server/src/store/message-search.ts. Each holds, for every
-- message, its scope keys and what is searched:
--
-- * keys (the first column, the same expression as in message-search.ts): '#<room>' for a room
--   message, '@<owner>' for each end of a private message (owners: 004), '!<sender nick key>',
--   and '^<id >> 16>', the message's block of 65,536 ids. A search by someone in a few rooms asks
--   the index for the words AND any of its keys at once, so it never visits the rows of rooms it
--   may not read; and a frequent word is asked for block by block, newest first, so a search
--   visits the newest matches only (a GIN index has no order of its own). The parts index writes
--   the keys as `keys || '{}'`: the same keys, a different expression, so that the planner can
--   only answer a rank's keys from that rank's index.
-- * messages_search_words: whole words, through Postgres full-text search with the `simple`
--   configuration: words are lower-cased and nothing else, no stemming and no stop words, so a
--   search for `getUserById`, `deploy` or `the` finds exactly those words (an English
--   configuration would turn `deploying` into `deploy` and drop `the`).
-- * messages_search_parts: parts of words and identifiers (`UserBy`, `2026` in `deploy-2026`),
--   through pg_trgm: `text ILIKE '%part%'` is answered from the index for any part of 3 or more
--   letters or digits. pg_trgm is a trusted extension (Postgres 13+): a database owner may create
--   it; PGlite loads its bundle at start (store/pglite/open-pglite.ts).
--
-- Edits update text in place and deletes set it to '' (006): both indexes follow the row (an
-- empty text has no words and no trigrams, so a deleted message never matches).
--
-- Insert cost: every message adds about 15 entries to the words index and 60-100 to the trigram
-- index. GIN keeps them in a pending list (gin_pending_list_limit, 4 MB) and merges it when full,
-- so most inserts stay cheap and one in a few thousand pays the merge; but every index scan of a
-- search reads the whole pending list, which Postgres's autovacuum merges now and then and PGlite
-- never does: message-search.ts's flushSearchIndexes merges it (call it when the writer is idle).
-- Measured (BENCHMARKS.md, `npm run bench -- search`): batches of 1000 messages 3-7x slower.
--
-- On an existing large database this migration builds both indexes in its transaction, blocking
-- writes to messages meanwhile: about 35 s per million messages on Postgres, 60 s on PGlite, on a
-- 2-core machine (5 minutes for 10 million on Postgres).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX messages_search_words ON messages USING gin (
  (CASE WHEN room IS NOT NULL THEN ARRAY['#' || room, '!' || sender_key, '^' || (id >> 16)::text]
        ELSE array_remove(ARRAY['@' || sender_owner, '@' || recipient_owner, '!' || sender_key, '^' || (id >> 16)::text], NULL) END),
  to_tsvector('simple', text));

CREATE INDEX messages_search_parts ON messages USING gin (
  ((CASE WHEN room IS NOT NULL THEN ARRAY['#' || room, '!' || sender_key, '^' || (id >> 16)::text]
         ELSE array_remove(ARRAY['@' || sender_owner, '@' || recipient_owner, '!' || sender_key, '^' || (id >> 16)::text], NULL) END) || '{}'::text[]),
  text gin_trgm_ops);
