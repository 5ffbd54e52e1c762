-- 008_search_off_the_write_path: the search indexes move off `messages` into their own table,
-- filled after the commit by packages/server/src/store/search-indexer.ts.
--
-- Why: with the two GIN indexes of 007 on `messages`, every message paid for ~15 word entries and
-- 60-100 trigram entries inside the transaction that acknowledges it: group commits of 1,000
-- messages went 3-7x slower (PGlite 37,174 -> 6,589 rows/s, Postgres 95,999 -> 13,106), and on
-- the embedded database, which runs one statement at a time, that cost sat in front of every
-- delivery (latency issue). Now a message is committed and delivered at the cost it had before
-- 007; the indexer copies it into `message_search` moments later, in small chunks, when the writer
-- is idle (see search-indexer.ts for the schedule and its bounds).
--
-- * message_search: one row per searchable message (not deleted): its scope keys and its text.
--   The keys are 007's (see there): '#<room>', '@<owner>' for each end of a private message,
--   '!<sender nick key>', '^<id >> 16>'. The text is a copy: the trigram index must be on a
--   column of its own table. Edits update it and deletes remove the row in the same transaction
--   as the message's own change (team-features-store.ts).
-- * search_state.indexed_upto: every message with an id up to here has been seen by the indexer.
--   Ids are committed in id order (one writer per node; in a cluster the cluster_stream lock
--   orders the commits and the database assigns the ids), so nothing can commit below it later.
--   Search reads the index up to it and walks the messages above it (message-search.ts).
--
-- On an existing database the index starts empty (indexed_upto 0) and the indexer fills it in the
-- background, oldest first: this migration is instant, and search reaches all of history once the
-- indexer has caught up (it logs its progress).
DROP INDEX IF EXISTS messages_search_words;
DROP INDEX IF EXISTS messages_search_parts;

CREATE TABLE message_search (
  id   bigint PRIMARY KEY,
  keys text[] NOT NULL,
  text text NOT NULL
);

CREATE INDEX message_search_words ON message_search USING gin (keys, to_tsvector('simple', text));
CREATE INDEX message_search_parts ON message_search USING gin ((keys || '{}'::text[]), text gin_trgm_ops);

CREATE TABLE search_state (
  one          boolean PRIMARY KEY DEFAULT true CHECK (one),
  indexed_upto bigint NOT NULL
);
INSERT INTO search_state (one, indexed_upto) VALUES (true, 0);
