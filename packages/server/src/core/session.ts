/**
 * What the core knows about a connected client. Transports implement it (the connection object is
 * the session), so the core can hand sessions back to the transport without lookups.
 */
import type { Room } from './room.js';

/** NDJSON frames (TCP or WebSocket), the plain-text dialect of `nc`/`telnet`, or IRC (its own port). */
export type Dialect = 'json' | 'plain' | 'irc';

export interface Session {
  readonly id: number;
  readonly dialect: Dialect;
  /** Address of the peer, for logs. */
  readonly remote: string;
  /** Null until the client has chosen a nick. */
  nick: string | null;
  /** Case-folded nick, the key of the nick registry. */
  key: string | null;
  /**
   * Who this session is, null until it has a nick: the key of the account it logged in to, or
   * `~<identity id>` for a client without an account (see identity.ts). Memberships of restricted
   * rooms, invites, room-creator rights and private history belong to the owner, not to the nick.
   */
  owner: string | null;
  /**
   * `user@host` as IRC shows it, for ban masks (`nick!user@host`); absent for the other dialects,
   * which match as `nick!<nick key>@teamchat`.
   */
  userhost?: string;
  /** Rooms this session is in right now. */
  readonly rooms: Set<Room>;
  /** Called when a command that waited for the database or a password check has finished. */
  resume?(): void;
}
