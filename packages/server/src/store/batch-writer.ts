/**
 * Group commit: messages and state changes queue here and are written in one transaction per
 * batch, so durability costs a few milliseconds of latency, not a database round trip per message.
 * While one batch is being written, the next one accumulates. The queue is bounded: when it is full
 * `appendMessage` refuses, and the caller tells the sender (nothing is silently dropped).
 *
 * Callbacks run in queue order after their batch commits, which keeps delivery in id order and
 * lets room notices (`appendEvent`) stay in order with the messages around them.
 *
 * @example
 * const writer = new BatchWriter(store, { maxPending: 20_000 });
 * writer.appendMessage(msg, (r) => r.ok && broadcast(r.id));
 */
import { codedError } from '@teamchat/protocol';
import type { PersistResult } from '../core/core-effects.js';
import type { MessageStore, NewMessage, StateWrite } from './message-store.js';

export interface BatchWriterOptions {
  /** Messages queued (waiting or being written) before new ones are refused. */
  maxPending?: number;
  /** Messages written per transaction. */
  maxBatch?: number;
  /** Attempts for a batch that fails with an error that is not a lost connection. */
  maxAttempts?: number;
  /** Delay before retry `attempt` (1-based). */
  retryDelayMs?: (attempt: number) => number;
  /** Called on every failed write (for logs and health). */
  onError?: (error: Error, attempt: number, willRetry: boolean) => void;
  /** Called when a write succeeds after failures. */
  onRecovered?: () => void;
}

type Item =
  | { message: NewMessage; done: (result: PersistResult) => void }
  | { message: null; run: () => void };

export class BatchWriter {
  readonly #store: MessageStore;
  readonly #maxPending: number;
  readonly #maxBatch: number;
  readonly #maxAttempts: number;
  readonly #retryDelay: (attempt: number) => number;
  readonly #onError: NonNullable<BatchWriterOptions['onError']>;
  readonly #onRecovered: () => void;
  #items: Item[] = [];
  #head = 0;
  #state: StateWrite[] = [];
  #pendingMessages = 0;
  #inFlight = false;
  #scheduled = false;
  #failing = false;
  #idle: (() => void)[] = [];
  #committedTotal = 0;
  #batches = 0;

  constructor(store: MessageStore, options: BatchWriterOptions = {}) {
    this.#store = store;
    this.#maxPending = options.maxPending ?? 20_000;
    this.#maxBatch = options.maxBatch ?? 2_000;
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#retryDelay = options.retryDelayMs ?? ((n) => Math.min(50 * 2 ** (n - 1), 2_000));
    this.#onError = options.onError ?? (() => {});
    this.#onRecovered = options.onRecovered ?? (() => {});
  }

  /** Messages accepted and not yet committed. */
  get pending(): number {
    return this.#pendingMessages;
  }

  /** True while the last write attempt failed (the database is unavailable or refusing). */
  get failing(): boolean {
    return this.#failing;
  }

  get stats(): { committed: number; batches: number } {
    return { committed: this.#committedTotal, batches: this.#batches };
  }

  /** Queues a message; returns false (and never calls `done`) when the queue is full. */
  appendMessage(message: NewMessage, done: (result: PersistResult) => void): boolean {
    if (this.#pendingMessages >= this.#maxPending) return false;
    this.#pendingMessages++;
    this.#items.push({ message, done });
    this.#schedule();
    return true;
  }

  /** Runs `run` after everything queued before it is committed (at once when nothing is queued). */
  appendEvent(run: () => void): void {
    if (!this.#inFlight && this.#head === this.#items.length) {
      safely(run);
      return;
    }
    this.#items.push({ message: null, run });
  }

  /** Queues a state change, written with the next batch. */
  appendState(write: StateWrite): void {
    this.#state.push(write);
    this.#schedule();
  }

  /** Resolves when everything queued so far has been written (or has failed for good). */
  drain(): Promise<void> {
    if (!this.#inFlight && !this.#scheduled && this.#head === this.#items.length && this.#state.length === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#inFlight || this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate: let everything that arrived in this I/O phase join the batch.
    setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    this.#inFlight = true;
    const batch: Item[] = [];
    const messages: NewMessage[] = [];
    while (this.#head < this.#items.length && messages.length < this.#maxBatch) {
      const item = this.#items[this.#head++]!;
      batch.push(item);
      if (item.message) messages.push(item.message);
    }
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 4096) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    const state = this.#state;
    this.#state = [];

    const ids = messages.length > 0 || state.length > 0 ? await this.#write(messages, state) : [];
    let i = 0;
    for (const item of batch) {
      if (item.message) {
        const id = ids?.[i++];
        safely(() =>
          item.done(id !== undefined ? { ok: true, id } : { ok: false, error: codedError('TC_ERR_STORE_FAILED') }),
        );
      } else {
        safely(item.run);
      }
    }
    this.#pendingMessages -= messages.length;
    if (ids) {
      this.#committedTotal += messages.length;
      this.#batches++;
    }
    this.#inFlight = false;
    if (this.#head < this.#items.length || this.#state.length > 0) {
      this.#schedule();
    } else {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /** Writes one batch, retrying; resolves with the ids, or null when the batch failed for good. */
  async #write(messages: NewMessage[], state: StateWrite[]): Promise<number[] | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        const ids = await this.#store.writeBatch({ messages, state });
        if (this.#failing) {
          this.#failing = false;
          this.#onRecovered();
        }
        return ids;
      } catch (err) {
        this.#failing = true;
        const error = err as Error;
        // A lost connection is retried until it comes back (the queue bound protects memory);
        // anything else (a bad row) fails the batch after a few attempts, so it cannot wedge the queue.
        const willRetry = isConnectionError(error) || (attempt < this.#maxAttempts && !isBadInput(error));
        this.#onError(error, attempt, willRetry);
        if (!willRetry) return null;
        await new Promise((r) => setTimeout(r, this.#retryDelay(attempt)));
      }
    }
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    // One failing delivery must not stop the writer or the deliveries after it.
    process.emitWarning(`teamchat: delivery callback failed: ${(err as Error).stack ?? err}`);
  }
}

/** The store refused the data itself: retrying cannot help. */
function isBadInput(error: Error & { code?: string }): boolean {
  return error.code === 'TC_STORE_BAD_INPUT';
}

/** Errors that mean "the database is unreachable right now", as opposed to "this data is bad". */
export function isConnectionError(error: Error & { code?: string }): boolean {
  const code = error.code ?? '';
  return (
    code.startsWith('08') || // connection exception
    code.startsWith('57P') || // admin shutdown, crash shutdown, cannot connect now
    code === '53300' || // too many connections
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code) ||
    /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(error.message)
  );
}
