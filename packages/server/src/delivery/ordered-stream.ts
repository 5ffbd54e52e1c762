/**
 * Step 2 of the delivery pipeline (see README.md): every node delivers committed batches in one
 * order, the cluster order the database gave them (`batch` numbers, migrations/005).
 *
 * Batches arrive from two sides: this node's own writer (local callbacks: deliveries, acks,
 * notices) and the bus (what other nodes committed). A batch runs when its number is the next
 * one; a later one waits. A gap that the bus does not fill within `gapMs` (a lost bus message,
 * a node that died between commit and publish, a bus outage) is read back from Postgres by
 * cursor, as Synapse workers and Centrifugo's Postgres broker do; notices in such a batch are
 * not stored, so the runtime re-reads presence afterwards (`onFilled`).
 *
 * On a single node batches have no number and run at once: the same path, with nothing to wait for.
 *
 * @example
 * const stream = new OrderedStream({ start: head, fill, applyRemote, gapMs: 250 });
 * writer = new BatchWriter(store, { ordered: true, sink: stream });
 * bus.subscribe((b) => stream.remote(b.number, b.entries));
 */
import type { CommitSink, CommittedBatch, StreamEntry } from './batch-writer.js';

export interface OrderedStreamOptions {
  /** The last batch number already delivered (the stream head when the node started). */
  start: number;
  /** Reads committed messages of batches `from`..`to` (inclusive) back from the store, by batch. */
  fill(from: number, to: number): Promise<Map<number, StreamEntry[]>>;
  /** Applies what another node committed (messages and events), in order. */
  applyRemote(entries: StreamEntry[]): void;
  /** Tells the bus about a batch this node committed. */
  publish(number: number, entries: StreamEntry[]): void;
  /** How long a gap may wait for the bus before it is read from the store. */
  gapMs?: number;
  /** A gap was filled from the store (events in it were lost). */
  onFilled?(from: number, to: number): void;
  onError?(error: Error): void;
}

type Pending = { local: true; run: () => void } | { local: false; entries: StreamEntry[] };

export class OrderedStream implements CommitSink {
  readonly #options: OrderedStreamOptions;
  readonly #gapMs: number;
  /** The last batch delivered here. */
  #last: number;
  /** The highest batch known to exist (from the bus, this node, or the store's head). */
  #known: number;
  readonly #pending = new Map<number, Pending>();
  #gapTimer: NodeJS.Timeout | null = null;
  #filling = false;
  #fills = 0;

  constructor(options: OrderedStreamOptions) {
    this.#options = options;
    this.#gapMs = options.gapMs ?? 250;
    this.#last = options.start;
    this.#known = options.start;
  }

  get last(): number {
    return this.#last;
  }

  /** Batches waiting for an earlier one. */
  get waiting(): number {
    return this.#pending.size;
  }

  /** Gaps read back from the store so far. */
  get fills(): number {
    return this.#fills;
  }

  /** This node's writer committed a batch. */
  committed(batch: CommittedBatch): void {
    if (batch.number === null) return batch.runLocal();
    this.#options.publish(batch.number, batch.entries);
    this.#pending.set(batch.number, { local: true, run: batch.runLocal });
    this.#note(batch.number);
    this.#drain();
  }

  /** Another node's batch, from the bus. Anything already delivered (or read from the store) is ignored. */
  remote(number: number, entries: StreamEntry[]): void {
    if (number <= this.#last || this.#pending.has(number)) return;
    this.#pending.set(number, { local: false, entries });
    this.#note(number);
    this.#drain();
  }

  /** The store's head: batches up to it exist, whether or not the bus brought them. */
  head(number: number): void {
    this.#note(number);
    this.#drain();
  }

  stop(): void {
    if (this.#gapTimer) clearTimeout(this.#gapTimer);
    this.#gapTimer = null;
  }

  #note(number: number): void {
    if (number > this.#known) this.#known = number;
  }

  #drain(): void {
    for (;;) {
      const next = this.#pending.get(this.#last + 1);
      if (!next) break;
      this.#pending.delete(this.#last + 1);
      this.#last++;
      this.#run(next);
    }
    if (this.#known > this.#last) this.#armGap();
    else if (this.#gapTimer) {
      clearTimeout(this.#gapTimer);
      this.#gapTimer = null;
    }
  }

  #run(batch: Pending): void {
    try {
      if (batch.local) batch.run();
      else this.#options.applyRemote(batch.entries);
    } catch (err) {
      this.#options.onError?.(err as Error);
    }
  }

  #armGap(): void {
    if (this.#gapTimer || this.#filling) return;
    const waitingFor = this.#last + 1;
    this.#gapTimer = setTimeout(() => {
      this.#gapTimer = null;
      if (this.#last + 1 === waitingFor && !this.#pending.has(waitingFor)) void this.#fill();
      else this.#drain();
    }, this.#gapMs);
    this.#gapTimer.unref();
  }

  /** Reads the missing batches (up to the first one held, or the known head) from the store. */
  async #fill(): Promise<void> {
    const from = this.#last + 1;
    let to = this.#known;
    for (const n of this.#pending.keys()) if (n > this.#last && n - 1 < to) to = n - 1;
    if (to < from) return this.#drain();
    this.#filling = true;
    try {
      const stored = await this.#options.fill(from, to);
      // The bus may have brought some of them meanwhile: those run as they came (with their notices).
      for (let n = Math.max(from, this.#last + 1); n <= to; n++) {
        const came = this.#pending.get(n);
        this.#pending.delete(n);
        this.#last = n;
        if (came) this.#run(came);
        else this.#run({ local: false, entries: stored.get(n) ?? [] });
      }
      this.#fills++;
      this.#options.onFilled?.(from, to);
    } catch (err) {
      this.#options.onError?.(err as Error);
    } finally {
      this.#filling = false;
      this.#drain();
    }
  }
}
