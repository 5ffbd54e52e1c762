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
