/**
 * A mergeable latency histogram with fixed log-scale buckets (about 3% precision), counting
 * microseconds from 0 to about 19 hours. Shards keep one each and the totals merge by adding
 * bucket counts, so no sample is ever stored.
 *
 * It is the project's one percentile: the stress tool, the benchmarks and the tests summarise
 * every latency (or any duration) with it, so a "p99" means the same thing everywhere.
 *
 * @example
 * const h = new LatencyHistogram();
 * h.record(1_250); // 1.25 ms
 * h.percentile(0.99); // ~1250
 * LatencyHistogram.ofMs([1.2, 0.8, 15]).summaryMs(); // count 3, p50 1.2, p99 ~15 (within 3 %), max 15 exactly
 */

/** Exact buckets for 0..31 µs, then 32 sub-buckets per power of two. */
const SUB_BITS = 5;
const SUB = 1 << SUB_BITS;
const MAX_EXP = 36;
export const HISTOGRAM_BUCKETS = SUB + (MAX_EXP - SUB_BITS + 1) * SUB;

function bucketOf(us: number): number {
  const v = us > 0 ? Math.floor(us) : 0;
  if (v < SUB) return v;
  const exp = v < 2 ** 31 ? 31 - Math.clz32(v) : Math.floor(Math.log2(v));
  if (exp > MAX_EXP) return HISTOGRAM_BUCKETS - 1;
  const sub = Math.floor(v / 2 ** (exp - SUB_BITS)) - SUB;
  return SUB + (exp - SUB_BITS) * SUB + sub;
}

/** The lowest value of a bucket and its width. */
function bucketRange(index: number): [low: number, width: number] {
  if (index < SUB) return [index, 1];
  const exp = Math.floor((index - SUB) / SUB) + SUB_BITS;
  const sub = (index - SUB) % SUB;
  const width = 2 ** (exp - SUB_BITS);
  return [(SUB + sub) * width, width];
}

/** Percentiles and maximum of a histogram, in milliseconds; 0 when it is empty. */
export interface LatencySummaryMs {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export class LatencyHistogram {
  readonly counts: Uint32Array;
  #total = 0;
  #max = 0;

  constructor(counts?: Uint32Array, max = 0) {
    this.counts = counts ?? new Uint32Array(HISTOGRAM_BUCKETS);
    if (this.counts.length !== HISTOGRAM_BUCKETS) throw new RangeError(`a histogram has ${HISTOGRAM_BUCKETS} buckets`);
    for (let i = 0; i < this.counts.length; i++) this.#total += this.counts[i];
    this.#max = max;
  }

  /** A histogram of samples given in milliseconds (e.g. `performance.now()` differences). */
  static ofMs(samples: Iterable<number>): LatencyHistogram {
    const h = new LatencyHistogram();
    for (const ms of samples) h.recordMs(ms);
    return h;
  }

  /** Records one latency, in microseconds. */
  record(us: number): void {
    this.counts[bucketOf(us)]++;
    this.#total++;
    if (us > this.#max) this.#max = us;
  }

  /** Records one latency, in milliseconds (kept to the microsecond). */
  recordMs(ms: number): void {
    this.record(ms * 1000);
  }

  get count(): number {
    return this.#total;
  }

  /** The largest value recorded (exact), in microseconds. */
  get max(): number {
    return this.#max;
  }

  /** Adds another histogram's counts to this one. */
  merge(other: LatencyHistogram): this {
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) this.counts[i] += other.counts[i];
    this.#total += other.count;
    if (other.max > this.#max) this.#max = other.max;
    return this;
  }

  /**
   * The value below which a fraction `q` (0..1) of the samples fall, in microseconds: the
   * middle of the bucket holding that rank (never above the exact maximum). NaN when empty.
   */
  percentile(q: number): number {
    if (this.#total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const [low, width] = bucketRange(i);
        return Math.min(width === 1 ? low : low + width / 2, this.#max);
      }
    }
    return this.#max;
  }

  /** p50, p90, p99 and the maximum in milliseconds, rounded to `decimals` places (0 when empty). */
  summaryMs(decimals = 3): LatencySummaryMs {
    const scale = 10 ** decimals;
    const ms = (us: number) => (Number.isNaN(us) ? 0 : Math.round((us / 1000) * scale) / scale);
    return {
      count: this.#total,
      p50: ms(this.percentile(0.5)),
      p90: ms(this.percentile(0.9)),
      p99: ms(this.percentile(0.99)),
      max: ms(this.#total === 0 ? NaN : this.#max),
    };
  }

  clone(): LatencyHistogram {
    return new LatencyHistogram(this.counts.slice(), this.#max);
  }
}
