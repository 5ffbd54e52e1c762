/**
 * Every frame of the NDJSON dialect, both directions. The very same frames travel over TCP
 * (one JSON object per line) and WebSocket (one JSON object per text message).
 *
 * Any client frame may carry `ref` (a client-chosen string, at most 64 characters); the server
 * echoes it in the direct answer (`ack`, `joined`, `users`, `history`, `error`, ...).
 */

// ---------- shared shapes ----------

/** A stored room message. `id` is assigned by the database and is the cursor for history and resume. */
export interface RoomMessage {
  id: number;
  /** Server time, epoch milliseconds. */
  ts: number;
  room: string;
  nick: string;
  text: string;
  /** A `/me` action. */
  action?: boolean;
  /** The id of the message this one replies to (same room). */
  replyTo?: number;
  /** When the text was last edited (epoch ms); absent when never. */
  edited?: number;
  /** The message was deleted: `text` is empty, the rest is a tombstone. */
  deleted?: true;
  /** Reactions: emoji -> nicks that reacted with it, in order. Absent when none. */
  reactions?: Record<string, string[]>;
  /** Sent as a notice (IRC NOTICE): shown, never answered automatically. Not kept in history. */
  notice?: true;
}

/** A stored private message. Ids share the sequence of room messages. */
export interface PrivateMessage {
  id: number;
  ts: number;
  from: string;
  to: string;
  text: string;
  action?: boolean;
  /** Sent as a notice, as in RoomMessage. */
  notice?: true;
}

export interface RoomSummary {
  name: string;
  members: number;
  topic: string | null;
}

/** `kick`: an operator put `nick` out of the room (`by`, with `reason`). */
export type PresenceEvent = 'join' | 'part' | 'quit' | 'disconnect' | 'kick';

// ---------- client -> server ----------

export interface HelloFrame {
  type: 'hello';
  /** Protocol version the client speaks. */
  v: number;
  nick: string;
  /** Free-form client name, for logs. */
  client?: string;
  /**
   * Rooms to (re)join, each with the last message id the client has seen there (or null).
   * The server also restores the nick's persisted memberships.
   */
  rooms?: Record<string, number | null>;
  /** Resume private messages: the server sends stored PMs with an id above this. */
  pmAfter?: number;
  /**
   * The nick's password, when it is registered (answered with TC_ERR_AUTH_REQUIRED when missing,
   * TC_ERR_BAD_PASSWORD when wrong; either way the connection stays open for another hello).
   */
  password?: string;
  /** With `password`: register the nick (if it is not registered yet) and log in, in one round trip. */
  register?: boolean;
  /**
   * The resume token a previous `welcome` gave this client (unregistered nicks): proves it is the
   * same person, so its memberships of restricted rooms, invites, room-creator rights and private
   * history come back. Without it (or with a wrong one) the client starts a fresh, empty identity.
   */
  token?: string;
  ref?: string;
}

export interface JoinFrame {
  type: 'join';
  room: string;
  /** Send the messages after this id instead of the latest page. */
  after?: number;
  /** The room's key, when it has one (mode +k). */
  key?: string;
  ref?: string;
}

export interface PartFrame {
  type: 'part';
  room: string;
  /** Shown to the room with the leave (at most REASON_MAX_LENGTH characters). */
  reason?: string;
  ref?: string;
}

/**
 * Puts `nick` out of `room` (an operator of the room only). The kicked member gets `parted` with
 * `by` and `reason`; the room sees `presence` with event `kick`. Kicked, one may join again.
 */
export interface KickFrame {
  type: 'kick';
  room: string;
  nick: string;
  reason?: string;
  ref?: string;
}

export interface MsgFrame {
  type: 'msg';
  room: string;
  text: string;
  action?: boolean;
  /**
   * Client message id: 1-64 characters of `A-Za-z0-9_-`, chosen by the client, unique per
   * message. A client that resends a message after a reconnect sends the same `cid`; the server
   * remembers recent ids per identity and answers a repeat with the original `ack` instead of
   * storing the message again (exactly-once sends).
   */
  cid?: string;
  /** Replies to the message with this id (same room). */
  replyTo?: number;
  /** A notice: relayed as such (IRC NOTICE), never answered automatically by bots. */
  notice?: boolean;
  ref?: string;
}

