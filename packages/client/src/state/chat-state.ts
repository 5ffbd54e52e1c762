/**
 * The client's view of the chat: windows (the status window, rooms, private conversations),
 * the current window, unread counts and mention marks. Plain data; changed only by `reduceChat`.
 */
import type { ConnectionState } from '../connection/chat-connection.js';
import { Scrollback, SCROLLBACK_CAP } from './scrollback.js';

/**
 * `status`, a room, a private conversation, or a special window that lists things (irssi's
 * style): `search` results, `mentions`, and a `thread`.
 */
export type WindowKind = 'status' | 'room' | 'pm' | 'search' | 'mentions' | 'thread';

/** One entry of a results window (a search hit or a mention). */
export interface ResultItem {
  id: number;
  ts: number;
  /** Null for a private message. */
  room: string | null;
  nick: string;
  /** The other end of a private message. */
  to?: string;
  text: string;
  highlights: Array<[number, number]>;
}

/** What a results window shows and how to get more of it. */
export interface ResultsView {
  /** The search query (search windows). */
  query: string;
  /** A search's filters, kept for the next page. */
  room?: string;
  from?: string;
  items: ResultItem[];
  more: boolean;
  /** The `before` cursor of the next page. */
  next?: number;
  /** The selected item (Up/Down, Enter opens it). */
  selected: number;
  /** A page was asked for: a new list, or more of this one. */
  loading: 'new' | 'more' | null;
}

export interface ChatWindow {
  /** `*` for the status window, `#room` for a room, `@nick` (case-folded) for a private conversation. */
  key: string;
  kind: WindowKind;
  /** Room name, peer nick (as last seen), or the server name. */
  name: string;
  topic: string | null;
  /** Users in a room (empty for other windows). */
  users: string[];
  scrollback: Scrollback;
  /** `scrollback.rev` when this window object was made: a new value means new lines. */
  rev: number;
  /** Messages that arrived while the window was not current. */
  unread: number;
  /** One of them mentioned you (or it is a private message to you). */
  mentioned: boolean;
  /** How many of the unread messages mention you (from the server's counts, then counted here). */
  mentions: number;
  /** The read marker: the id read up to (this or another device), 0 when never marked. */
  marker: number;
  /** The message a jump (search result, mention) landed on: highlighted. */
  focusId: number | null;
  /** Search and mentions windows: the list. */
  results?: ResultsView;
  /** Thread windows: the root message (and its room). */
  thread?: { room: string; id: number };
  /** Older messages exist on the server beyond the oldest line held. */
  hasOlder: boolean;
  /** An older page was asked for and has not arrived yet. */
  loadingOlder: boolean;
  /** Who asked for it: `/history` gets an answer at the bottom, where the user is looking. */
  olderVia: 'command' | 'scroll' | null;
  /**
   * Where the window is scrolled to: the seq of the bottom line on screen; null when it follows
   * the newest line. The read marker does not move past the newest message on screen.
   */
  scroll: number | null;
}

/** A connection that is down (never up yet, or dropped), described by one line kept up to date. */
export interface Outage {
  since: number;
  everConnected: boolean;
  attempts: number;
  dropReason: string | null;
  lastReason: string | null;
  /** The status line, in the status window and in the window that was current. */
  lines: Array<{ key: string; seq: number }>;
}

/** A history answer the client is waiting for, and what it is for (answers come in the order asked). */
export interface HistoryWait {
  /** The window the page is for (`#room`, `@nick`; a thread's pages: its room's key, as the answer names the room). */
  key: string;
  purpose: 'older' | 'jump' | 'thread' | 'thread-older' | 'gap';
  /**
   * `jump`: the page before the message (with it) or after it; `gap`: the side the gap is filled
   * from (`after` its older end, `before` its newer end).
   */
  part?: 'before' | 'after';
  /** `jump`: the message; `thread`, `thread-older`: the root's id; `gap`: the seq of the gap line. */
  id?: number;
}

