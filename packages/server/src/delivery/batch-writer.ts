/**
 * Step 1 of the delivery pipeline (see README.md): group commit. Messages and state changes queue here and are written in one transaction per
 * batch, so durability costs a few milliseconds of latency, not a database round trip per message.
 * While one batch is being written, the next one accumulates. The queue is bounded: when it is full
 * `appendMessage` refuses, and the caller tells the sender (nothing is silently dropped).
 *
 * Every message gets its id when it is accepted, from a pool reserved ahead from the database's
 * sequence, so ids follow acceptance order and a message has its cursor before it is stored.
 *
 * Normally a message is delivered once its batch is committed. When the database is unreachable
 * the writer is *degraded*: messages are delivered at once (live chat goes on) and held in the
 * bounded queue; each is acknowledged only when it is finally committed, so an acknowledged message
 * is a stored message. Callbacks run in queue order, which keeps delivery in id order and lets room
 * notices (`appendEvent`) stay in order with the messages around them.
 *
 * In a cluster (`ordered`), ids cannot be handed out ahead: the database gives them inside the
 * commit, under the cluster-wide stream lock (migrations/005), so id order is commit order on
 * every node. Then nothing is delivered before it is stored (there is no order to deliver in
 * without the database): while it is unreachable, messages wait in the bounded queue.
 *
 * A committed batch goes to the `CommitSink` (the ordered stream), which runs its callbacks when
 * its turn in the cluster order comes, and tells the other nodes what it holds.
 *
 * @example
 * const writer = new BatchWriter(store, { maxPending: 20_000 });
 * await writer.start();
 * writer.appendMessage(msg, { deliver: (id) => broadcast(id), committed: (r) => r.ok && ack(r.id) });
 */
import { codedError } from '@teamchat/protocol';
import type { PersistCallbacks } from '../core/core-effects.js';
import type { ClusterEvent, NewMessage, StateWrite, StoredMessage } from '../core/records.js';
import type { MessageStore } from '../store/message-store.js';

/** What the writer needs of the store. */
export type BatchStore = Pick<MessageStore, 'writeBatch' | 'reserveIds'>;

/** One thing other nodes must learn from a committed batch, in queue order. */
export type StreamEntry = { message: StoredMessage } | { event: ClusterEvent };

export interface CommittedBatch {
  /** The batch's place in the cluster order; null on a single node (and for a failed batch). */
  number: number | null;
  /** Runs the batch's callbacks (deliveries, acknowledgements, notices) in queue order. */
  runLocal: () => void;
  /** What the other nodes need to deliver the same things in the same order. */
  entries: StreamEntry[];
}

/** Where committed batches go, in commit order. */
export interface CommitSink {
  committed(batch: CommittedBatch): void;
}

export interface BatchWriterOptions {
  /** Messages queued (waiting or being written) before new ones are refused. */
  maxPending?: number;
  /** Messages written per transaction. */
  maxBatch?: number;
  /** State changes held (e.g. during an outage) before new ones are dropped with a log line. */
  maxPendingState?: number;
  /** Ids reserved from the database at a time. */
  idBlock?: number;
  /** Attempts for a batch that fails with an error that is not a lost connection. */
  maxAttempts?: number;
  /** Delay before retry `attempt` (1-based). */
  retryDelayMs?: (attempt: number) => number;
  /** Called on every failed write (for logs). */
  onError?: (error: Error, attempt: number, willRetry: boolean) => void;
  /** The database became unreachable: messages are now delivered before they are stored. */
  onDegraded?: () => void;
  /** A write succeeded again after an outage. */
  onRecovered?: () => void;
  /** Cluster order: ids are given by the database inside each commit (see the top of this file). */
  ordered?: boolean;
  /** Receives committed batches; by default their callbacks run at once. */
  sink?: CommitSink;
  /**
   * A message of this node was handed to its deliveries, `heldMs` after it was accepted (for the
   * latency histogram in /metrics). Called on the hot path: implementations only count.
   */
  onDelivered?: (heldMs: number) => void;
}

type MessageItem = {
  message: NewMessage;
  callbacks: PersistCallbacks;
  delivered: boolean;
  repeated?: boolean;
  /** When it was accepted (performance.now()). */
  acceptedAt: number;
};
type EventItem = { message: null; run: (() => void) | null; event?: ClusterEvent };
/** Told once the state change queued before it is committed (never early, not even when degraded). */
type StateAckItem = { message: null; run: null; stored: (ok: boolean) => void };
type Item = MessageItem | EventItem | StateAckItem;

