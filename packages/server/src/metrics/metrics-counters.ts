/**
 * The snapshot arithmetic, without timers, I/O or a clock of its own: counts events as they happen
 * and closes an interval into a `MetricSnapshot` when asked, given the time and the live stats.
 */
import type { ChatEvents, ChatStats } from './chat-events.js';
import type { MetricSnapshot, RoomSnapshot } from './metric-snapshot.js';

interface RoomCount {
  messages: number;
  joins: number;
  leaves: number;
}

interface RoomTotals {
  messages: number;
  joins: number;
  leaves: number;
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
  rooms: Map<string, RoomTotals>;
}

/** What `prometheus()` and the headline numbers read between snapshots. */
export interface LiveCounters extends CumulativeTotals {
  /** Per room, current interval counts added in. */
  readonly rooms: Map<string, RoomTotals>;
}

/**
 * @example
 * const counters = new MetricsCounters({ window: 5, startedAt: 0 });
 * counters.message('general');
 * const snapshot = counters.close(2000, stats); // rooms.general.mps === 0.5
 */
export class MetricsCounters implements ChatEvents {
  readonly window: number;
  #intervalStart: number;
  #current = new Map<string, RoomCount>();
  #currentTotal = 0;
  #currentPrivate = 0;
  #history: ClosedInterval[] = [];
  #totals: CumulativeTotals = {
    messagesTotal: 0,
    privateMessagesTotal: 0,
    connectionsOpenedTotal: 0,
    connectionsClosedTotal: 0,
    rooms: new Map(),
  };

  constructor(options: { window: number; startedAt: number }) {
    if (!Number.isInteger(options.window) || options.window < 1) {
      throw new RangeError(`metrics window must be a whole number of intervals >= 1, got ${options.window}`);
    }
    this.window = options.window;
    this.#intervalStart = options.startedAt;
  }

  // ----- hot path: only bump counters -----

  message(room: string): void {
    this.#room(room).messages++;
    this.#currentTotal++;
  }

  privateMessage(): void {
    this.#currentPrivate++;
  }

  join(room: string): void {
    this.#room(room).joins++;
  }

  leave(room: string): void {
    this.#room(room).leaves++;
  }

  connectionOpened(): void {
    this.#totals.connectionsOpenedTotal++;
  }

  connectionClosed(): void {
    this.#totals.connectionsClosedTotal++;
  }

  // ----- snapshots -----

  /** Continues the cumulative counters from a snapshot stored before a restart. */
  seed(previous: MetricSnapshot): void {
    const totals = this.#totals;
    totals.messagesTotal = previous.totals.messagesTotal ?? 0;
    totals.privateMessagesTotal = previous.totals.privateMessagesTotal ?? 0;
    for (const [room, r] of Object.entries(previous.rooms)) {
      totals.rooms.set(room, { messages: r.messagesTotal ?? 0, joins: r.joinsTotal ?? 0, leaves: r.leavesTotal ?? 0 });
    }
  }

  /** Start of the interval that is being counted now. */
  get intervalStart(): number {
    return this.#intervalStart;
  }

  /**
   * Closes the current interval at `now` and returns its snapshot: instant MPS over the interval,
   * the time-weighted moving average over the last `window` intervals, joins/leaves in the interval
   * and cumulative, members and connections as `stats` reports them now.
   * Rooms are every room `stats` knows plus any room with activity in the interval or the window.
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

    // Every room the runtime knows, any room active now, and any room still in the moving average.
    const names = new Set<string>([...members.keys(), ...current.keys()]);
    for (const h of this.#history) for (const room of h.perRoom.keys()) names.add(room);
    const rooms: Record<string, RoomSnapshot> = {};
    let joins = 0;
    let leaves = 0;
    for (const room of [...names].sort()) {
      const c = current.get(room) ?? { messages: 0, joins: 0, leaves: 0 };
      const t = this.#roomTotals(room);
      t.messages += c.messages;
      t.joins += c.joins;
      t.leaves += c.leaves;
      joins += c.joins;
      leaves += c.leaves;
      const windowMessages = this.#history.reduce((sum, h) => sum + (h.perRoom.get(room) ?? 0), 0);
      rooms[room] = {
        mps: rate(c.messages, durationMs),
        avgMps: rate(windowMessages, windowMs),
        messages: c.messages,
        messagesTotal: t.messages,
        joins: c.joins,
        leaves: c.leaves,
        joinsTotal: t.joins,
        leavesTotal: t.leaves,
        members: members.get(room) ?? 0,
      };
    }

    const totals = this.#totals;
    totals.messagesTotal += this.#currentTotal;
    totals.privateMessagesTotal += this.#currentPrivate;
    const windowTotal = this.#history.reduce((sum, h) => sum + h.total, 0);
    const snapshot: MetricSnapshot = {
      ts: now,
      intervalMs: durationMs,
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
      },
    };

    this.#current = new Map();
    this.#currentTotal = 0;
    this.#currentPrivate = 0;
    this.#intervalStart = now;
    return snapshot;
  }

  /** Cumulative counters including the interval still being counted (for Prometheus). */
  live(): LiveCounters {
    const rooms = new Map<string, RoomTotals>();
    for (const [room, t] of this.#totals.rooms) rooms.set(room, { ...t });
    for (const [room, c] of this.#current) {
      const t = rooms.get(room) ?? { messages: 0, joins: 0, leaves: 0 };
      rooms.set(room, { messages: t.messages + c.messages, joins: t.joins + c.joins, leaves: t.leaves + c.leaves });
    }
    return {
      messagesTotal: this.#totals.messagesTotal + this.#currentTotal,
      privateMessagesTotal: this.#totals.privateMessagesTotal + this.#currentPrivate,
      connectionsOpenedTotal: this.#totals.connectionsOpenedTotal,
      connectionsClosedTotal: this.#totals.connectionsClosedTotal,
      rooms,
    };
  }

  #room(room: string): RoomCount {
    let c = this.#current.get(room);
    if (!c) {
      c = { messages: 0, joins: 0, leaves: 0 };
      this.#current.set(room, c);
    }
    return c;
  }

  #roomTotals(room: string): RoomTotals {
    let t = this.#totals.rooms.get(room);
    if (!t) {
      t = { messages: 0, joins: 0, leaves: 0 };
      this.#totals.rooms.set(room, t);
    }
    return t;
  }
}

/** Events per second, rounded to 3 decimals; 0 over an empty interval. */
export function rate(count: number, ms: number): number {
  if (ms <= 0) return 0;
  return Math.round((count * 1000 * 1000) / ms) / 1000;
}