export interface ChatState {
  nick: string;
  /** Extra words that highlight a message, besides your nick and @room/@all/@here (`--highlight`). */
  highlightWords: readonly string[];
  /** Show message ids in the message pane (`/ids`). */
  showIds: boolean;
  /** Mentions that arrived live so far: the UI rings the bell when it grows. */
  bells: number;
  /** History pages asked for, oldest first. */
  historyWaits: HistoryWait[];
  /** The latest jump to a message (a search result, a mention): the pane scrolls to it once it is held. */
  jump: { key: string; id: number; n: number } | null;
  connection: ConnectionState;
  /** Sidebar order: status window, then rooms and conversations in the order they opened. */
  windows: ChatWindow[];
  current: string;
  /** Switch to this room when its `joined` arrives (set by `/join`). */
  focusOnJoin: string | null;
  scrollbackCap: number;
  /** The input line asks for a nick with this prompt (none given, or refused at the first connect). */
  nickPrompt: string | null;
  /** No nick was given: the connection starts once the user chose one. */
  awaitingNick: boolean;
  /** A session was open at least once (the connection said connected). */
  everConnected: boolean;
  /** Sessions opened so far (welcome frames). */
  sessions: number;
  /** The connection is down; its status line is updated in place. */
  outage: Outage | null;
}

export const STATUS_KEY = '*';
/** The special windows (one of each). */
export const SEARCH_KEY = '?search';
export const MENTIONS_KEY = '?mentions';
export const THREAD_KEY = '?thread';

export function roomKey(room: string): string {
  return `#${room}`;
}

export function pmKey(nick: string): string {
  return `@${nick.toLowerCase()}`;
}

export function newWindow(key: string, kind: WindowKind, name: string, cap: number): ChatWindow {
  const scrollback = new Scrollback(cap);
  return {
    key,
    kind,
    name,
    topic: null,
    users: [],
    scrollback,
    rev: scrollback.rev,
    unread: 0,
    mentioned: false,
    mentions: 0,
    marker: 0,
    focusId: null,
    hasOlder: false,
    loadingOlder: false,
    olderVia: null,
    scroll: null,
  };
}

export const NICK_PROMPT_TEXT = 'Choose a nick: ';

/**
 * The state before connecting. Without a nick (`connection.nick === ''`) the input line asks
 * for one first.
 *
 * @example
 * const state = initialChatState({ status: 'connecting', server: 'localhost:5555', nick: 'alice', retryAt: null, reason: null, ready: false });
 */
export function initialChatState(
  connection: ConnectionState,
  scrollbackCap = SCROLLBACK_CAP,
  highlightWords: readonly string[] = [],
): ChatState {
  const status = newWindow(STATUS_KEY, 'status', connection.server, scrollbackCap);
  const awaitingNick = connection.nick === '';
  if (awaitingNick) {
    status.scrollback.addNotice(
      'notice',
      `Welcome to teamchat. Choose a nick (1-24 letters, digits, _ or -) to connect to ${connection.server}.`,
      Date.now(),
    );
    status.rev = status.scrollback.rev;
  }
  return {
    nick: connection.nick,
    highlightWords,
    showIds: false,
    bells: 0,
    historyWaits: [],
    jump: null,
    connection,
    windows: [status],
    current: STATUS_KEY,
    focusOnJoin: null,
    scrollbackCap,
    nickPrompt: awaitingNick ? NICK_PROMPT_TEXT : null,
    awaitingNick,
    everConnected: false,
    sessions: 0,
    outage: null,
  };
}

/**
 * The newest message on screen in a window: the newest one when it follows the newest line, else
 * the newest at or above the bottom line on screen. The read marker goes no further.
 */
export function newestOnScreen(w: ChatWindow): number | undefined {
  const scroll = w.scroll;
  return (scroll === null ? w.scrollback.newest() : w.scrollback.newest((l) => l.seq <= scroll))?.id;
}

export function currentWindow(state: ChatState): ChatWindow {
  return state.windows.find((w) => w.key === state.current) ?? state.windows[0];
}