export class BatchWriter {
  readonly #store: BatchStore;
  readonly #maxPending: number;
  readonly #maxBatch: number;
  readonly #maxPendingState: number;
  readonly #idBlock: number;
  readonly #maxAttempts: number;
  readonly #retryDelay: (attempt: number) => number;
  readonly #onError: NonNullable<BatchWriterOptions['onError']>;
  readonly #onDegraded: () => void;
  readonly #onRecovered: () => void;
  readonly #ordered: boolean;
  readonly #sink: CommitSink;
  readonly #onDelivered: ((heldMs: number) => void) | undefined;
  #items: Item[] = [];
  #head = 0;
  /** Batches handed to the database and not yet delivered, oldest first. */
  #inFlight: Item[][] = [];
  #state: StateWrite[] = [];
  #pendingMessages = 0;
  /** A batch is being written; the next one waits (writes are strictly sequential). */
  #writing = false;
  #scheduled = false;
  #failing = false;
  #degraded = false;
  #ids: number[] = [];
  #idHead = 0;
  #refilling = false;
  #idle: (() => void)[] = [];
  #committedTotal = 0;
  #batches = 0;
  #droppedState = 0;
  /** When the last batch went to the database (performance.now()). */
  #lastBatchAt = 0;

  constructor(store: BatchStore, options: BatchWriterOptions = {}) {
    this.#store = store;
    this.#maxPending = options.maxPending ?? 20_000;
    this.#maxBatch = options.maxBatch ?? 2_000;
    this.#maxPendingState = options.maxPendingState ?? 100_000;
    this.#idBlock = options.idBlock ?? 20_000;
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#retryDelay = options.retryDelayMs ?? ((n) => Math.min(50 * 2 ** (n - 1), 1_000));
    this.#onError = options.onError ?? (() => {});
    this.#onDegraded = options.onDegraded ?? (() => {});
    this.#onRecovered = options.onRecovered ?? (() => {});
    this.#ordered = options.ordered ?? false;
    this.#sink = options.sink ?? { committed: (batch) => batch.runLocal() };
    this.#onDelivered = options.onDelivered;
  }

