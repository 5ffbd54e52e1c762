/**
 * Kysely table types of the chat schema (migrations/001_chat.sql). Only the chat tables live here;
 * other modules (metrics) type their own tables.
 *
 * @example
 * const db = database.kysely as Kysely<ChatSchema>;
 * const rooms = await db.selectFrom('rooms').select(['name', 'topic']).execute();
 */
import type { ColumnType, Generated, GeneratedAlways } from 'kysely';

/** A timestamptz column: read as a Date, written as a Date or an ISO string. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface UsersTable {
  nick_key: string;
  nick: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** 003: the scrypt hash of a registered nick's password; NULL when not registered. */
  password_hash: ColumnType<string | null, string | null | undefined, string | null>;
  registered_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface RoomsTable {
  name: string;
  topic: string | null;
  topic_by: string | null;
  topic_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: Timestamp;
  /** 003: nick key of the creator (may change the modes); NULL when unknown. */
  creator: ColumnType<string | null, string | null | undefined, string | null>;
  /** 003: scrypt hash of the room key (+k); NULL: no key. */
  key_hash: ColumnType<string | null, string | null | undefined, string | null>;
  /** 003: invite-only (+i). */
  invite_only: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface RoomInvitesTable {
  room: string;
  nick_key: string;
  invited_by: string;
  invited_at: Timestamp;
}

export interface MembershipsTable {
  nick_key: string;
  room: string;
  joined_at: Timestamp;
}

export interface MessagesTable {
  /** int8, parsed as a number by both backends. */
  id: GeneratedAlways<number>;
  /** NULL for private messages. */
  room: string | null;
  /** Display nick of the sender. */
  sender: string;
  /** Display nick of the recipient of a private message; NULL for room messages. */
  recipient: string | null;
  text: string;
  action: Generated<boolean>;
  created_at: Timestamp;
  sender_key: GeneratedAlways<string>;
  recipient_key: GeneratedAlways<string | null>;
  /** 'alice bob' (sorted nick keys) for private messages; NULL for room messages. */
  pm_pair: GeneratedAlways<string | null>;
  /** 004: owners of a private message's ends (account nick key or `~<identity>`); NULL for room messages. */
  sender_owner: ColumnType<string | null, string | null | undefined, string | null>;
  recipient_owner: ColumnType<string | null, string | null | undefined, string | null>;
  /** 006: the message this one replies to; edit and delete times (a deleted message's text is ''). */
  reply_to: ColumnType<number | null, number | null | undefined, number | null>;
  edited_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  deleted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** 004: resume identities of users without an account (see migrations/004_identities.sql). */
export interface IdentitiesTable {
  id: string;
  secret_hash: string;
  created_at: Timestamp;
}

export interface ChatSchema {
  identities: IdentitiesTable;
  users: UsersTable;
  rooms: RoomsTable;
  memberships: MembershipsTable;
  messages: MessagesTable;
  room_invites: RoomInvitesTable;
}
