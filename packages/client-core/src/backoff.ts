/**
 * Reconnect delays: exponential with jitter, capped.
 *
 * @example
 * const backoff = new Backoff({ initialMs: 250, maxMs: 10_000 });
 * setTimeout(connect, backoff.next()); // 250ish, then 500ish, 1000ish ...
 * backoff.reset(); // after a successful connect
 */
export interface BackoffOptions {
  /** First delay. */
  initialMs?: number;
  /** Largest delay. */
  maxMs?: number;
  factor?: number;
  /** Random spread, as a fraction of the delay (0..1). */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialMs ?? 250;
    this.#max = options.maxMs ?? 10_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.2;
    this.#random = options.random ?? Math.random;
  }

  /** Attempts since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt, in milliseconds. */
  next(): number {
    const base = Math.min(this.#max, this.#initial * this.#factor ** this.#attempt);
    this.#attempt++;
    const spread = base * this.#jitter * (this.#random() * 2 - 1);
    return Math.max(0, Math.round(Math.min(this.#max, base + spread)));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
