/**
 * At most one log line per key (an address, a connection) per interval, however often the thing
 * it reports happens: the first occurrence is logged at once, the ones that follow within the
 * interval are counted, and their count is logged when the interval is over. So a flood of
 * refusals costs one line a minute, and nothing goes unreported.
 *
 * Memory is bounded: a key is forgotten one quiet interval after its last line, and past `maxKeys`
 * the oldest keys are dropped (their pending counts go unlogged; metrics still count them).
 *
 * @example
 * const throttle = new LogThrottle<string>((ip, n, first) =>
 *   log(first ? `refused a connection from ${ip}` : `refused ${n} more connections from ${ip} in the last minute`));
 * throttle.note('10.0.0.7');
 */

export interface LogThrottleOptions {
  /** One line per key per this many milliseconds at most (default 60 s). */
  intervalMs?: number;
  /** Keys remembered at most (default 10,000). */
  maxKeys?: number;
  /** Clock in milliseconds (tests pass their own). */
  now?: () => number;
}

/**
 * Writes one line: `count` occurrences since the previous line; `first` when nothing was logged
 * for this key in the last interval (then `count` is 1).
 */
export type ThrottledLine<K> = (key: K, count: number, first: boolean) => void;

interface Entry {
  /** When the last line for this key was written. */
  loggedAt: number;
  /** Occurrences since then, not yet logged. */
  pending: number;
}

export const DEFAULT_LOG_INTERVAL_MS = 60_000;

export class LogThrottle<K> {
  readonly #line: ThrottledLine<K>;
  readonly #intervalMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  /** In insertion order: the first entries are the oldest. */
  readonly #entries = new Map<K, Entry>();
  #timer: NodeJS.Timeout | null = null;

  constructor(line: ThrottledLine<K>, options: LogThrottleOptions = {}) {
    this.#line = line;
    this.#intervalMs = options.intervalMs ?? DEFAULT_LOG_INTERVAL_MS;
    this.#maxKeys = options.maxKeys ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** One occurrence for `key`: logged now, or counted for the line at the end of the interval. */
  note(key: K): void {
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry && now - entry.loggedAt < this.#intervalMs) {
      entry.pending++;
      this.#arm();
      return;
    }
    if (entry) {
      // A quiet interval has passed (the sweep has not run yet): pending ones go in this line.
      this.#entries.delete(key);
      this.#write(key, entry.pending + 1, entry.pending === 0);
    } else {
      this.#write(key, 1, true);
    }
    this.#entries.set(key, { loggedAt: now, pending: 0 });
    if (this.#entries.size > this.#maxKeys) this.#entries.delete(this.#entries.keys().next().value as K);
    this.#arm();
  }

  /** Logs what is pending now (at shutdown) and forgets everything. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const entries = [...this.#entries];
    this.#entries.clear();
    for (const [key, entry] of entries) if (entry.pending > 0) this.#write(key, entry.pending, false);
  }

  /** Keys remembered now (for tests). */
  get size(): number {
    return this.#entries.size;
  }

  /** Logs the counts of keys whose interval is over; forgets keys quiet for a whole interval. */
  readonly #sweep = (): void => {
    this.#timer = null;
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (now - entry.loggedAt < this.#intervalMs) continue;
      if (entry.pending === 0) {
        this.#entries.delete(key);
        continue;
      }
      const count = entry.pending;
      entry.loggedAt = now;
      entry.pending = 0;
      this.#write(key, count, false);
    }
    this.#arm();
  };

  /** One timer for all keys, while any is remembered: at the end of the soonest interval. */
  #arm(): void {
    if (this.#timer || this.#entries.size === 0) return;
    let soonest = Infinity;
    for (const entry of this.#entries.values()) soonest = Math.min(soonest, entry.loggedAt + this.#intervalMs);
    this.#timer = setTimeout(this.#sweep, Math.max(1, soonest - this.#now()));
    this.#timer.unref();
  }

  #write(key: K, count: number, first: boolean): void {
    try {
      this.#line(key, count, first);
    } catch {
      // a failing log must not break the connection that triggered it
    }
  }
}
