/**
 * The shape of one metrics snapshot: what `/api/metrics`, the live feed, the CSV writer and the
 * `metric_snapshots` table all carry. Counts only: never message text or private-message metadata.
 *
 * Room keys are room names, or one of two aggregate labels (room-labels.ts): `(private)` sums every
 * keyed or invite-only room, `(other)` sums the public rooms beyond the cap. A snapshot holds only
 * rooms with members now or with activity (messages, joins, leaves) in the recent window.
 */

/** One room (or one aggregate label) in one snapshot. */
export interface RoomSnapshot {
  /** Instant messages per second over this snapshot's interval. */
  mps: number;
  /** Moving average of messages per second over the last `window` intervals (this one included). */
  avgMps: number;
  /** Room messages in this interval. */
  messages: number;
  /**
   * Room messages counted under this key since metrics began (continues across restarts). For a
   * room: the intervals in which it was listed by name; for an aggregate: what it summed.
   */
  messagesTotal: number;
  /** Joins in this interval. */
  joins: number;
  /** Leaves (part, quit, disconnect) in this interval. */
  leaves: number;
  joinsTotal: number;
  leavesTotal: number;
  /** Members online in the room when the snapshot was taken (summed for an aggregate). */
  members: number;
  /** Only on an aggregate: how many rooms it stands for. */
  rooms?: number;
}

/** Across all rooms. */
export interface TotalsSnapshot {
  mps: number;
  avgMps: number;
  /** Room messages in this interval. */
  messages: number;
  /** Room messages counted since metrics began (continues across restarts). */
  messagesTotal: number;
  /** Private messages in this interval (a count, nothing else). */
  privateMessages: number;
  privateMessagesTotal: number;
  joins: number;
  leaves: number;
  /** Open client connections when the snapshot was taken. */
  connections: number;
  /** Rooms this snapshot stands for: the named ones plus those inside the aggregates. */
  rooms: number;
  /**
   * Connections refused by the per-address limit in this interval, and since the server started
   * (absent in snapshots of older servers).
   */
  connectionsRefused?: number;
  connectionsRefusedTotal?: number;
  /** Commands that waited for their connection's flood budget in this interval, and since the server started. */
  floodDelayed?: number;
  floodDelayedTotal?: number;
}

/** Format of the snapshots this server writes: rooms bounded, restricted rooms aggregated. */
export const SNAPSHOT_FORMAT = 2;

export interface MetricSnapshot {
  /** When the snapshot was taken (end of its interval), epoch milliseconds. */
  ts: number;
  /** Length of the interval this snapshot covers, in milliseconds. */
  intervalMs: number;
  /**
   * `2` (SNAPSHOT_FORMAT): rooms bounded and restricted rooms aggregated. Absent in snapshots stored
   * by older servers, whose rooms queries never read (see `roomsOmitted`).
   */
  v?: typeof SNAPSHOT_FORMAT;
  /** Cluster: the node that took this snapshot (each node stores its own; readers sum them). */
  node?: string;
  /** Cluster: how many nodes' snapshots this one sums (only present on a sum). */
  nodes?: number;
  /** How many stored snapshots this one stands for (only present when a query merged several). */
  merged?: number;
  /**
   * Only in query answers: set when a stored snapshot of this point came from an older server (or
   * was too large to read); its totals are counted, its rooms are not.
   */
  roomsOmitted?: true;
  rooms: Record<string, RoomSnapshot>;
  totals: TotalsSnapshot;
}