export interface PmFrame {
  type: 'pm';
  to: string;
  text: string;
  action?: boolean;
  /** Client message id, as in `msg`. */
  cid?: string;
  /** A notice, as in `msg`. */
  notice?: boolean;
  ref?: string;
}

/** Changes the text of one's own room message; announced to the room with `edited`. */
export interface EditFrame {
  type: 'edit';
  id: number;
  text: string;
  ref?: string;
}

/** Deletes a room message (its author, or the room's creator); announced with `deleted`. */
export interface DeleteFrame {
  type: 'delete';
  id: number;
  ref?: string;
}

/** Adds (or with `remove`, takes back) one's reaction to a room message; announced with `reaction`. */
export interface ReactFrame {
  type: 'react';
  id: number;
  emoji: string;
  remove?: boolean;
  ref?: string;
}

/**
 * Full-text search over what the user may read: the rooms it is a member of and its own private
 * messages. Whole words and parts of words (identifiers, `deploy-2026`); ranked, newest first
 * among equals. `before`: the `next` cursor of the previous page.
 */
export interface SearchFrame {
  type: 'search';
  q: string;
  room?: string;
  /** Only messages by this nick. */
  from?: string;
  before?: number;
  limit?: number;
  ref?: string;
}

/**
 * Marks a room (or, with `with`, the private conversation with a nick) read up to `id`.
 * Every connection of the same person gets `marker`; markers only move forward.
 */
export interface MarkFrame {
  type: 'mark';
  room?: string;
  with?: string;
  id: number;
  ref?: string;
}

/**
 * Unread and mention counts per room and per private conversation, from the read markers (also
 * sent after `welcome`).
 */
export interface UnreadFrame {
  type: 'unread';
  ref?: string;
}

/**
 * The person's highlight words: without `words`, asks for them; with `words`, replaces them (at
 * most HIGHLIGHT_WORDS_MAX, each HIGHLIGHT_WORD_PATTERN; `[]` clears them). A message naming one
 * counts as a mention, like the nick. Answered with `highlights`; a change reaches every
 * connection of the same person (on every node).
 *
 * @example
 * {"type":"highlights","words":["deploy","oncall"],"ref":"h1"}
 */
export interface HighlightsFrame {
  type: 'highlights';
  words?: string[];
  ref?: string;
}

/**
 * Messages that name the user (its nick, its highlight words, or @room / @all / @here), newest
 * last; `before` pages back.
 */
export interface MentionsFrame {
  type: 'mentions';
  before?: number;
  limit?: number;
  ref?: string;
}

export interface UsersFrame {
  type: 'users';
  room: string;
  /** Page: only nicks sorting after this one (the last nick of the previous page). */
  after?: string;
  ref?: string;
}

export interface RoomsFrame {
  type: 'rooms';
  /** Page: only rooms whose name sorts after this one (the last name of the previous page). */
  after?: string;
  ref?: string;
}

export interface NickFrame {
  type: 'nick';
  nick: string;
  ref?: string;
}

export interface TopicFrame {
  type: 'topic';
  room: string;
  /** Absent: ask for the topic. A string (possibly empty, to clear it): set it. */
  topic?: string;
  ref?: string;
}

export interface HistoryFrame {
  type: 'history';
  room: string;
  /** Only messages with ids below this. Without `after`: the latest `limit` of them. */
  before?: number;
  /** Only messages with ids above this; then the page is the first `limit` of them (oldest first). */
  after?: number;
  limit?: number;
  /** A thread: the message with this id and every reply to it (oldest first; before/after page it). */
  thread?: number;
  /** Only messages sent before this time (epoch ms); combined with the id bounds. */
  beforeTs?: number;
  /** Only messages sent after this time (epoch ms); with it the page is the oldest first, as `after`. */
  afterTs?: number;
  ref?: string;
}

export interface PmHistoryFrame {
  type: 'pm-history';
  /** Only the conversation with this nick; absent: all of your private messages. */
  with?: string;
  before?: number;
  after?: number;
  limit?: number;
  /** Time bounds (epoch ms), as in `history`. */
  beforeTs?: number;
  afterTs?: number;
  ref?: string;
}

export interface QuitFrame {
  type: 'quit';
  reason?: string;
  ref?: string;
}

