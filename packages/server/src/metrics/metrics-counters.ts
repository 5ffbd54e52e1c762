/**
 * The snapshot arithmetic, without timers, I/O or a clock of its own: counts events as they happen
 * and closes an interval into a `MetricSnapshot` when asked, given the time and the live stats.
 *
 * A snapshot is bounded whatever the number of rooms: it holds only rooms with members now or with
 * activity (messages, joins, leaves) within `activeWindowMs`; keyed and invite-only rooms are summed
 * under `(private)`; of the public rooms the `maxRooms` busiest are named and the rest summed under
 * `(other)`. The state kept between intervals is bounded the same way.
 */
import type { ChatEvents, ChatStats, EdgeEvents } from './chat-events.js';
import { SNAPSHOT_FORMAT, type MetricSnapshot, type RoomSnapshot } from './metric-snapshot.js';
import { RestrictedRooms } from './restricted-rooms.js';
import { OTHER_ROOMS, PRIVATE_ROOMS, isAggregateLabel } from './room-labels.js';

/** Rooms without members drop out of snapshots this long after their last message, join or leave. */
export const DEFAULT_ACTIVE_WINDOW_MS = 5 * 60_000;
/** Public rooms named per snapshot; the rest are summed under `(other)`. */
export const DEFAULT_MAX_ROOMS = 200;
/** Totals of rooms that dropped out are kept for this many rooms, so a room that returns continues. */
export const DORMANT_CAPACITY = 10_000;

interface RoomCount {
  messages: number;
  joins: number;
  leaves: number;
}

/** A room metrics currently follows: active within the window, or named with members. */
interface TrackedRoom {
  /** Close time of the last interval with activity; -Infinity when it only had members. */
  lastActiveAt: number;
  /** Counted under its own name (in intervals where it was named). */
  totals: RoomCount;
}

/** One closed interval, kept for the moving average. */
interface ClosedInterval {
  durationMs: number;
  total: number;
  perRoom: Map<string, number>;
}

/** Cumulative counters since metrics began; seeded from the last stored snapshot after a restart. */
export interface CumulativeTotals {
  messagesTotal: number;
  privateMessagesTotal: number;
  connectionsOpenedTotal: number;
  connectionsClosedTotal: number;
  /** Connections refused by the per-address limit since the server started. */
  connectionsRefusedTotal: number;
  /** Commands that waited for flood budget since the server started. */
  floodDelayedTotal: number;
}

/** What `prometheus()` reads between snapshots: the cumulative totals, current interval included. */
export type LiveCounters = Readonly<CumulativeTotals>;

export interface MetricsCountersOptions {
  /** Intervals in the moving average. */
  window: number;
  startedAt: number;
  /** Default DEFAULT_ACTIVE_WINDOW_MS. */
  activeWindowMs?: number;
  /** Default DEFAULT_MAX_ROOMS. */
  maxRooms?: number;
  /** Shared with the queries, so they hide the same rooms (default: a new one). */
  restricted?: RestrictedRooms;
}

/** A room of the snapshot being closed. */
interface Candidate {
  room: string;
  count: RoomCount;
  windowMessages: number;
  members: number;
}

const NO_COUNT: RoomCount = Object.freeze({ messages: 0, joins: 0, leaves: 0 });

/**
 * @example
 * const counters = new MetricsCounters({ window: 5, startedAt: 0 });
 * counters.message('general');
 * const snapshot = counters.close(2000, stats); // rooms.general.mps === 0.5
 */
