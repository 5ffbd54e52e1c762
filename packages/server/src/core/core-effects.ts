/**
 * Everything the core asks of the outside world. The core decides; the runtime that implements
 * this port does the I/O (sockets, storage, metrics).
 */
import type { ByeFrame, CodedError, PrivateMessage, RoomMessage, ServerFrame } from '@teamchat/protocol';
import type { ChatEvents } from '../metrics/chat-events.js';
import type {
  ClusterEvent,
  HistoryQuery,
  LoadedRoom,
  MessageInfo,
  NewMessage,
  RoomAccess,
  SearchPage,
  SearchQuery,
  StateWrite,
  UnreadCount,
} from './records.js';
import type { NewIdentity } from './identity.js';
import type { Session } from './session.js';

/** What a secret guards: wrong guesses are counted per subject, across every connection. */
export type SecretSubject = { kind: 'account'; name: string } | { kind: 'room-key'; name: string };

/** `repeated`: the owner had sent this client id (`cid`) before; `id` is the stored message's. */
export type PersistResult = { ok: true; id: number; repeated?: boolean } | { ok: false; error: CodedError };

/** How a nick claim went: taken by someone on another node, or ours. */
export type NickClaim = { ok: true } | { ok: false };

export interface PersistCallbacks {
  /**
   * The message may be shown, with its id: after it is committed, or at once while the database
   * is unreachable (degraded mode: live chat goes on, storage catches up).
   */
  deliver(id: number): void;
  /** The message is stored (acknowledge it), or never will be. */
  committed(result: PersistResult): void;
}

export interface CoreEffects<S extends Session> {
  /** Queues one frame to one session. */
  send(session: S, frame: ServerFrame): void;
  /** Queues one frame to many sessions; the runtime serializes it once per dialect. */
  broadcast(sessions: Iterable<S>, frame: ServerFrame): void;
  /** Queues a message for storage; false (calling nothing) when the bounded write queue is full. */
  persist(message: NewMessage, callbacks: PersistCallbacks): boolean;
  /**
   * Runs `deliver` after everything queued before it is delivered; keeps notices in order with
   * messages. In a cluster, `event` reaches the other nodes at the same place in the order.
   */
  inOrder(deliver: () => void, event?: ClusterEvent): void;
  /**
   * Queues a durable state change (room, membership, topic), written with the next batch.
   * `stored` is told once it is committed (or that it never will be): confirm changes only then.
   */
  persistState(write: StateWrite, stored?: (ok: boolean) => void): void;
  /** A room that is not in memory, read back with its invites and latest `recent` messages. */
  loadRoom(name: string, recent: number): Promise<LoadedRoom | null>;
  /** The password hash of a registered nick (by key), read from the store now; null: not registered. */
  accountHash(key: string): Promise<string | null>;
  /** Registers a nick not registered yet; false when someone registered it first (on any node). */
  createAccount(nick: string, hash: string): Promise<boolean>;
  /** A room's modes and the owner's invitation and membership, read from the store now; null: no such room. */
  roomAccess(room: string, owner: string): Promise<RoomAccess | null>;
  /** The rooms `owner` is a member of (persisted), at most `limit`. */
  membershipsOf(owner: string, limit: number): Promise<string[]>;
  /** A message's room, author and reactions, read from the store; null: no such message. */
  messageInfo(id: number): Promise<MessageInfo | null>;
  /** Per room: unread messages after `owner`'s marker and those naming `nick` (or a highlight word of `owner`). */
  unreadCounts(owner: string, nick: string, rooms: string[]): Promise<Record<string, UnreadCount>>;
  /**
   * Per private conversation of `owner` with unread messages from the other person (keyed by
   * their nick as last seen): the newest `limit` conversations. Each unread one is a mention.
   */
  pmUnreadCounts(owner: string, limit: number): Promise<Record<string, UnreadCount>>;
  /** `owner`'s highlight words, read from the store now (lower-case; none: `[]`). */
  highlightWords(owner: string): Promise<string[]>;
  /**
   * Messages in `rooms` naming `nick`, a highlight word of `owner`, or everyone; the latest
   * `limit` below `before`, oldest first.
   */
  mentions(
    owner: string,
    nick: string,
    rooms: string[],
    before: number | undefined,
    limit: number,
  ): Promise<RoomMessage[]>;
  /** Full-text search in `rooms` and the owner's private messages. */
  search(query: SearchQuery): Promise<SearchPage>;
  /**
   * Cluster: takes the nick for this node (unique across the cluster), unless a live session of
   * someone else holds it on another node. A single node answers ok at once (the core checks its
   * own sessions first).
   */
  claimNick(key: string, nick: string, owner: string): Promise<NickClaim>;
  /** This node process (cluster instance id); in a single node, a constant. */
  readonly instance: string;
  /** True when other nodes share the store: rooms, accounts and modes may change elsewhere. */
  readonly clustered: boolean;
  /** Checks a resume token; resolves with its identity id, or null when it is not valid. */
  checkIdentity(token: string): Promise<string | null>;
  /** Makes a new resume identity (random id and secret). */
  newIdentity(): NewIdentity;
  /** May this session create one more room now? Null, or the refusal (per connection and per address). */
  allowRoomCreation(session: S): CodedError | null;
  /** Resolves once the session's queued output is small again (at once when it is). */
  whenWritable(session: S): Promise<void>;
  /** Sends `bye`, flushes what is queued and closes the connection. */
  close(session: S, bye: ByeFrame): void;
  roomHistory(room: string, query: HistoryQuery): Promise<RoomMessage[]>;
  privateHistory(owner: string, query: HistoryQuery & { peer?: string }): Promise<PrivateMessage[]>;
  /** Hashes a password or room key (scrypt with a fresh salt, off the event loop). */
  hashSecret(secret: string): Promise<string>;
  /**
   * Checks a password or room key against its hash in constant time. Resolves true or false, or
   * with a coded error (TC_ERR_LOCKED_OUT) when the subject, or the session's address, has failed
   * too often lately: then the secret is not even checked. The runtime also slows down (and
   * eventually disconnects) a session that keeps failing.
   */
  verifySecret(session: S, secret: string, hash: string, subject: SecretSubject): Promise<boolean | CodedError>;
  readonly events: ChatEvents;
  now(): number;
  log(line: string): void;
}
