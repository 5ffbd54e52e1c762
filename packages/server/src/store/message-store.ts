/**
 * The storage port. The chat runtime talks only to this interface; `pglite/` and `postgres/`
 * provide it over one Kysely schema and one set of SQL migrations (../../../../migrations).
 */
import type { PrivateMessage, RoomMessage } from '@teamchat/protocol';
import type {
  HistoryQuery,
  LoadedRoom,
  MessageInfo,
  RoomAccess,
  StoreSnapshot,
  UnreadCount,
  WriteBatch,
} from '../core/records.js';

export type {
  HistoryQuery,
  LoadedRoom,
  MessageInfo,
  NewMessage,
  RoomAccess,
  UnreadCount,
  NewPrivateMessage,
  NewRoomMessage,
  StateWrite,
  StoredRoom,
  StoreSnapshot,
  WriteBatch,
} from '../core/records.js';

export interface WriteOptions {
  /**
   * Cluster order (migrations/005): lock the stream row, number the batch, and let the database
   * give the messages their ids inside that lock, so ids follow commit order across every node.
   */
  ordered?: boolean;
}

export interface BatchResult {
  /** The id of each message of the batch, in order (for a repeated client id: the stored message's). */
  ids: number[];
  /** Indexes of messages not stored because their owner already sent their client id (`cid`). */
  repeated: number[];
  /** The batch's place in the cluster order (ordered writes); null otherwise. */
  batch: number | null;
}

export interface MessageStore {
  loadSnapshot(recentPerRoom: number): Promise<StoreSnapshot>;
  /**
   * Stores a batch in one transaction: one multi-row insert for the messages, then the state writes
   * in order. Resolves with the message ids, in the order of `batch.messages`; rejects (and stores
   * nothing) when the transaction fails.
   */
  writeBatch(batch: WriteBatch, options?: WriteOptions): Promise<BatchResult>;
  /** The password hash of a registered nick (by key), read now; null when it is not registered. */
  accountHash(key: string): Promise<string | null>;
  /** Registers a nick that is not registered yet; false (nothing changed) when it already is. */
  createAccount(nick: string, hash: string, at: number): Promise<boolean>;
  /** A room's modes, and whether `owner` is invited or a member; null: no such room. */
  roomAccess(room: string, owner: string): Promise<RoomAccess | null>;
  /** The rooms `owner` is a member of (persisted), at most `limit`, by name. */
  membershipsOf(owner: string, limit: number): Promise<string[]>;
  /** A message's room, author and reactions (edits, deletes, reactions check these); null: no such message. */
  messageInfo(id: number): Promise<MessageInfo | null>;
  /** Per room: messages after `owner`'s read marker by others, and those naming `nick`, a highlight word of `owner`, or everyone. */
  unreadCounts(owner: string, nick: string, rooms: string[]): Promise<Record<string, UnreadCount>>;
  /**
   * Per private conversation of `owner` with unread messages from the other person (keyed by their
   * latest nick): the `limit` ones with the newest unread message. Each unread one is a mention.
   */
  pmUnreadCounts(owner: string, limit: number): Promise<Record<string, UnreadCount>>;
  /** `owner`'s highlight words (migrations/009), lower-case; `[]` when none. */
  highlightWords(owner: string): Promise<string[]>;
  /**
   * Messages in `rooms` naming `nick`, one of `owner`'s highlight words, or everyone, by others;
   * oldest first, the latest `limit` below `before`.
   */
  mentions(
    owner: string,
    nick: string,
    rooms: string[],
    before: number | undefined,
    limit: number,
  ): Promise<RoomMessage[]>;
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
