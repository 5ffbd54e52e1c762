/**
 * The storage port. The chat runtime talks only to this interface; `pglite/` and `postgres/`
 * provide it over one Kysely schema and one set of SQL migrations (../../../../migrations).
 */
import type { PrivateMessage, RoomMessage } from '@teamchat/protocol';

/** A room message waiting to be stored (it gets its id from the database). */
export interface NewRoomMessage {
  kind: 'room';
  /** Reserved with `reserveIds`; absent: the database assigns one. All or none in a batch. */
  id?: number;
  room: string;
  nick: string;
  text: string;
  action: boolean;
  /** Server time, epoch milliseconds. */
  ts: number;
}

export interface NewPrivateMessage {
  kind: 'pm';
  id?: number;
  from: string;
  to: string;
  /** Owners (see migrations/004) of the sender and the recipient: private history is read by owner. */
  fromOwner?: string;
  toOwner?: string;
  text: string;
  action: boolean;
  ts: number;
}

export type NewMessage = NewRoomMessage | NewPrivateMessage;

/**
 * Durable changes to chat state other than messages, applied in order within a batch.
 * The `nick` of memberships and invites, and a room's `creator`, are owners (migrations/004): an
 * account's nick key, or `~<identity id>`.
 */
export type StateWrite =
  /** A new room; `creator` (a nick key) may change its modes. */
  | { op: 'room'; room: string; ts: number; creator?: string }
  | { op: 'membership-add'; nick: string; room: string; ts: number }
  | { op: 'membership-remove'; nick: string; room: string }
  | { op: 'membership-rename'; from: string; to: string }
  | { op: 'topic'; room: string; topic: string | null; by: string; ts: number }
  /** A nick registered (or came back): records it in `users`, keeping its latest display form. `nick` is the display nick. */
  | { op: 'user'; nick: string; ts: number }
  /** A nick registered, or its password changed: `hash` is the encoded scrypt hash (never the password). */
  | { op: 'account'; nick: string; hash: string; ts: number }
  /** A room's modes: key hash (+k) or null, invite-only (+i). Turning +i off forgets the room's invites. */
  | { op: 'room-mode'; room: string; keyHash: string | null; inviteOnly: boolean }
  /** `nick` (an owner) is invited into `room` by `by`. */
  | { op: 'invite'; room: string; nick: string; by: string; ts: number }
  /** A resume identity: `secretHash` is the SHA-256 (hex) of the secret part of its token. */
  | { op: 'identity'; id: string; secretHash: string; ts: number }
  /**
   * Everything `from` owns (memberships, invites, rooms it created, its private messages) passes to
   * `to`: an unregistered user registered their nick, so their identity becomes the account.
   */
  | { op: 'owner-rename'; from: string; to: string };

/** Everything written in one transaction. */
export interface WriteBatch {
  messages: NewMessage[];
  state: StateWrite[];
}

export interface StoredRoom {
  name: string;
  topic: string | null;
  topicBy: string | null;
  createdAt: number;
  /** Nick key of the creator; null when unknown (rooms created before accounts existed). */
  creator?: string | null;
  /** The room key's scrypt hash (+k); null: no key. */
  keyHash?: string | null;
  inviteOnly?: boolean;
}

/** What the runtime loads into memory at start. */
export interface StoreSnapshot {
  rooms: StoredRoom[];
  memberships: { nick: string; room: string }[];
  /** For each room, its latest `recentPerRoom` messages; oldest first within a room. */
  recent: RoomMessage[];
  /** Registered nicks (by key) with their password hashes. */
  accounts?: { nick: string; hash: string }[];
  /** Invitations into invite-only rooms (nick keys). */
  invites?: { room: string; nick: string }[];
}

/** A room read back into memory when someone joins it (rooms with nobody in them leave memory). */
export interface LoadedRoom {
  room: StoredRoom;
  /** Owners invited into it. */
  invites: string[];
  /** Its latest messages, oldest first (at most the `recent` asked for). */
  recent: RoomMessage[];
}

export interface HistoryQuery {
  /** Only ids below this (older page). */
  before?: number;
  /** Only ids above this (newer), oldest first. */
  after?: number;
  limit: number;
}

export interface MessageStore {
  loadSnapshot(recentPerRoom: number): Promise<StoreSnapshot>;
  /**
   * Stores a batch in one transaction: one multi-row insert for the messages, then the state writes
   * in order. Resolves with the message ids, in the order of `batch.messages`; rejects (and stores
   * nothing) when the transaction fails.
   */
  writeBatch(batch: WriteBatch): Promise<number[]>;
  /**
   * A page of a room's messages, oldest first. With `after`: the first `limit` messages above it
   * (and below `before`, when both are given). Otherwise: the latest `limit` messages below
   * `before` (or overall).
   */
  roomHistory(room: string, query: HistoryQuery): Promise<RoomMessage[]>;
  /**
   * Private messages sent or received by `owner` (an account's nick key or `~<identity>`, see
   * migrations/004), optionally only those with the nick `peer`.
   */
  privateHistory(owner: string, query: HistoryQuery & { peer?: string }): Promise<PrivateMessage[]>;
  /** One room with its invites and latest `recent` messages; null when it was never created. */
  loadRoom(name: string, recent: number): Promise<LoadedRoom | null>;
  /** The stored SHA-256 of a resume identity's secret; null when there is no such identity. */
  identitySecret(id: string): Promise<string | null>;
  /**
   * Takes `count` ids from the message id sequence, ascending. Messages written later with these
   * ids keep the id order of the sequence, so the server can give a message its cursor the moment
   * it accepts it (and keep chatting while the database is briefly away).
   */
  reserveIds(count: number): Promise<number[]>;
  /** Cheap liveness check of the database connection. */
  ping(): Promise<void>;
}

/** Where the data lives: an embedded PGlite folder or a Postgres server URL. */
export type StoreConfig = { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string };