export interface PingFrame {
  type: 'ping';
  ts?: number;
  ref?: string;
}

/** Protects the current nick with a password (or changes it); answered with `registered`. */
export interface RegisterFrame {
  type: 'register';
  password: string;
  ref?: string;
}

/**
 * Asks for (no other field) or changes (an operator of the room) a room's modes: `key` a string
 * sets the key (+k), null removes it (-k); `inviteOnly` sets +i / -i; the other flags as named
 * (IRC's +t +n +m +s); `limit` a number caps the members (+l), null removes the cap. `members`
 * grants or takes operator (+o) or voice (+v); `lists` adds or removes masks (`nick!user@host`,
 * `*` and `?` wildcards) of the ban (+b), ban-exception (+e) and invite-exception (+I) lists.
 * At most MODE_CHANGES_MAX changes a frame. Answered and announced with `mode` (`changes`).
 */
export interface ModeFrame {
  type: 'mode';
  room: string;
  key?: string | null;
  inviteOnly?: boolean;
  /** Only operators may set the topic (+t). */
  topicLock?: boolean;
  /** Only members may send to the room (+n; on for every new room). */
  noExternal?: boolean;
  /** Only operators and voiced members may send (+m). */
  moderated?: boolean;
  /** Not listed in `rooms` for non-members (+s). */
  secret?: boolean;
  limit?: number | null;
  members?: MemberModeChange[];
  lists?: ListModeChange[];
  ref?: string;
}

export interface MemberModeChange {
  nick: string;
  role: 'op' | 'voice';
  add: boolean;
}

export interface ListModeChange {
  list: 'ban' | 'except' | 'invex';
  mask: string;
  add: boolean;
}

/** One entry of a room's ban, exception or invite-exception list. */
export interface MaskEntry {
  mask: string;
  by: string;
  ts: number;
}

/** One applied change, in IRC's letters (`o`, `v`, `b`, `e`, `I`, `k`, `l`, `i`, `t`, `n`, `m`, `s`). */
export interface ModeChangeNote {
  mode: string;
  add: boolean;
  arg?: string;
}

/** Invites a nick into a room (creator or member of the room); answered with `invite`. */
export interface InviteFrame {
  type: 'invite';
  nick: string;
  room: string;
  ref?: string;
}

/** Answer to the server's heartbeat `ping`. */
export interface ClientPongFrame {
  type: 'pong';
  ts?: number;
  ref?: string;
}

export type ClientFrame =
  | HelloFrame
  | JoinFrame
  | PartFrame
  | MsgFrame
  | PmFrame
  | UsersFrame
  | RoomsFrame
  | NickFrame
  | TopicFrame
  | HistoryFrame
  | PmHistoryFrame
  | QuitFrame
  | PingFrame
  | RegisterFrame
  | ModeFrame
  | InviteFrame
  | KickFrame
  | ClientPongFrame
  | EditFrame
  | DeleteFrame
  | ReactFrame
  | SearchFrame
  | MarkFrame
  | UnreadFrame
  | MentionsFrame
  | HighlightsFrame;

export type ClientFrameType = ClientFrame['type'];

// ---------- server -> client ----------

export interface WelcomeFrame {
  type: 'welcome';
  v: number;
  nick: string;
  /** Server name and version, e.g. `teamchat/0.1.0`. */
  server: string;
  /** Rooms this nick is a member of; a `joined` frame follows for each. */
  rooms: string[];
  limits: { maxLineBytes: number; historyDefault: number; historyMax: number };
  /** True when the nick is registered (and this connection proved its password). */
  account?: boolean;
  /**
   * For a client not logged in to an account: its secret resume token. Keep it (per server) and
   * send it in the next `hello` to be recognised as the same person. Never shown to anyone else.
   */
  token?: string;
  ref?: string;
}

/** Answer to `join` (and sent for each room restored at `hello`). */
export interface JoinedFrame {
  type: 'joined';
  room: string;
  topic: string | null;
  /** Who set the topic, and when (epoch ms), when known. */
  topicBy?: string;
  topicAt?: number;
  /** Members' nicks, sorted; at most USERS_PAGE_MAX of them (see `usersTotal`). */
  users: string[];
  /** Present when `users` is truncated: how many members the room has. Ask `users` to page them. */
  usersTotal?: number;
  /** Oldest first: the latest page, or (when `join` had `after`) every message after it. */
  history: RoomMessage[];
  /**
   * Messages exist before `history[0]` that this frame does not carry (and, when `join` had
   * `after`, after that id: a gap). Page them with `history {room, before: history[0].id, after}`.
   */
  more: boolean;
  ref?: string;
}

