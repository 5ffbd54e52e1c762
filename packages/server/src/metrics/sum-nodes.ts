/**
 * A cluster's metrics are the sum of its nodes': every node stores its own snapshots (marked with
 * its node id), and whoever reads them (the dashboard, `/api/metrics`, the CSV export) adds up
 * the snapshots the nodes took in the same interval.
 *
 * @example
 * sumNodes([fromA, fromB]) // totals.messages = a + b, totals.connections = a + b, nodes: 2
 * for await (const page of combineNodes(store.scan(range))) ...
 */
import type { MetricSnapshot, RoomSnapshot } from './metric-snapshot.js';

/** One snapshot for several nodes' snapshots of one interval. */
export function sumNodes(snapshots: readonly MetricSnapshot[]): MetricSnapshot {
  if (snapshots.length === 0) throw new RangeError('sumNodes needs at least one snapshot');
  if (snapshots.length === 1) return snapshots[0];
  const rooms: Record<string, RoomSnapshot> = {};
  for (const s of snapshots) {
    for (const [name, room] of Object.entries(s.rooms))
      rooms[name] = rooms[name] ? addNumbers(rooms[name], room) : { ...room };
  }
  let totals = { ...snapshots[0].totals };
  for (const s of snapshots.slice(1)) totals = addNumbers(totals, s.totals);
  // A room in use on two nodes is one room: the count is the largest any node saw, not the sum.
  totals.rooms = Math.max(...snapshots.map((s) => s.totals.rooms), Object.keys(rooms).length);
  const first = snapshots[0];
  return {
    ts: Math.max(...snapshots.map((s) => s.ts)),
    intervalMs: first.intervalMs,
    ...(snapshots.every((s) => s.v === first.v) && first.v !== undefined ? { v: first.v } : {}),
    ...(snapshots.some((s) => s.roomsOmitted) ? { roomsOmitted: true as const } : {}),
    nodes: snapshots.reduce((n, s) => n + (s.nodes ?? 1), 0),
    rooms,
    totals: totals,
  };
}

/**
 * Pages of stored snapshots (oldest first) with the nodes' snapshots of each interval summed
 * into one. Snapshots without a node id (a single server) pass through as they are.
 */
export async function* combineNodes(pages: AsyncIterable<MetricSnapshot[]>): AsyncGenerator<MetricSnapshot[]> {
  // The nodes' timers are not aligned: an interval's bucket starts at its first snapshot and takes
  // each other node's next one within one interval.
  let bucket: MetricSnapshot[] = [];
  const flush = (out: MetricSnapshot[]) => {
    if (bucket.length > 0) out.push(sumNodes(bucket));
    bucket = [];
  };
  for await (const page of pages) {
    const out: MetricSnapshot[] = [];
    for (const s of page) {
      if (s.node === undefined) {
        flush(out);
        out.push(s);
        continue;
      }
      const first = bucket[0];
      if (first && (s.ts - first.ts >= Math.max(1, first.intervalMs) || bucket.some((b) => b.node === s.node)))
        flush(out);
      bucket.push(s);
    }
    if (out.length > 0) yield out;
  }
  const last: MetricSnapshot[] = [];
  flush(last);
  if (last.length > 0) yield last;
}

function addNumbers<T extends object>(a: T, b: T): T {
  const out = { ...a } as Record<string, unknown>;
  for (const [k, v] of Object.entries(b)) {
    if (typeof v !== 'number') continue;
    const mine = out[k];
    out[k] = Math.round(((typeof mine === 'number' ? mine : 0) + v) * 1000) / 1000;
  }
  return out as T;
}