  /** Reserves the first block of ids; call before accepting messages. */
  async start(): Promise<void> {
    if (this.#ordered) return;
    await this.#refill();
    if (this.#idsLeft === 0) throw new Error('could not reserve message ids from the database');
  }

  /** Messages accepted and not yet committed. */
  get pending(): number {
    return this.#pendingMessages;
  }

  /**
   * How long the writer has had nothing to do (ms; 0 while messages wait): background work on the
   * database (the search indexer) waits for a quiet moment, not merely an empty queue between two
   * batches.
   */
  get idleForMs(): number {
    if (this.#pendingMessages > 0 || this.#writing) return 0;
    return performance.now() - this.#lastBatchAt;
  }

  /** True while the last write attempt failed. */
  get failing(): boolean {
    return this.#failing;
  }

  /** True while the database is unreachable and messages are delivered before they are stored. */
  get degraded(): boolean {
    return this.#degraded;
  }

  get stats(): { committed: number; batches: number; droppedState: number } {
    return { committed: this.#committedTotal, batches: this.#batches, droppedState: this.#droppedState };
  }

  get #idsLeft(): number {
    return this.#ids.length - this.#idHead;
  }

  /**
   * Queues a message; false (calling nothing) when the queue is full or no id is left to give
   * (the database has been away for long).
   */
  appendMessage(message: NewMessage, callbacks: PersistCallbacks): boolean {
    if (this.#pendingMessages >= this.#maxPending) return false;
    if (this.#ordered) {
      this.#pendingMessages++;
      this.#items.push({ message, callbacks, delivered: false, acceptedAt: performance.now() });
      this.#schedule();
      return true;
    }
    if (this.#idsLeft === 0) return false;
    const id = this.#ids[this.#idHead++];
    if (this.#idHead > 4096 && this.#idHead * 2 > this.#ids.length) {
      this.#ids = this.#ids.slice(this.#idHead);
      this.#idHead = 0;
    }
    if (this.#idsLeft < this.#idBlock / 2) void this.#refill();
    message.id = id;
    const item: MessageItem = { message, callbacks, delivered: false, acceptedAt: performance.now() };
    this.#pendingMessages++;
    this.#items.push(item);
    if (this.#degraded) this.#deliver(item);
    this.#schedule();
    return true;
  }

  /**
   * Runs `run` after everything queued before it is delivered (at once when nothing waits). An
   * `event` is told to the other nodes of a cluster at the same place in the order.
   */
  appendEvent(run: () => void, event?: ClusterEvent): void {
    if (this.#ordered && event) {
      // Its place in the cluster order is the next batch's, even when nothing else waits.
      this.#items.push({ message: null, run, event });
      this.#schedule();
      return;
    }
    if (this.#degraded || (this.#inFlight.length === 0 && this.#head === this.#items.length)) {
      safely(run);
      return;
    }
    this.#items.push({ message: null, run });
  }

  /**
   * Queues a state change, written with the next batch. `stored` (optional) is told once it is
   * committed, or that it never will be: confirm a change to the user only then.
   */
  appendState(write: StateWrite, stored?: (ok: boolean) => void): void {
    if (this.#state.length >= this.#maxPendingState) {
      this.#droppedState++;
      this.#onError(new Error(`state change dropped, ${this.#state.length} are waiting: ${write.op}`), 0, false);
      if (stored) safely(() => stored(false));
      return;
    }
    this.#state.push(write);
    // The batch that takes this write also takes this item (state is taken whole, items in order).
    if (stored) this.#items.push({ message: null, run: null, stored });
    this.#schedule();
  }

  /** Resolves when everything queued so far has been written (or has failed for good). */
  drain(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #isIdle(): boolean {
    return (
      this.#inFlight.length === 0 && !this.#scheduled && this.#head === this.#items.length && this.#state.length === 0
    );
  }

  async #refill(): Promise<void> {
    if (this.#refilling) return;
    this.#refilling = true;
    try {
      const ids = await this.#store.reserveIds(this.#idBlock);
      // The sequence only grows: a new block follows the ids still in the pool.
      this.#ids.push(...ids);
    } catch (err) {
      this.#onError(err as Error, 0, true);
    } finally {
      this.#refilling = false;
    }
  }

  #schedule(): void {
    if (this.#writing || this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate: let everything that arrived in this I/O phase join the batch.
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#writing) this.#startBatch();
    });
  }

  /** Takes what is queued as one batch and hands it to the database. */
  #startBatch(): void {
    const batch: Item[] = [];
    const messages: NewMessage[] = [];
    while (this.#head < this.#items.length && messages.length < this.#maxBatch) {
      const item = this.#items[this.#head++];
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
    if (batch.length === 0 && state.length === 0) return this.#settleIdle();

    this.#writing = true;
    this.#lastBatchAt = performance.now();
    this.#inFlight.push(batch);
    const needsWrite =
      messages.length > 0 ||
      state.length > 0 ||
      (this.#ordered && batch.some((item) => !item.message && 'event' in item && item.event));
    const written = needsWrite
      ? this.#write(messages, state)
      : Promise.resolve<WriteOutcome>({ ok: true, number: null });
    void written.then((outcome) => {
      this.#writing = false;
      // Pipeline: the next batch goes to the database before this one is delivered, so storing
      // and delivering overlap. Writes stay sequential; deliveries stay in queue order, since the
      // next write cannot finish before this callback has delivered.
      if (this.#head < this.#items.length || this.#state.length > 0) this.#startBatch();
      this.#finish(batch, messages.length, outcome);
    });
  }

  /** Hands a written batch to the sink, which delivers and acknowledges it in queue order. */
  #finish(batch: Item[], messageCount: number, outcome: WriteOutcome): void {
    const ok = outcome.ok;
    const entries: StreamEntry[] = [];
    if (ok && outcome.number !== null) {
      for (const item of batch) {
        if (item.message) {
          if (!item.repeated) entries.push({ message: storedMessage(item.message) });
        } else if ('event' in item && item.event) {
          entries.push({ event: item.event });
        }
      }
    }
    const runLocal = () => {
      for (const item of batch) {
        if (item.message) {
          if (ok && !item.delivered && !item.repeated) this.#deliver(item);
          const id = item.message.id!;
          safely(() =>
            item.callbacks.committed(
              ok
                ? { ok: true, id, ...(item.repeated ? { repeated: true } : {}) }
                : { ok: false, error: codedError('TC_ERR_STORE_FAILED') },
            ),
          );
        } else if (item.run) {
          safely(item.run);
        } else if ('stored' in item) {
          safely(() => item.stored(ok));
        }
      }
    };
    this.#inFlight.shift();
    this.#pendingMessages -= messageCount;
    if (ok) {
      this.#committedTotal += messageCount;
      this.#batches++;
    }
    const number = ok ? outcome.number : null;
    try {
      this.#sink.committed({ number, runLocal, entries });
    } catch (err) {
      process.emitWarning(`teamchat: commit sink failed: ${(err as Error).stack ?? String(err)}`);
    }
    this.#settleIdle();
  }

  #settleIdle(): void {
    if (this.#isIdle()) for (const resolve of this.#idle.splice(0)) resolve();
  }

  #deliver(item: MessageItem): void {
    item.delivered = true;
    safely(() => item.callbacks.deliver(item.message.id!));
    this.#onDelivered?.(performance.now() - item.acceptedAt);
  }

  /** Writes one batch, retrying; resolves once committed, or failed for good. */
  async #write(messages: NewMessage[], state: StateWrite[]): Promise<WriteOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.#store.writeBatch({ messages, state }, this.#ordered ? { ordered: true } : {});
        for (let i = 0; i < messages.length; i++) messages[i].id = result.ids[i]!;
        for (const i of result.repeated) this.#markRepeated(messages[i]);
        if (this.#failing) {
          this.#failing = false;
          if (this.#degraded) {
            this.#degraded = false;
            safely(this.#onRecovered);
          }
          if (!this.#ordered && this.#idsLeft < this.#idBlock / 2) void this.#refill();
        }
        return { ok: true, number: result.batch };
      } catch (err) {
        this.#failing = true;
        const error = err as Error;
        const lost = isConnectionError(error);
        if (lost && !this.#degraded) this.#enterDegraded();
        if (this.#ordered) for (const m of messages) delete m.id;
        // A lost connection is retried until it comes back (the queue bound protects memory);
        // anything else fails the batch after a few attempts (at once for data the store refuses),
        // so it cannot wedge the queue.
        const willRetry = lost || (attempt < this.#maxAttempts && !isBadInput(error));
        this.#onError(error, attempt, willRetry);
        if (!willRetry) return { ok: false, number: null };
        await new Promise((r) => setTimeout(r, this.#retryDelay(attempt)));
      }
    }
  }

  /** The message's owner had already sent its client id: it is not delivered again. */
  #markRepeated(message: NewMessage): void {
    for (const list of this.#inFlight) {
      for (const item of list) if (item.message === message) item.repeated = true;
    }
  }

  /**
   * Live chat goes on: deliver everything accepted so far, in order, without waiting for storage.
   * Not in a cluster: there, the order is only known once the database has committed.
   */
  #enterDegraded(): void {
    this.#degraded = true;
    safely(this.#onDegraded);
    if (this.#ordered) return;
    for (const list of [...this.#inFlight, this.#items.slice(this.#head)]) {
      for (const item of list) {
        if (item.message) {
          if (!item.delivered) this.#deliver(item);
        } else if (item.run) {
          const run = item.run;
          item.run = null;
          safely(run);
        }
      }
    }
  }
}

type WriteOutcome = { ok: boolean; number: number | null };

/** A committed message as the other nodes receive it. */
function storedMessage(m: NewMessage): StoredMessage {
  const action = m.action ? { action: true } : {};
  if (m.kind === 'room')
    return { kind: 'room', message: { id: m.id!, ts: m.ts, room: m.room, nick: m.nick, text: m.text, ...action } };
  return {
    kind: 'pm',
    message: { id: m.id!, ts: m.ts, from: m.from, to: m.to, text: m.text, ...action },
    fromOwner: m.fromOwner ?? '',
    toOwner: m.toOwner ?? '',
  };
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    // One failing delivery must not stop the writer or the deliveries after it.
    process.emitWarning(`teamchat: delivery callback failed: ${(err as Error).stack ?? String(err)}`);
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
    /Connection terminated|connection timeout|Client has encountered a connection error|not queryable|connect ECONNREFUSED/i.test(
      error.message,
    )
  );
}
