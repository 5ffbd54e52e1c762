/**
 * A token bucket: `burst` tokens at most, refilled at `ratePerSecond`. One per connection for
 * flood control (the default, like ergo's: a burst of 5, then 2 messages a second).
 *
 * @example
 * const bucket = new TokenBucket({ burst: 5, ratePerSecond: 2 });
 * if (!bucket.take()) setTimeout(retry, bucket.msUntilNext());
 */
export interface TokenBucketOptions {
  burst: number;
  ratePerSecond: number;
  /** Clock in milliseconds (tests pass their own). */
  now?: () => number;
}

export class TokenBucket {
  readonly #burst: number;
  readonly #rate: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.burst >= 1) || !(options.ratePerSecond > 0)) throw new RangeError('a token bucket needs burst >= 1 and a positive rate');
    this.#burst = options.burst;
    this.#rate = options.ratePerSecond / 1000;
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = options.burst;
    this.#at = this.#now();
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#rate);
    this.#at = now;
  }

  /** Takes one token when there is one. */
  take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is available (0: now). */
  msUntilNext(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.#rate);
  }
}
