-- 005_cluster: several teamchat nodes on one Postgres (cluster issue).
--
-- Postgres is the truth; NATS only carries what was committed here to the other nodes.

-- cluster_stream: the one row every node's write transaction locks (UPDATE) before it takes
-- message ids. Commits therefore happen one at a time across the cluster, in `batch` order, and
-- ids are taken inside that order: a message's id is its place in the cluster-wide delivery
-- order, so a resume cursor can never skip a late, lower id. `batch` numbers the committed
-- batches without gaps; a node that sees batch n+2 before n+1 waits for it, or reads it here.
CREATE TABLE cluster_stream (
  id    smallint PRIMARY KEY CHECK (id = 1),
  batch bigint NOT NULL
);
INSERT INTO cluster_stream (id, batch) VALUES (1, 0);

-- messages.batch: the cluster batch that committed the message (NULL on a single node); a node
-- that missed batches on the bus reads their messages back by it.
ALTER TABLE messages ADD COLUMN batch bigint;
CREATE INDEX messages_batch ON messages (batch) WHERE batch IS NOT NULL;

-- messages.cid: the client's own id for a message it may send again after a lost connection
-- (exactly-once sends). One per sender owner; a repeat is answered with the stored message's id.
ALTER TABLE messages ADD COLUMN cid text;
CREATE UNIQUE INDEX messages_sender_cid ON messages (sender_owner, cid) WHERE cid IS NOT NULL;

-- cluster_nodes: one row per running node process (`instance` is new at every start), with a
-- heartbeat. A node whose heartbeat is older than a few seconds is gone: its users are shown as
-- gone and their nicks are free again.
CREATE TABLE cluster_nodes (
  instance     text PRIMARY KEY,
  node_id      text NOT NULL,
  started_at   timestamptz NOT NULL,
  heartbeat_at timestamptz NOT NULL
);

-- online_nicks: who holds which nick right now, on which node instance. The primary key is
-- what makes a nick unique across the cluster: two nodes cannot both insert it.
CREATE TABLE online_nicks (
  nick_key text PRIMARY KEY,
  nick     text NOT NULL,
  owner    text NOT NULL,
  instance text NOT NULL
);
CREATE INDEX online_nicks_instance ON online_nicks (instance);

-- room_presence: who is in which room right now, on which node instance (what a node that
-- starts, or reads a room in, needs to know about the others).
CREATE TABLE room_presence (
  room     text NOT NULL,
  nick_key text NOT NULL,
  nick     text NOT NULL,
  instance text NOT NULL,
  PRIMARY KEY (room, nick_key)
);
CREATE INDEX room_presence_instance ON room_presence (instance);
