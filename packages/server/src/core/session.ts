/**
 * What the core knows about a connected client. Transports implement it (the connection object is
 * the session), so the core can hand sessions back to the transport without lookups.
 */
import type { Room } from './room.js';

/** NDJSON frames (TCP or WebSocket) or the plain-text dialect of `nc`/`telnet`. */
export type Dialect = 'json' | 'plain';

export interface Session {
  readonly id: number;
  readonly dialect: Dialect;
  /** Address of the peer, for logs. */
  readonly remote: string;
  /** Null until the client has chosen a nick. */
  nick: string | null;
  /** Case-folded nick, the key of the nick registry and of memberships. */
  key: string | null;
  /** Rooms this session is in right now. */
  readonly rooms: Set<Room>;
  /** Called when a login that was checking a password has finished (either way). */
  loginSettled?(): void;
}
