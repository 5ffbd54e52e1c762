/**
 * Merges consecutive snapshots into one point, so a long time range fits a bounded response
 * without losing counts: messages, joins and leaves are summed, MPS is recomputed over the merged
 * time, and the point-in-time values (members, connections, cumulative totals, moving average)
 * come from the last snapshot of the run.
 */
import type { MetricSnapshot, RoomSnapshot } from './metric-snapshot.js';
import { rate } from './metrics-counters.js';

/**
 * @example
 * mergeSnapshots([a, b, c]) // { ts: c.ts, intervalMs: a+b+c, merged: 3, ... }
 */
export function mergeSnapshots(run: readonly MetricSnapshot[]): MetricSnapshot {
  if (run.length === 0) throw new RangeError('mergeSnapshots needs at least one snapshot');
  if (run.length === 1) return run[0]!;
  const last = run[run.length - 1]!;
  const intervalMs = run.reduce((sum, s) => sum + s.intervalMs, 0);
  const rooms: Record<string, RoomSnapshot> = {};
  const names = new Set(run.flatMap((s) => Object.keys(s.rooms)));
  for (const room of [...names].sort()) {
    let messages = 0;
    let joins = 0;
    let leaves = 0;
    let latest: RoomSnapshot | undefined;
    for (const s of run) {
      const r = s.rooms[room];
      if (!r) continue;
      messages += r.messages;
      joins += r.joins;
      leaves += r.leaves;
      latest = r;
    }
    rooms[room] = {
      ...latest!,
      mps: rate(messages, intervalMs),
      messages,
      joins,
      leaves,
      members: last.rooms[room]?.members ?? 0,
    };
  }
  const sum = (pick: (s: MetricSnapshot) => number) => run.reduce((total, s) => total + pick(s), 0);
  const messages = sum((s) => s.totals.messages);
  return {
    ts: last.ts,
    intervalMs,
    merged: sum((s) => s.merged ?? 1),
    rooms,
    totals: {
      ...last.totals,
      mps: rate(messages, intervalMs),
      messages,
      privateMessages: sum((s) => s.totals.privateMessages),
      joins: sum((s) => s.totals.joins),
      leaves: sum((s) => s.totals.leaves),
      rooms: names.size,
    },
  };
}
