/**
 * Bounds how many metrics reads run at once (each holds up to one bounded answer in memory), and how
 * many wait for their turn: past that, a request is refused at once (503 TC_HTTP_BUSY) rather than
 * queued without end.
 */

export class GateBusyError extends Error {
  constructor() {
    super('the metrics read queue is full');
    this.name = 'GateBusyError';
  }
}

/**
 * @example
 * const gate = new QueryGate({ running: 2, waiting: 16 });
 * const body = await gate.run(() => metrics.query(q)); // rejects with GateBusyError when full
 */
export class QueryGate {
  readonly #running: number;
  readonly #waiting: number;
  #active = 0;
  readonly #queue: (() => void)[] = [];

  constructor(limits: { running: number; waiting: number }) {
    this.#running = limits.running;
    this.#waiting = limits.waiting;
  }

  /** Runs `work` once a slot is free; rejects with GateBusyError when too many already wait. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#running) {
      if (this.#queue.length >= this.#waiting) throw new GateBusyError();
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await work();
    } finally {
      const next = this.#queue.shift();
      // The slot passes straight to the next waiter.
      if (next) next();
      else this.#active--;
    }
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#queue.length;
  }
}
