/**
 * The server's metrics: counts chat events on the hot path, closes a snapshot every interval,
 * pushes it to listeners (the dashboard's live feed) and stores it in `metric_snapshots`,
 * pruning what is older than the retention.
 *
 * Everything it publishes is bounded whatever the number of rooms: a snapshot holds the rooms with
 * members or recent activity, at most `maxRooms` of them by name; keyed and invite-only rooms are
 * never named (summed under `(private)`); queries and CSV exports name at most a fixed number of
 * rooms and refuse ranges that hold more than `queryLimits` allow.
 */
import type { Database } from '../store/database.js';
import type { ChatEvents, ChatStats, EdgeEvents } from './chat-events.js';
import { LatencyHistogram } from './latency-histogram.js';
import { csvChunks, type CsvFormat } from './metrics-csv-stream.js';
import { DEFAULT_ACTIVE_WINDOW_MS, DEFAULT_MAX_ROOMS, MetricsCounters } from './metrics-counters.js';
import { SNAPSHOT_FORMAT, type MetricSnapshot } from './metric-snapshot.js';
import { DEFAULT_QUERY_LIMITS, queryPoints, type QueryLimits } from './metrics-query.js';
import { DEFAULT_HEAVY_SNAPSHOT_BYTES, MetricsStore, type TimeRange } from './metrics-store.js';
import { prometheusText } from './prometheus-text.js';
import { RestrictedRooms } from './restricted-rooms.js';
import { sumNodes } from './sum-nodes.js';

export interface MetricsServiceOptions {
  database: Database;
  stats: ChatStats;
  /** Snapshot interval (default 2000 ms). */
  intervalMs?: number;
  /** Intervals in the moving average (default 5). */
  window?: number;
  /** How long snapshots are kept (default 7 days). */
  retentionMs?: number;
  /**
   * Rooms without members stay in snapshots this long after their last message, join or leave
   * (default DEFAULT_ACTIVE_WINDOW_MS, 5 minutes).
   */
  activeWindowMs?: number;
  /** Public rooms named per snapshot, the busiest first; the rest are summed under `(other)` (default 200). */
  maxRooms?: number;
  /** What one `/api/metrics` answer or CSV export may read (default DEFAULT_QUERY_LIMITS). */
  queryLimits?: Partial<QueryLimits>;
  /** Cluster: this node's id, stored with its snapshots (readers sum the nodes). */
  nodeId?: string;
  /** Clock, for tests. */
  now?: () => number;
  log?: (line: string) => void;
}

export const DEFAULT_INTERVAL_MS = 2000;
export const DEFAULT_WINDOW = 5;
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Old snapshots are deleted at most this often. */
export const PRUNE_EVERY_MS = 60_000;
/** Rooms one `/api/metrics` answer names unless asked otherwise. */
export const DEFAULT_QUERY_ROOMS = 20;

export type SnapshotListener = (snapshot: MetricSnapshot) => void;

export interface MetricsQuery extends TimeRange {
  /** At most this many points; longer ranges merge consecutive snapshots into one point. */
  limit: number;
  /** Rooms named at most, the busiest of the range; the rest are summed under `(other)` (default DEFAULT_QUERY_ROOMS). */
  rooms?: number;
}

export interface MetricsQueryResult {
  /** Snapshots stored in the range. */
  count: number;
  /** Stored snapshots per returned point (1 when nothing was merged). */
  step: number;
  /** Oldest first. */
  snapshots: MetricSnapshot[];
}

/**
 * @example
 * const metrics = new MetricsService({ database, stats, intervalMs: 2000 });
 * metrics.onSnapshot((s) => console.log(s.totals.mps));
 * await metrics.start();
 * metrics.message('general'); // the chat core calls these
 * await metrics.stop();       // stores a final snapshot
 */
export class MetricsService implements ChatEvents, EdgeEvents {
  readonly intervalMs: number;
  readonly window: number;
  readonly retentionMs: number;
  readonly activeWindowMs: number;
  readonly maxRooms: number;
  readonly queryLimits: Readonly<QueryLimits>;
  readonly store: MetricsStore;
  readonly #stats: ChatStats;
  readonly #restricted = new RestrictedRooms();
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #counters: MetricsCounters;
  /** This node's messages, accepted to handed to their deliveries: /metrics only (not in snapshots). */
  readonly #deliveryLatency = new LatencyHistogram();
  readonly #listeners = new Set<SnapshotListener>();
  /** Told this node's own snapshots (a cluster publishes them to the other nodes). */
  readonly #ownListeners = new Set<SnapshotListener>();
  #timer: NodeJS.Timeout | undefined;
  #latest: MetricSnapshot | undefined;
  /** Cluster: the other nodes' latest snapshots (by node id), summed into what listeners see. */
  readonly #others = new Map<string, MetricSnapshot>();
  #writes: Promise<void> = Promise.resolve();
  #storeFailing = false;
  #lastPruneAt = -Infinity;
  #stopped = false;

