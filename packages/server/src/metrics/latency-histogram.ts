/**
 * A latency histogram with fixed buckets, in the shape Prometheus scrapes (cumulative counts per
 * upper bound, a sum and a count). Fixed buckets keep it bounded and cheap on the hot path: a
 * recording is a short scan and three additions, whatever the number of recordings.
 *
 * @example
 * const held = new LatencyHistogram();
 * held.record(12.5); // ms
 * held.snapshot(); // { boundsMs: [1, 2, 5, ...], cumulative: [0, 0, 0, 0, 1, ...], sumMs: 12.5, count: 1 }
 */

/**
 * Upper bounds in ms: fine where a chat server should be (a few ms to a few hundred), coarse
 * beyond, up to the 10 s past which a message is as good as lost for a reader.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  1, 2, 5, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1_000, 1_500, 2_000, 5_000, 10_000,
];

export interface HistogramSnapshot {
  boundsMs: readonly number[];
  /** Recordings at or below each bound (cumulative, as Prometheus's `le` buckets). */
  cumulative: number[];
  sumMs: number;
  /** Every recording, those above the last bound included (the `+Inf` bucket). */
  count: number;
}

export class LatencyHistogram {
  readonly #bounds: readonly number[];
  /** Recordings per bucket, not cumulative; the last slot is above the last bound. */
  readonly #counts: number[];
  #sumMs = 0;
  #count = 0;

  constructor(boundsMs: readonly number[] = LATENCY_BOUNDS_MS) {
    this.#bounds = boundsMs;
    this.#counts = new Array<number>(boundsMs.length + 1).fill(0);
  }

  record(ms: number): void {
    if (!(ms >= 0)) return; // NaN or a clock step backwards: nothing meaningful to count
    let i = 0;
    while (i < this.#bounds.length && ms > this.#bounds[i]) i++;
    this.#counts[i]++;
    this.#sumMs += ms;
    this.#count++;
  }

  snapshot(): HistogramSnapshot {
    const cumulative: number[] = [];
    let running = 0;
    for (let i = 0; i < this.#bounds.length; i++) cumulative.push((running += this.#counts[i]));
    return { boundsMs: this.#bounds, cumulative, sumMs: this.#sumMs, count: this.#count };
  }
}

/**
 * The bound below which `q` (0-1) of the recordings fall, between two snapshots of one histogram
 * (`before` may be absent: since the start): the upper bound of the bucket that holds the q-th
 * recording, so the answer errs high, never low. Null when nothing was recorded in between;
 * Infinity when it is above the last bound.
 */
export function quantileBetween(after: HistogramSnapshot, q: number, before?: HistogramSnapshot): number | null {
  const count = after.count - (before?.count ?? 0);
  if (count <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * count));
  for (let i = 0; i < after.boundsMs.length; i++) {
    if (after.cumulative[i] - (before?.cumulative[i] ?? 0) >= rank) return after.boundsMs[i];
  }
  return Infinity;
}
