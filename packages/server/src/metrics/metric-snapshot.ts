/**
 * The shape of one metrics snapshot: what `/api/metrics`, the live feed, the CSV writer and the
 * `metric_snapshots` table all carry. Counts only: never message text or private-message metadata.
 */

/** One room in one snapshot. */
export interface RoomSnapshot {
  /** Instant messages per second over this snapshot's interval. */
  mps: number;
  /** Moving average of messages per second over the last `window` intervals (this one included). */
  avgMps: number;
  /** Room messages in this interval. */
  messages: number;
  /** Room messages counted since metrics began (continues across restarts). */
  messagesTotal: number;
  /** Joins in this interval. */
  joins: number;
  /** Leaves (part, quit, disconnect) in this interval. */
  leaves: number;
  joinsTotal: number;
  leavesTotal: number;
  /** Members online in the room when the snapshot was taken. */
  members: number;
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
  /** Rooms in this snapshot. */
  rooms: number;
}

export interface MetricSnapshot {
  /** When the snapshot was taken (end of its interval), epoch milliseconds. */
  ts: number;
  /** Length of the interval this snapshot covers, in milliseconds. */
  intervalMs: number;
  /** How many stored snapshots this one stands for (only present when a query merged several). */
  merged?: number;
  rooms: Record<string, RoomSnapshot>;
  totals: TotalsSnapshot;
}
