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
  /** Current members (online sessions) per room, for every known room. */
  roomMembers(): Map<string, number>;
  connections(): number;
}
