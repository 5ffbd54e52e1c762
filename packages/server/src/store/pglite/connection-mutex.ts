/**
 * A FIFO lock for a single shared connection.
 *
 * @example
 * await mutex.lock();
 * try { await useTheConnection(); } finally { mutex.unlock(); }
 */
export class ConnectionMutex {
  #locked = false;
  readonly #waiters: (() => void)[] = [];

  /** Resolves when the caller holds the lock. */
  lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Hands the lock to the next waiter (in arrival order), or frees it. */
  unlock(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#locked = false;
  }
}