  constructor(readonly options: MetricsServiceOptions) {
    this.intervalMs = positiveInteger('metrics interval (ms)', options.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.window = positiveInteger('metrics window (intervals)', options.window ?? DEFAULT_WINDOW);
    this.retentionMs = positiveInteger('metrics retention (ms)', options.retentionMs ?? DEFAULT_RETENTION_MS);
    this.#stats = options.stats;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => {});
    this.#counters = new MetricsCounters({
      window: this.window,
      startedAt: this.#now(),
      activeWindowMs: options.activeWindowMs ?? DEFAULT_ACTIVE_WINDOW_MS,
      maxRooms: options.maxRooms ?? DEFAULT_MAX_ROOMS,
      restricted: this.#restricted,
    });
    this.activeWindowMs = this.#counters.activeWindowMs;
    this.maxRooms = this.#counters.maxRooms;
    this.queryLimits = Object.freeze({ ...DEFAULT_QUERY_LIMITS, ...definedOnly(options.queryLimits ?? {}) });
    for (const [name, value] of Object.entries(this.queryLimits)) positiveInteger(`metrics query limit ${name}`, value);
    // A snapshot of this server with more named rooms than the default takes more room when stored.
    this.store = new MetricsStore(options.database, {
      heavyBytes: Math.max(DEFAULT_HEAVY_SNAPSHOT_BYTES, this.maxRooms * 160),
    });
  }

  // ----- ChatEvents: the chat runtime calls these on its hot path -----

  message(room: string): void {
    this.#counters.message(room, this.#stats.isRestricted(room));
  }
  privateMessage(): void {
    this.#counters.privateMessage();
  }
  join(room: string): void {
    this.#counters.join(room, this.#stats.isRestricted(room));
  }
  leave(room: string): void {
    this.#counters.leave(room, this.#stats.isRestricted(room));
  }
  connectionOpened(): void {
    this.#counters.connectionOpened();
  }
  connectionClosed(): void {
    this.#counters.connectionClosed();
  }

  // ----- EdgeEvents: the transport reports what it held back -----

  connectionRefused(): void {
    this.#counters.connectionRefused();
  }
  floodDelayed(): void {
    this.#counters.floodDelayed();
  }

  // ----- the batch writer: how long a message of this node waited for its commit and fan-out -----

  messageDelivered(heldMs: number): void {
    this.#deliveryLatency.record(heldMs);
  }

  // ----- lifecycle -----

  /**
   * Continues the cumulative counters from the last stored snapshot, prunes expired snapshots and
   * starts the snapshot timer. A database that fails here is logged; metrics keep counting.
   */
  async start(): Promise<void> {
    try {
      const previous = await this.store.latest(this.options.nodeId);
      if (previous) {
        this.#counters.seed(previous);
        // One stored by an older server may name restricted rooms, and every room ever made.
        if (previous.v === SNAPSHOT_FORMAT) this.#latest ??= previous;
      }
    } catch (err) {
      this.#storeFailed('reading the last metrics snapshot', err);
    }
    await this.#prune();
    if (this.#stopped || this.#timer) return;
    this.#timer = setInterval(() => void this.tick(), this.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and stores a final snapshot (so a restart continues the totals). */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#stopped) return this.#writes;
    this.#stopped = true;
    await this.tick();
  }

  // ----- snapshots -----

  /** Closes the current interval now: returns the snapshot and pushes it to the listeners (not stored). */
  takeSnapshot(): MetricSnapshot {
    const closed = this.#counters.close(this.#now(), this.#stats);
    const snapshot = this.options.nodeId !== undefined ? { ...closed, node: this.options.nodeId } : closed;
    this.#latest = snapshot;
    for (const own of this.#ownListeners) own(snapshot);
    const shown = this.#withOthers(snapshot);
    for (const listener of this.#listeners) {
      try {
        listener(shown);
      } catch (err) {
        this.#log(`error: a metrics listener failed: ${(err as Error).message}`);
      }
    }
    return snapshot;
  }

  /** Calls `listener` with this node's own snapshots (not summed); returns the unsubscribe function. */
  onOwnSnapshot(listener: SnapshotListener): () => void {
    this.#ownListeners.add(listener);
    return () => this.#ownListeners.delete(listener);
  }

  /** Cluster: another node's snapshot, as the bus brought it. */
  otherNode(snapshot: MetricSnapshot): void {
    if (snapshot.node === undefined || snapshot.node === this.options.nodeId) return;
    this.#others.set(snapshot.node, snapshot);
  }

  /** This node's snapshot plus the other nodes' recent ones (a node silent for 3 intervals is left out). */
  #withOthers(snapshot: MetricSnapshot): MetricSnapshot {
    if (this.#others.size === 0) return snapshot;
    const fresh: MetricSnapshot[] = [snapshot];
    for (const [node, other] of this.#others) {
      if (snapshot.ts - other.ts > 3 * this.intervalMs) this.#others.delete(node);
      else fresh.push(other);
    }
    return sumNodes(fresh);
  }

  /** One timer step: takes a snapshot, then stores it (and prunes when due). Resolves once stored. */
  async tick(): Promise<MetricSnapshot> {
    const snapshot = this.takeSnapshot();
    const write = this.#writes.then(async () => {
      try {
        await this.store.insert(snapshot);
        if (this.#storeFailing) {
          this.#storeFailing = false;
          this.#log('metrics: storing snapshots works again');
        }
      } catch (err) {
        this.#storeFailed('storing a metrics snapshot', err);
      }
      if (snapshot.ts - this.#lastPruneAt >= PRUNE_EVERY_MS) await this.#prune();
    });
    this.#writes = write;
    await write;
    return snapshot;
  }

  /** Calls `listener` with every snapshot from now on; returns the unsubscribe function. */
  onSnapshot(listener: SnapshotListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The last snapshot taken (or, right after a restart, the last one stored); in a cluster, summed with the other nodes'. */
  latest(): MetricSnapshot | undefined {
    return this.#latest && this.#withOthers(this.#latest);
  }

  /** False while storing snapshots fails. */
  get storeHealthy(): boolean {
    return !this.#storeFailing;
  }

  // ----- reading -----

  /** True for a room metrics must not name: restricted now, or last seen restricted. */
  isRestricted(room: string): boolean {
    return this.#restricted.has(room) || this.#stats.isRestricted(room);
  }

  /**
   * Stored snapshots of a range, oldest first, at most `limit` points and `rooms` named rooms: when
   * the range holds more snapshots, runs of consecutive snapshots are merged (counts summed, MPS
   * over the merged time); rooms past the busiest `rooms` are summed under `(other)`.
   * Rejects with a MetricsQueryError (TC_METRICS_TOO_LARGE) when the range holds more than
   * `queryLimits` allow, before reading it.
   */
  async query(query: MetricsQuery): Promise<MetricsQueryResult> {
    return queryPoints(this.store, {
      from: query.from,
      to: query.to,
      limit: query.limit,
      maxRooms: query.rooms ?? DEFAULT_QUERY_ROOMS,
      isRestricted: (room) => this.isRestricted(room),
      limits: this.queryLimits,
    });
  }

  /**
   * The stored snapshots of a range as CSV chunks (header first), in the `format` layout (wide by
   * default), `rooms` named rooms at most
   * (default `maxRooms`). The first chunk rejects with a MetricsQueryError when the range holds more
   * than `queryLimits.maxCsvSnapshots`.
   */
  csv(range: TimeRange, options: { rooms?: number; format?: CsvFormat } = {}): AsyncGenerator<string> {
    return csvChunks(this.store, range, {
      ...(options.format ? { format: options.format } : {}),
      maxRooms: options.rooms ?? this.maxRooms,
      isRestricted: (room) => this.isRestricted(room),
      maxSnapshots: this.queryLimits.maxCsvSnapshots,
    });
  }

  /** Current counters in the Prometheus text exposition format (per-room series as of the last snapshot). */
  prometheus(): string {
    return prometheusText({
      counters: this.#counters.live(),
      connections: this.#stats.connections(),
      latest: this.#latest,
      deliveryLatency: this.#deliveryLatency.snapshot(),
    });
  }

  async #prune(): Promise<void> {
    const now = this.#now();
    this.#lastPruneAt = now;
    try {
      const deleted = await this.store.prune(now - this.retentionMs);
      if (deleted > 0) this.#log(`metrics: deleted ${deleted} snapshots older than the retention`);
    } catch (err) {
      this.#storeFailed('deleting old metrics snapshots', err);
    }
  }

  #storeFailed(what: string, err: unknown): void {
    if (!this.#storeFailing) this.#log(`error: ${what} failed: ${(err as Error).message}`);
    this.#storeFailing = true;
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function positiveInteger(what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new RangeError(`${what} must be a positive whole number, got ${value}`);
  return value;
}
