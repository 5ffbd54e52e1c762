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
    if (!(options.burst >= 1) || !(options.ratePerSecond > 0))
      throw new RangeError('a token bucket needs burst >= 1 and a positive rate');
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

  /** Takes `cost` tokens (default one; fractions allowed) when there are that many. */
  take(cost = 1): boolean {
    this.#refill();
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }

  /** Milliseconds until `cost` tokens are available (0: now). */
  msUntilNext(cost = 1): number {
    this.#refill();
    return this.#tokens >= cost ? 0 : Math.ceil((cost - this.#tokens) / this.#rate);
  }
}
