/**
 * This node's life in the cluster: a heartbeat in Postgres every second; nodes whose heartbeat
 * stopped are lost (their users shown as gone, their nicks freed); the stream head, so a batch
 * the bus never brought is noticed even when nothing comes after it; and a fresh view of who is
 * where after missed events. Postgres decides; there is no gossip.
 *
 * @example
 * const node = new ClusterNode({ store: clusterStore, core, stream, log });
 * await node.start();
 */
import type { ChatCore } from '../core/chat-core.js';
import type { Session } from '../core/session.js';
import type { OrderedStream } from '../delivery/ordered-stream.js';
import { NODE_STALE_MS, type ClusterStore } from './cluster-store.js';

export interface ClusterNodeOptions<S extends Session> {
  store: ClusterStore;
  core: ChatCore<S>;
  stream: OrderedStream;
  log: (line: string) => void;
  /** Heartbeat and liveness check period (default 1 s). */
  intervalMs?: number;
}

export class ClusterNode<S extends Session> {
  readonly #options: ClusterNodeOptions<S>;
  #timer: NodeJS.Timeout | null = null;
  #ticking = false;
  #resyncWanted = false;
  #failing = false;
  /** After the database was away, every heartbeat is stale for a while: nobody is declared lost until then. */
  #graceUntil = 0;

  constructor(options: ClusterNodeOptions<S>) {
    this.#options = options;
  }

  /** Registers this node and reads who is online elsewhere. */
  async start(): Promise<void> {
    await this.#options.store.register();
    await this.resync();
    this.#timer = setInterval(() => void this.#tick(), this.#options.intervalMs ?? 1_000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Reads the directory of the other nodes again at the next tick (events may have been missed). */
  wantResync(): void {
    this.#resyncWanted = true;
  }

  async resync(): Promise<void> {
    const { users, presence } = await this.#options.store.snapshot();
    this.#options.core.resync(users, presence);
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    const { store, core, stream, log } = this.#options;
    try {
      await store.heartbeat();
      if (this.#failing) this.#graceUntil = Date.now() + 2 * NODE_STALE_MS;
      if (Date.now() >= this.#graceUntil) {
        const live = await store.liveInstances();
        for (const instance of core.knownInstances()) if (!live.has(instance)) core.nodeLost(instance);
        await store.reapDead();
      }
      stream.head(await store.streamHead());
      if (this.#resyncWanted) {
        this.#resyncWanted = false;
        await this.resync();
      }
      if (this.#failing) log('cluster: the database answers again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) log(`error: cluster heartbeat: ${(err as Error).message}`);
      this.#failing = true;
    } finally {
      this.#ticking = false;
    }
  }
}
