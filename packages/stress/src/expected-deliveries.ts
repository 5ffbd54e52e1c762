/**
 * Exact loss accounting over every shard's ledger: a room message is expected by each membership
 * window of its room that contains its send time; a private message by its recipient and its
 * sender. Shards count their received deliveries under the same rule, so
 * `delivered === expected` exactly when nothing was lost.
 *
 * @example
 * expectedDeliveries([{ intervals: [0, 10, Infinity], sends: [[5, 20, 30]], pmExpected: 2 }], 1); // 4
 */
import type { ShardLedger } from './shard-types.js';

/** Number of values in the sorted array that are <= x. */
function countAtMost(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function expectedDeliveries(ledgers: ShardLedger[], roomCount: number): number {
  const byRoom: Float64Array[] = [];
  for (let room = 0; room < roomCount; room++) {
    let n = 0;
    for (const l of ledgers) n += l.sends[room]?.length ?? 0;
    const all = new Float64Array(n);
    let at = 0;
    for (const l of ledgers) for (const s of l.sends[room] ?? []) all[at++] = s;
    byRoom.push(all.sort());
  }
  let expected = 0;
  for (const l of ledgers) {
    expected += l.pmExpected;
    for (let i = 0; i + 2 < l.intervals.length; i += 3) {
      const sends = byRoom[l.intervals[i]];
      if (!sends) continue;
      expected += countAtMost(sends, l.intervals[i + 2]) - countAtMost(sends, l.intervals[i + 1]);
    }
  }
  return expected;
}