export interface PartedFrame {
  type: 'parted';
  room: string;
  /** Kicked out by this operator (absent: one's own part). */
  by?: string;
  reason?: string;
  ref?: string;
}

export interface MessageFrame extends RoomMessage {
  type: 'message';
}

export interface PmDeliveryFrame extends PrivateMessage {
  type: 'pm';
}

/** The sender's message (room or private) is stored: `id` is its cursor. */
export interface AckFrame {
  type: 'ack';
  ref: string;
  id: number;
  ts: number;
  /** The `cid` of the acknowledged `msg` or `pm`, when it had one. */
  cid?: string;
}

export interface PresenceFrame {
  type: 'presence';
  room: string;
  nick: string;
  event: PresenceEvent;
  ts: number;
  reason?: string;
  /** Who kicked (event `kick`). */
  by?: string;
  /** The kicker's copy of its kick answers its `kick` frame. */
  ref?: string;
}

/**
 * A rename. Room members get one frame per shared room (with `room`);
 * the renamed client also gets one without `room`, confirming its new nick.
 */
export interface NickChangeFrame {
  type: 'nick';
  room?: string;
  old: string;
  new: string;
  ts: number;
  ref?: string;
}

export interface TopicChangeFrame {
  type: 'topic';
  room: string;
  topic: string | null;
  /** Who set it; absent when this answers a question about the topic. */
  by?: string;
  ts: number;
  ref?: string;
}

export interface UsersListFrame {
  type: 'users';
  room: string;
  /** Sorted case-insensitively; at most USERS_PAGE_MAX per page. */
  users: string[];
  /** More nicks follow: ask again with `after` = the last nick of this page. */
  more?: boolean;
  ref?: string;
}

export interface RoomsListFrame {
  type: 'rooms';
  /** Sorted by name; at most ROOMS_PAGE_MAX per page. */
  rooms: RoomSummary[];
  /** More rooms follow: ask again with `after` = the last name of this page. */
  more?: boolean;
  ref?: string;
}

export interface HistoryPageFrame {
  type: 'history';
  room: string;
  /** Oldest first. */
  messages: RoomMessage[];
  /** More messages match the query beyond this page (older ones; with `after`, newer ones up to `before`). */
  more: boolean;
  ref?: string;
}

export interface PmHistoryPageFrame {
  type: 'pm-history';
  with?: string;
  messages: PrivateMessage[];
  more: boolean;
  ref?: string;
}

export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
  ref?: string;
}

/** Server health as it affects clients (e.g. the database is unavailable and messages are held). */
export interface StatusFrame {
  type: 'status';
  db: 'ok' | 'degraded';
  /**
   * A cluster node's link to the others: `degraded` while the bus (NATS) is unreachable; chat goes
   * on, other nodes' messages arrive late (read from the database). Absent on a single node.
   */
  cluster?: 'ok' | 'degraded';
  message?: string;
}

/** The server is closing this connection; `code` says why. */
export interface ByeFrame {
  type: 'bye';
  code?: string;
  reason: string;
}

export interface PongFrame {
  type: 'pong';
  ts?: number;
  ref?: string;
}

/** The nick is now registered (or its password changed). */
export interface RegisteredFrame {
  type: 'registered';
  nick: string;
  ref?: string;
}

/** A room's modes: the answer to `mode`, and announced to its members when they change (`by`). */
export interface RoomModeFrame {
  type: 'mode';
  room: string;
  /** The room needs a key to join (+k). */
  key: boolean;
  /** Only invited nicks may join (+i). */
  inviteOnly: boolean;
  /** Nick (case-folded) of the room's creator (an account; always an operator); null when unknown or a guest. */
  creator: string | null;
  topicLock?: boolean;
  noExternal?: boolean;
  moderated?: boolean;
  secret?: boolean;
  /** Members at most (+l); absent: no cap. */
  limit?: number;
  /** When the room was created (epoch ms). */
  createdAt?: number;
  /** The mask lists, in the answer to a question (members only). */
  bans?: MaskEntry[];
  excepts?: MaskEntry[];
  invexes?: MaskEntry[];
  /** What changed, when announcing a change (`by`). */
  changes?: ModeChangeNote[];
  by?: string;
  ts: number;
  ref?: string;
}