export class MetricsCounters implements ChatEvents, EdgeEvents {
  readonly window: number;
  readonly activeWindowMs: number;
  readonly maxRooms: number;
  readonly restricted: RestrictedRooms;
  #intervalStart: number;
  #current = new Map<string, RoomCount>();
  #currentTotal = 0;
  #currentPrivate = 0;
  #currentRefused = 0;
  #currentDelayed = 0;
  #history: ClosedInterval[] = [];
  #totals: CumulativeTotals = {
    messagesTotal: 0,
    privateMessagesTotal: 0,
    connectionsOpenedTotal: 0,
    connectionsClosedTotal: 0,
    connectionsRefusedTotal: 0,
    floodDelayedTotal: 0,
  };
  readonly #tracked = new Map<string, TrackedRoom>();
  /** Totals of `(other)` and `(private)`. */
  readonly #aggregates = new Map<string, RoomCount>();
  /** Totals of rooms no longer tracked (or seeded after a restart), oldest first, bounded. */
  readonly #dormant = new Map<string, RoomCount>();

  constructor(options: MetricsCountersOptions) {
    if (!Number.isInteger(options.window) || options.window < 1) {
      throw new RangeError(`metrics window must be a whole number of intervals >= 1, got ${options.window}`);
    }
    const activeWindowMs = options.activeWindowMs ?? DEFAULT_ACTIVE_WINDOW_MS;
    if (!Number.isSafeInteger(activeWindowMs) || activeWindowMs < 0) {
      throw new RangeError(`metrics active window must be a whole number of milliseconds >= 0, got ${activeWindowMs}`);
    }
    const maxRooms = options.maxRooms ?? DEFAULT_MAX_ROOMS;
    if (!Number.isSafeInteger(maxRooms) || maxRooms < 0) {
      throw new RangeError(`metrics max rooms must be a whole number >= 0, got ${maxRooms}`);
    }
    this.window = options.window;
    this.activeWindowMs = activeWindowMs;
    this.maxRooms = maxRooms;
    this.restricted = options.restricted ?? new RestrictedRooms();
    this.#intervalStart = options.startedAt;
  }

  // ----- hot path: only bump counters -----
  // `restricted` is what the core says about the room at the time of the event: a room that is
  // keyed, then emptied and evicted within one interval is still hidden when the interval closes.

  message(room: string, restricted = false): void {
    this.#room(room, restricted).messages++;
    this.#currentTotal++;
  }

  privateMessage(): void {
    this.#currentPrivate++;
  }

  join(room: string, restricted = false): void {
    this.#room(room, restricted).joins++;
  }

  leave(room: string, restricted = false): void {
    this.#room(room, restricted).leaves++;
  }

  connectionOpened(): void {
    this.#totals.connectionsOpenedTotal++;
  }

  connectionClosed(): void {
    this.#totals.connectionsClosedTotal++;
  }

  connectionRefused(): void {
    this.#currentRefused++;
  }

  floodDelayed(): void {
    this.#currentDelayed++;
  }

  // ----- snapshots -----

  /** Continues the cumulative counters from a snapshot stored before a restart. */
  seed(previous: MetricSnapshot): void {
    const totals = this.#totals;
    totals.messagesTotal = previous.totals.messagesTotal ?? 0;
    totals.privateMessagesTotal = previous.totals.privateMessagesTotal ?? 0;
    for (const [room, r] of Object.entries(previous.rooms)) {
      const t = { messages: r.messagesTotal ?? 0, joins: r.joinsTotal ?? 0, leaves: r.leavesTotal ?? 0 };
      if (isAggregateLabel(room)) {
        this.#aggregates.set(room, t);
        continue;
      }
      this.#retire(room, t);
      // Active when it was stored: it stays in snapshots for the rest of its window.
      if (previous.v === SNAPSHOT_FORMAT && (r.messages > 0 || r.joins > 0 || r.leaves > 0))
        this.#track(room).lastActiveAt = previous.ts;
    }
  }

  /** Start of the interval that is being counted now. */
  get intervalStart(): number {
    return this.#intervalStart;
  }

  /** Rooms followed between intervals (active in the window, or named with members): for tests. */
  get trackedRooms(): number {
    return this.#tracked.size;
  }

  /**
   * Closes the current interval at `now` and returns its snapshot: instant MPS over the interval,
   * the time-weighted moving average over the last `window` intervals, joins/leaves in the interval
   * and cumulative, members and connections as `stats` reports them now.
   * Rooms: those with members now, activity within `activeWindowMs` or messages still in the moving
   * average; restricted ones summed under `(private)`, public ones past the `maxRooms` busiest
   * summed under `(other)`.
   */
  close(now: number, stats: ChatStats): MetricSnapshot {
    // A clock that stepped backwards still yields a sane, non-negative interval.
    const durationMs = Math.max(0, now - this.#intervalStart);
    const members = stats.roomMembers();
    const current = this.#current;

    const perRoom = new Map<string, number>();
    for (const [room, c] of current) if (c.messages > 0) perRoom.set(room, c.messages);
    this.#history.push({ durationMs, total: this.#currentTotal, perRoom });
    if (this.#history.length > this.window) this.#history.shift();
    const windowMs = this.#history.reduce((sum, h) => sum + h.durationMs, 0);
    const windowMessages = new Map<string, number>();
    for (const h of this.#history)
      for (const [room, n] of h.perRoom) windowMessages.set(room, (windowMessages.get(room) ?? 0) + n);

    for (const room of current.keys()) this.#track(room).lastActiveAt = now;

    // Members now, activity within the window, or messages still in the moving average.
    const horizon = now - this.activeWindowMs;
    const names = new Set<string>();
    for (const [room, n] of members) if (n > 0) names.add(room);
    for (const [room, t] of this.#tracked) if (t.lastActiveAt >= horizon) names.add(room);
    for (const room of windowMessages.keys()) names.add(room);

    const open: Candidate[] = [];
    const hidden: Candidate[] = [];
    let joins = 0;
    let leaves = 0;
    for (const room of names) {
      const inMemory = members.has(room);
      let restricted: boolean;
      if (inMemory) {
        restricted = stats.isRestricted(room);
        this.restricted.mark(room, restricted);
      } else {
        restricted = this.restricted.has(room);
      }
      const count = current.get(room) ?? NO_COUNT;
      joins += count.joins;
      leaves += count.leaves;
      const candidate = { room, count, windowMessages: windowMessages.get(room) ?? 0, members: members.get(room) ?? 0 };
      (restricted ? hidden : open).push(candidate);
    }

    let named = open;
    let other: Candidate[] = [];
    if (open.length > this.maxRooms) {
      open.sort(busiestFirst);
      named = open.slice(0, this.maxRooms);
      other = open.slice(this.maxRooms);
    }
    named.sort((a, b) => (a.room < b.room ? -1 : a.room > b.room ? 1 : 0));

    const rooms: Record<string, RoomSnapshot> = {};
    for (const c of named) {
      const t = this.#track(c.room).totals;
      rooms[c.room] = this.#entry(c.count, t, c.windowMessages, c.members, durationMs, windowMs);
    }
    if (other.length > 0) rooms[OTHER_ROOMS] = this.#aggregate(OTHER_ROOMS, other, durationMs, windowMs);
    if (hidden.length > 0) rooms[PRIVATE_ROOMS] = this.#aggregate(PRIVATE_ROOMS, hidden, durationMs, windowMs);

    // Forget rooms that are idle past the window and have nobody in them (their totals are kept, bounded).
    for (const [room, t] of this.#tracked) {
      if (t.lastActiveAt < horizon && !((members.get(room) ?? 0) > 0) && !windowMessages.has(room)) {
        this.#tracked.delete(room);
        this.#retire(room, t.totals);
      }
    }

    const totals = this.#totals;
    totals.messagesTotal += this.#currentTotal;
    totals.privateMessagesTotal += this.#currentPrivate;
    totals.connectionsRefusedTotal += this.#currentRefused;
    totals.floodDelayedTotal += this.#currentDelayed;
    const windowTotal = this.#history.reduce((sum, h) => sum + h.total, 0);
    const snapshot: MetricSnapshot = {
      ts: now,
      intervalMs: durationMs,
      v: SNAPSHOT_FORMAT,
      rooms,
      totals: {
        mps: rate(this.#currentTotal, durationMs),
        avgMps: rate(windowTotal, windowMs),
        messages: this.#currentTotal,
        messagesTotal: totals.messagesTotal,
        privateMessages: this.#currentPrivate,
        privateMessagesTotal: totals.privateMessagesTotal,
        joins,
        leaves,
        connections: stats.connections(),
        rooms: names.size,
        connectionsRefused: this.#currentRefused,
        connectionsRefusedTotal: totals.connectionsRefusedTotal,
        floodDelayed: this.#currentDelayed,
        floodDelayedTotal: totals.floodDelayedTotal,
      },
    };

    this.#current = new Map();
    this.#currentTotal = 0;
    this.#currentPrivate = 0;
    this.#currentRefused = 0;
    this.#currentDelayed = 0;
    this.#intervalStart = now;
    return snapshot;
  }

  /** Cumulative counters including the interval still being counted (for Prometheus). */
  live(): LiveCounters {
    return {
      messagesTotal: this.#totals.messagesTotal + this.#currentTotal,
      privateMessagesTotal: this.#totals.privateMessagesTotal + this.#currentPrivate,
      connectionsOpenedTotal: this.#totals.connectionsOpenedTotal,
      connectionsClosedTotal: this.#totals.connectionsClosedTotal,
      connectionsRefusedTotal: this.#totals.connectionsRefusedTotal + this.#currentRefused,
      floodDelayedTotal: this.#totals.floodDelayedTotal + this.#currentDelayed,
    };
  }

  #entry(
    c: RoomCount,
    t: RoomCount,
    windowMessages: number,
    members: number,
    durationMs: number,
    windowMs: number,
  ): RoomSnapshot {
    t.messages += c.messages;
    t.joins += c.joins;
    t.leaves += c.leaves;
    return {
      mps: rate(c.messages, durationMs),
      avgMps: rate(windowMessages, windowMs),
      messages: c.messages,
      messagesTotal: t.messages,
      joins: c.joins,
      leaves: c.leaves,
      joinsTotal: t.joins,
      leavesTotal: t.leaves,
      members,
    };
  }

  #aggregate(label: string, rooms: readonly Candidate[], durationMs: number, windowMs: number): RoomSnapshot {
    const sum = { messages: 0, joins: 0, leaves: 0 };
    let windowMessages = 0;
    let members = 0;
    for (const c of rooms) {
      sum.messages += c.count.messages;
      sum.joins += c.count.joins;
      sum.leaves += c.count.leaves;
      windowMessages += c.windowMessages;
      members += c.members;
    }
    let t = this.#aggregates.get(label);
    if (!t) {
      t = { messages: 0, joins: 0, leaves: 0 };
      this.#aggregates.set(label, t);
    }
    return { ...this.#entry(sum, t, windowMessages, members, durationMs, windowMs), rooms: rooms.length };
  }

  #room(room: string, restricted: boolean): RoomCount {
    if (restricted) this.restricted.mark(room, true);
    let c = this.#current.get(room);
    if (!c) {
      c = { messages: 0, joins: 0, leaves: 0 };
      this.#current.set(room, c);
    }
    return c;
  }

  #track(room: string): TrackedRoom {
    let t = this.#tracked.get(room);
    if (!t) {
      const totals = this.#dormant.get(room) ?? { messages: 0, joins: 0, leaves: 0 };
      this.#dormant.delete(room);
      t = { lastActiveAt: -Infinity, totals };
      this.#tracked.set(room, t);
    }
    return t;
  }

  #retire(room: string, totals: RoomCount): void {
    this.#dormant.delete(room);
    this.#dormant.set(room, totals);
    if (this.#dormant.size > DORMANT_CAPACITY) this.#dormant.delete(this.#dormant.keys().next().value!);
  }
}

/** Most messages in the moving average plus joins and leaves now, then most members, then by name. */
function busiestFirst(a: Candidate, b: Candidate): number {
  const activity =
    b.windowMessages + b.count.joins + b.count.leaves - (a.windowMessages + a.count.joins + a.count.leaves);
  if (activity !== 0) return activity;
  if (b.members !== a.members) return b.members - a.members;
  return a.room < b.room ? -1 : a.room > b.room ? 1 : 0;
}

/** Events per second, rounded to 3 decimals; 0 over an empty interval. */
export function rate(count: number, ms: number): number {
  if (ms <= 0) return 0;
  return Math.round((count * 1000 * 1000) / ms) / 1000;
}
