/**
 * What the chat runtime reports to metrics. The runtime calls these synchronously on its hot path,
 * so implementations only bump counters.
 */
export interface ChatEvents {
  /** A room message was stored and delivered. */
  message(room: string): void;
  privateMessage(): void;
  join(room: string): void;
  leave(room: string): void;
  connectionOpened(): void;
  connectionClosed(): void;
}

/**
 * What the transport's edge reports to metrics: what it held back. Called on the hot path too, so
 * implementations only bump counters.
 */
export interface EdgeEvents {
  /** A connection was refused by the per-address connection limit (TC_ERR_TOO_MANY_CONNECTIONS). */
  connectionRefused(): void;
  /** A command had to wait for its connection's flood budget (counted once per waiting command). */
  floodDelayed(): void;
}

/** Read-only view of live chat state that metrics samples each interval. */
export interface ChatStats {
  /** Current members (online sessions) per room, for every room in memory. */
  roomMembers(): Map<string, number>;
  connections(): number;
  /**
   * True while the room is in memory and keyed (+k) or invite-only (+i). Metrics never name such a
   * room; it remembers the answer for rooms that later leave memory. Called on the hot path too
   * (once per room event), so it must be a lookup.
   */
  isRestricted(room: string): boolean;
}