/** An invitation: sent to the inviter (with `ref`) and to the invitee when online. */
export interface InviteNoticeFrame {
  type: 'invite';
  room: string;
  nick: string;
  by: string;
  ts: number;
  ref?: string;
}

/** A room message's new text (to everyone in the room; with `ref` to the editor). */
export interface EditedFrame {
  type: 'edited';
  id: number;
  room: string;
  text: string;
  /** When it was edited. */
  edited: number;
  by: string;
  ref?: string;
}

/** A room message was deleted: show a tombstone. */
export interface DeletedFrame {
  type: 'deleted';
  id: number;
  room: string;
  by: string;
  ts: number;
  ref?: string;
}

/** A reaction was added (`added`) or taken back; `count` is how many now react with this emoji. */
export interface ReactionFrame {
  type: 'reaction';
  id: number;
  room: string;
  emoji: string;
  nick: string;
  added: boolean;
  count: number;
  ts: number;
  ref?: string;
}

export interface SearchHit {
  id: number;
  ts: number;
  /** Null for a private message. */
  room: string | null;
  nick: string;
  /** The other end of a private message. */
  to?: string;
  /** A snippet of the text around the first match. */
  text: string;
  /** [start, end) ranges of `text` that matched, for highlighting. */
  highlights: [number, number][];
}

export interface SearchResultsFrame {
  type: 'search-results';
  q: string;
  results: SearchHit[];
  more: boolean;
  /** With `more`: send `search` again with `before` = this. */
  next?: number;
  ref?: string;
}

/** A read marker moved (on this or another connection of the same person). */
export interface MarkerFrame {
  type: 'marker';
  room?: string;
  with?: string;
  id: number;
  ref?: string;
}

export interface UnreadCount {
  /** Messages after the marker (at most UNREAD_COUNT_MAX are counted). */
  unread: number;
  /** Of those, messages that name the user. */
  mentions: number;
  /** The read marker; 0 when the room was never marked. */
  marker: number;
}

/**
 * Per room the user is in: unread and mention counts, and the marker. `pms`: per private
 * conversation with unread messages (keyed by the other person's nick as last seen), at most
 * UNREAD_PM_CONVERSATIONS_MAX of them, the newest first; every unread private message counts as
 * a mention (as Slack and Mattermost count direct messages). Servers before `pms` leave it out.
 */
export interface UnreadCountsFrame {
  type: 'unread';
  rooms: Record<string, UnreadCount>;
  pms?: Record<string, UnreadCount>;
  ref?: string;
}

/** The person's highlight words (lower-case), after a change or when asked. */
export interface HighlightsListFrame {
  type: 'highlights';
  words: string[];
  ref?: string;
}

export interface MentionsListFrame {
  type: 'mentions';
  /** Oldest first. */
  messages: RoomMessage[];
  more: boolean;
  ref?: string;
}

/** Heartbeat from the server to an idle NDJSON connection: answer with `pong` (any input will do). */
export interface ServerPingFrame {
  type: 'ping';
  ts: number;
}

export type ServerFrame =
  | WelcomeFrame
  | JoinedFrame
  | PartedFrame
  | MessageFrame
  | PmDeliveryFrame
  | AckFrame
  | PresenceFrame
  | NickChangeFrame
  | TopicChangeFrame
  | UsersListFrame
  | RoomsListFrame
  | HistoryPageFrame
  | PmHistoryPageFrame
  | ErrorFrame
  | StatusFrame
  | ByeFrame
  | PongFrame
  | RegisteredFrame
  | RoomModeFrame
  | InviteNoticeFrame
  | ServerPingFrame
  | EditedFrame
  | DeletedFrame
  | ReactionFrame
  | SearchResultsFrame
  | MarkerFrame
  | UnreadCountsFrame
  | MentionsListFrame
  | HighlightsListFrame;

export type ServerFrameType = ServerFrame['type'];
