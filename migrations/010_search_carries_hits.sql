-- 010_search_carries_hits: message_search carries what a search hit shows (created_at, room,
-- sender, recipient), so that a search reads message_search alone and never joins `messages`.
--
-- Why: since 008 every row the indexes gave was fetched twice, from message_search (to check the
-- text) and from messages (by its primary key, for the time, room, sender, recipient and the scope
-- check): twice the random page reads. On PGlite, whose 16 MB of shared buffers (open-pglite.ts)
-- hold little of the 1,000,000-message tables, most of those reads go through its file system
-- layer: search's p99 went from under 50 ms (007) to 60-100 ms at 1,000,000 messages
-- (`npm run bench -- search`, BENCHMARKS.md). The scope check needs no join either: `keys` already
-- holds it ('#<room>', '@<owner>' of each end of a private message, '!<sender nick key>'), and a
-- deleted message has no row here (team-features-store.ts deletes it with the message).
--
-- The columns are copies, written by search-indexer.ts with the keys and the text; none of them
-- changes after a message is stored (an edit changes the text only, which team-features-store.ts
-- already updates here; a delete removes the row).
--
-- As 008 did, the table starts again empty (indexed_upto 0) and the indexer fills it in the
-- background, oldest first: this migration is instant on any database, and search reaches all of
-- history again once the indexer has caught up (meanwhile it finds the newest messages, walked).
DROP TABLE message_search;

CREATE TABLE message_search (
  id         bigint PRIMARY KEY,
  created_at timestamptz NOT NULL,
  room       text,
  sender     text NOT NULL,
  recipient  text,
  keys       text[] NOT NULL,
  text       text NOT NULL
);

CREATE INDEX message_search_words ON message_search USING gin (keys, to_tsvector('simple', text));
CREATE INDEX message_search_parts ON message_search USING gin ((keys || '{}'::text[]), text gin_trgm_ops);

UPDATE search_state SET indexed_upto = 0;
