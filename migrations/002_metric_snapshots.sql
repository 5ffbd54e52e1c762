-- 002_metric_snapshots: one row per metrics snapshot (every --metrics-interval, default 2 s).
-- Owned by packages/server/src/metrics/metrics-store.ts; pruned to --metrics-retention (default 7 days).
--
-- `data` is the snapshot without its timestamp: { intervalMs, rooms: { <room>: {...} }, totals: {...} }
-- (see packages/server/src/metrics/metric-snapshot.ts). Counts only: never message text, and for
-- private messages nothing but a count.
CREATE TABLE metric_snapshots (
  id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ts   timestamptz NOT NULL,
  data jsonb NOT NULL
);

-- Range queries (/api/metrics, export-metrics), "latest snapshot" at start, and retention deletes.
CREATE INDEX metric_snapshots_ts ON metric_snapshots (ts, id);
