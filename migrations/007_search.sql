-- 007_search: full-text search over message text (team features issue: search).
--
-- Two GIN indexes on messages(text), read by packages/server/src/store/message-search.ts:
--
-- * messages_text_words: whole words, through Postgres full-text search with the `simple`
--   configuration: words are lower-cased and nothing else, no stemming and no stop words, so a
--   search for `getUserById`, `deploy` or `the` finds exactly those words (an English
--   configuration would turn `deploying` into `deploy` and drop `the`). The search must use the
--   same expression, `to_tsvector('simple', text)`, for the index to apply.
-- * messages_text_trigrams: parts of words and identifiers (`UserBy`, `2026` in `deploy-2026`),
--   through pg_trgm: `text ILIKE '%part%'` is answered from the index for any part of 3 or more
--   letters or digits. pg_trgm is a trusted extension (Postgres 13+): a database owner may create
--   it; PGlite loads its bundle at start (store/pglite/open-pglite.ts).
--
-- Edits update text in place and deletes set it to '' (006): both indexes follow the row (an
-- empty text has no words and no trigrams, so a deleted message can never match).
--
-- Insert cost: GIN keeps new entries in a pending list and merges it into the index when it passes
-- gin_pending_list_limit (4 MB by default) or at VACUUM. A merge of 4 MB costs a group commit that
-- happens to trigger it a few hundred milliseconds on PGlite; 512 kB bounds that pause while keeping
-- most of the batching (figures: BENCHMARKS.md, `npm run bench -- search`).
--
-- On an existing large database this migration builds both indexes in its transaction, blocking
-- writes to messages meanwhile (about a minute per million messages on a small server).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX messages_text_words ON messages USING gin (to_tsvector('simple', text));
CREATE INDEX messages_text_trigrams ON messages USING gin (text gin_trgm_ops);
