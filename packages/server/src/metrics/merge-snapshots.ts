/**
 * Folds stored snapshots into the points of a query answer: each room is relabelled (kept by name,
 * or summed under `(other)` / `(private)`), and a run of consecutive snapshots becomes one point so
 * a long time range fits a bounded answer without losing counts: messages, joins and leaves are
 * summed, MPS is recomputed over the merged time, and the point-in-time values (members,
 * connections, cumulative totals, moving average) come from the last snapshot of the run.
 */
import { SNAPSHOT_FORMAT, type MetricSnapshot, type RoomSnapshot } from './metric-snapshot.js';
import { rate } from './metrics-counters.js';
import { OTHER_ROOMS, PRIVATE_ROOMS, isAggregateLabel } from './room-labels.js';

/** The key a stored room (or aggregate label) is answered under. */
export type RoomLabeller = (room: string) => string;

/** One label in one stored snapshot: its rooms summed. */
interface LabelInRow {
  messages: number;
  joins: number;
  leaves: number;
  messagesTotal: number;
  joinsTotal: number;
  leavesTotal: number;
  avgMps: number;
  members: number;
  /** Rooms summed (aggregates only). */
  rooms: number;
}

/** One label over the run. */
interface LabelInRun {
  messages: number;
  joins: number;
  leaves: number;
  /** From the last snapshot of the run that has the label. */
  latest: LabelInRow;
}

/**
 * @example
 * const folder = new SnapshotFolder((room) => (keep.has(room) ? room : '(other)'));
 * for (const s of stored) folder.add(s);
 * const point = folder.take(); // one point for the whole run
 */
export class SnapshotFolder {
  readonly #label: RoomLabeller;
  #run: MetricSnapshot[] = [];
  #labels = new Map<string, LabelInRun>();
  #lastRow = new Map<string, LabelInRow>();

  constructor(label: RoomLabeller) {
    this.#label = label;
  }

  /** Snapshots added since the last `take()`. */
  get size(): number {
    return this.#run.length;
  }

  add(snapshot: MetricSnapshot): void {
    const row = new Map<string, LabelInRow>();
    for (const [room, r] of Object.entries(snapshot.rooms)) {
      const label = this.#label(room);
      let l = row.get(label);
      if (!l) {
        l = {
          messages: 0,
          joins: 0,
          leaves: 0,
          messagesTotal: 0,
          joinsTotal: 0,
          leavesTotal: 0,
          avgMps: 0,
          members: 0,
          rooms: 0,
        };
        row.set(label, l);
      }
      l.messages += r.messages ?? 0;
      l.joins += r.joins ?? 0;
      l.leaves += r.leaves ?? 0;
      l.messagesTotal += r.messagesTotal ?? 0;
      l.joinsTotal += r.joinsTotal ?? 0;
      l.leavesTotal += r.leavesTotal ?? 0;
      l.avgMps += r.avgMps ?? 0;
      l.members += r.members ?? 0;
      l.rooms += r.rooms ?? 1;
    }
    for (const [label, l] of row) {
      const run = this.#labels.get(label);
      if (run) {
        run.messages += l.messages;
        run.joins += l.joins;
        run.leaves += l.leaves;
        run.latest = l;
      } else {
        this.#labels.set(label, { messages: l.messages, joins: l.joins, leaves: l.leaves, latest: l });
      }
    }
    this.#lastRow = row;
    this.#run.push(snapshot);
  }

  /** The point for the snapshots added since the last call (at least one); starts a new run. */
  take(): MetricSnapshot {
    const run = this.#run;
    if (run.length === 0) throw new RangeError('SnapshotFolder.take needs at least one snapshot');
    const last = run[run.length - 1];
    const intervalMs = run.reduce((sum, s) => sum + s.intervalMs, 0);
    const rooms: Record<string, RoomSnapshot> = {};
    for (const label of orderLabels(this.#labels.keys())) {
      const l = this.#labels.get(label)!;
      const entry: RoomSnapshot = {
        mps: rate(l.messages, intervalMs),
        avgMps: round3(l.latest.avgMps),
        messages: l.messages,
        messagesTotal: l.latest.messagesTotal,
        joins: l.joins,
        leaves: l.leaves,
        joinsTotal: l.latest.joinsTotal,
        leavesTotal: l.latest.leavesTotal,
        members: this.#lastRow.get(label)?.members ?? 0,
      };
      if (isAggregateLabel(label)) entry.rooms = this.#lastRow.get(label)?.rooms ?? 0;
      rooms[label] = entry;
    }
    const sum = (pick: (s: MetricSnapshot) => number) => run.reduce((total, s) => total + pick(s), 0);
    const messages = sum((s) => s.totals.messages);
    const point: MetricSnapshot = {
      ts: last.ts,
      intervalMs,
      ...(run.every((s) => s.v === SNAPSHOT_FORMAT) ? { v: SNAPSHOT_FORMAT } : {}),
      ...(run.length > 1 || last.merged !== undefined ? { merged: sum((s) => s.merged ?? 1) } : {}),
      // Points of a cluster: how many nodes the busiest interval summed.
      ...(run.some((s) => s.nodes !== undefined) ? { nodes: Math.max(...run.map((s) => s.nodes ?? 1)) } : {}),
      ...(run.some((s) => s.roomsOmitted) ? { roomsOmitted: true as const } : {}),
      rooms,
      totals: {
        ...last.totals,
        mps: rate(messages, intervalMs),
        messages,
        privateMessages: sum((s) => s.totals.privateMessages),
        joins: sum((s) => s.totals.joins),
        leaves: sum((s) => s.totals.leaves),
        ...(run.some((s) => s.totals.connectionsRefused !== undefined)
          ? { connectionsRefused: sum((s) => s.totals.connectionsRefused ?? 0) }
          : {}),
        ...(run.some((s) => s.totals.floodDelayed !== undefined)
          ? { floodDelayed: sum((s) => s.totals.floodDelayed ?? 0) }
          : {}),
      },
    };
    this.#run = [];
    this.#labels = new Map();
    this.#lastRow = new Map();
    return point;
  }
}

/** Room names in order, then `(other)`, then `(private)`. */
function orderLabels(labels: Iterable<string>): string[] {
  const all = [...labels];
  const names = all.filter((l) => !isAggregateLabel(l)).sort();
  for (const aggregate of [OTHER_ROOMS, PRIVATE_ROOMS]) if (all.includes(aggregate)) names.push(aggregate);
  return names;
}

/** Sums of rounded rates stay at 3 decimals. */
function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * Merges a run of snapshots into one point, every room kept by name.
 *
 * @example
 * mergeSnapshots([a, b, c]) // { ts: c.ts, intervalMs: a+b+c, merged: 3, ... }
 */
export function mergeSnapshots(run: readonly MetricSnapshot[]): MetricSnapshot {
  if (run.length === 0) throw new RangeError('mergeSnapshots needs at least one snapshot');
  if (run.length === 1) return run[0];
  const folder = new SnapshotFolder((room) => room);
  for (const s of run) folder.add(s);
  return folder.take();
}
