/**
 * How fast new rooms may be created: a token bucket per connection and one per remote address,
 * so neither one client nor many clients from one address can fill the server with rooms.
 * Joining a room that exists costs nothing here (it is paid by flood control).
 *
 * @example
 * const limiter = new RoomCreationLimiter({ perConnection: 10, perAddress: 30 });
 * if (!limiter.allow(connection, connection.address)) refuse('TC_ERR_ROOM_CREATION_LIMITED');
 */
import { TokenBucket } from './token-bucket.js';

export interface RoomCreationLimits {
  /** New rooms per minute per connection (also its burst); 0: unlimited. */
  perConnection: number;
  /** New rooms per minute per remote address (also its burst); 0: unlimited. */
  perAddress: number;
  /** Clock in milliseconds (tests pass their own). */
  now?: () => number;
}

export const DEFAULT_ROOM_CREATION: RoomCreationLimits = { perConnection: 10, perAddress: 30 };

/** Addresses tracked at most; past it the fullest (longest idle) buckets are forgotten first. */
const MAX_ADDRESSES = 10_000;

export class RoomCreationLimiter {
  readonly #limits: RoomCreationLimits;
  readonly #byConnection = new WeakMap<object, TokenBucket>();
  /** In insertion order, refreshed on use: the first entries are the least recently used. */
  readonly #byAddress = new Map<string, TokenBucket>();

  constructor(limits: RoomCreationLimits) {
    this.#limits = limits;
  }

  /** Takes one room from both budgets, or none (and returns false) when either is spent. */
  allow(connection: object, address: string): boolean {
    const { perConnection, perAddress } = this.#limits;
    let mine: TokenBucket | null = null;
    if (perConnection > 0) {
      mine = this.#bucket(this.#byConnection.get(connection), perConnection);
      this.#byConnection.set(connection, mine);
    }
    let theirs: TokenBucket | null = null;
    if (perAddress > 0) {
      theirs = this.#bucket(this.#byAddress.get(address), perAddress);
      this.#byAddress.delete(address);
      this.#byAddress.set(address, theirs);
      if (this.#byAddress.size > MAX_ADDRESSES) this.#byAddress.delete(this.#byAddress.keys().next().value!);
    }
    if ((mine && mine.msUntilNext() > 0) || (theirs && theirs.msUntilNext() > 0)) return false;
    mine?.take();
    theirs?.take();
    return true;
  }

  #bucket(existing: TokenBucket | undefined, perMinute: number): TokenBucket {
    return (
      existing ??
      new TokenBucket({
        burst: perMinute,
        ratePerSecond: perMinute / 60,
        ...(this.#limits.now ? { now: this.#limits.now } : {}),
      })
    );
  }
}
