/**
 * The client's view of the chat: windows (the status window, rooms, private conversations),
 * the current window, unread counts and mention marks. Plain data; changed only by `reduceChat`.
 */
import type { ConnectionState } from '../connection/chat-connection.js';
import { Scrollback, SCROLLBACK_CAP } from './scrollback.js';

export type WindowKind = 'status' | 'room' | 'pm';

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
  /** Older messages exist on the server beyond the oldest line held. */
  hasOlder: boolean;
  /** An older page was asked for and has not arrived yet. */
  loadingOlder: boolean;
  /** Who asked for it: `/history` gets an answer at the bottom, where the user is looking. */
  olderVia: 'command' | 'scroll' | null;
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

export interface ChatState {
  nick: string;
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

export function roomKey(room: string): string {
  return `#${room}`;
}

export function pmKey(nick: string): string {
  return `@${nick.toLowerCase()}`;
}

export function newWindow(key: string, kind: WindowKind, name: string, cap: number): ChatWindow {
  const scrollback = new Scrollback(cap);
  return { key, kind, name, topic: null, users: [], scrollback, rev: scrollback.rev, unread: 0, mentioned: false, hasOlder: false, loadingOlder: false, olderVia: null };
}

export const NICK_PROMPT_TEXT = 'Choose a nick: ';

/**
 * The state before connecting. Without a nick (`connection.nick === ''`) the input line asks
 * for one first.
 *
 * @example
 * const state = initialChatState({ status: 'connecting', server: 'localhost:5555', nick: 'alice', retryAt: null, reason: null, ready: false });
 */
export function initialChatState(connection: ConnectionState, scrollbackCap = SCROLLBACK_CAP): ChatState {
  const status = newWindow(STATUS_KEY, 'status', connection.server, scrollbackCap);
  const awaitingNick = connection.nick === '';
  if (awaitingNick) {
    status.scrollback.addNotice('notice', `Welcome to teamchat. Choose a nick (1-24 letters, digits, _ or -) to connect to ${connection.server}.`, Date.now());
    status.rev = status.scrollback.rev;
  }
  return {
    nick: connection.nick,
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

export function currentWindow(state: ChatState): ChatWindow {
  return state.windows.find((w) => w.key === state.current) ?? state.windows[0]!;
}
