/**
 * The records the core reads and writes: messages to store, durable state changes, rooms read
 * back. The core declares them (it is the ground floor); the store and the delivery pipeline
 * implement its ports in these terms.
 */
import type { PresenceEvent, PrivateMessage, RoomMessage, SearchHit } from '@teamchat/protocol';

/** A room message waiting to be stored (it gets its id from the database). */
export interface NewRoomMessage {
  kind: 'room';
  /** Reserved with `reserveIds`; absent: the database assigns one. All or none in a batch. */
  id?: number;
  room: string;
  nick: string;
  /** The sender's owner (identity.ts): with `cid`, what makes a resent message recognisable. */
  owner?: string;
  /** The client's own id for the message (exactly-once sends): one per owner. */
  cid?: string;
  /** The message this one replies to (same room). */
  replyTo?: number;
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
  cid?: string;
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
  | { op: 'owner-rename'; from: string; to: string }
  /** Cluster: `key` (nick `nick`) is in `room` on the node `instance` (room_presence). */
  | { op: 'presence-join'; room: string; key: string; nick: string; instance: string }
  | { op: 'presence-leave'; room: string; key: string }
  /** Cluster: the nick `key` is free again, if `instance` still holds it (online_nicks). */
  | { op: 'nick-release'; key: string; instance: string }
  /** A message's new text (migrations/006). */
  | { op: 'edit'; id: number; text: string; ts: number }
  /** A message deleted: its text is emptied, its reactions go. */
  | { op: 'delete'; id: number; ts: number }
  | { op: 'react'; id: number; emoji: string; owner: string; nick: string; add: boolean; ts: number }
  /** `owner` has read `conversation` (a room, or '@' + a nick key) up to `id`; markers only move forward. */
  | { op: 'marker'; owner: string; conversation: string; id: number; ts: number }
  /** `owner`'s highlight words (migrations/009), replacing the previous ones; valid and lower-case. */
  | { op: 'highlights'; owner: string; words: string[]; ts: number };

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
  /** Only this message and the replies to it. */
  thread?: number;
  /** Only messages sent before / after this time (epoch ms); with `afterTs` the page is the oldest first. */
  beforeTs?: number;
  afterTs?: number;
}

/** What an edit, a delete or a reaction needs to know about a message. */
export interface MessageInfo {
  id: number;
  /** Null for a private message. */
  room: string | null;
  nick: string;
  /** The sender's owner; null for messages stored before owners were kept for room messages. */
  owner: string | null;
  deleted: boolean;
  /** Emoji -> owners that reacted with it. */
  reactions: Record<string, string[]>;
}

/** A search over what one person may read: `rooms` are the rooms it may read (the caller decides). */
export interface SearchQuery {
  owner: string;
  rooms: string[];
  q: string;
  room?: string;
  /** Only messages by this nick. */
  from?: string;
  /** The `next` cursor of the previous page. */
  before?: number;
  limit: number;
}

export interface SearchPage {
  results: SearchHit[];
  more: boolean;
  next?: number;
}

/** Unread and mention counts of one room (or private conversation) for one person. */
export interface UnreadCount {
  unread: number;
  mentions: number;
  marker: number;
}

/** What a join needs to know about a room's access, read fresh from the store. */
export interface RoomAccess {
  keyHash: string | null;
  inviteOnly: boolean;
  creator: string | null;
  /** The asking owner is invited. */
  invited: boolean;
  /** The asking owner has a persisted membership. */
  member: boolean;
}

/**
 * A change one node tells the others about, carried in order with the messages of its batch
 * (delivery/README.md). Messages themselves travel as `StoredMessage`s.
 */
export type ClusterEvent =
  | { kind: 'online'; key: string; nick: string; owner: string; instance: string }
  | { kind: 'offline'; key: string; instance: string }
  | {
      kind: 'presence';
      room: string;
      key: string;
      nick: string;
      event: PresenceEvent;
      reason?: string;
      by?: string;
      ts: number;
      instance: string;
    }
  | { kind: 'nick'; oldKey: string; old: string; new: string; rooms: string[]; ts: number; instance: string }
  | { kind: 'topic'; room: string; topic: string | null; by: string; ts: number }
  | { kind: 'mode'; room: string; keyHash: string | null; inviteOnly: boolean; by: string; ts: number }
  | { kind: 'invite'; room: string; owner: string; nick: string; by: string; ts: number }
  | { kind: 'room'; room: string }
  | { kind: 'edit'; room: string; id: number; text: string; edited: number; by: string }
  | { kind: 'delete'; room: string; id: number; by: string; ts: number }
  | { kind: 'react'; room: string; id: number; emoji: string; nick: string; added: boolean; count: number; ts: number }
  | { kind: 'marker'; owner: string; room?: string; with?: string; id: number }
  | { kind: 'highlights'; owner: string; words: string[] };

/** A committed message as other nodes receive it. */
export type StoredMessage =
  { kind: 'room'; message: RoomMessage } | { kind: 'pm'; message: PrivateMessage; fromOwner: string; toOwner: string };
