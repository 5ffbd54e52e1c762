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
  /** The nick was refused at the first connect: the UI asks for another one. */
  nickError: string | null;
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
  return { key, kind, name, topic: null, users: [], scrollback, rev: scrollback.rev, unread: 0, mentioned: false, hasOlder: false, loadingOlder: false };
}

/**
 * The state before connecting.
 *
 * @example
 * const state = initialChatState({ status: 'connecting', server: 'localhost:5555', nick: 'alice', retryAt: null, reason: null, ready: false });
 */
export function initialChatState(connection: ConnectionState, scrollbackCap = SCROLLBACK_CAP): ChatState {
  return {
    nick: connection.nick,
    connection,
    windows: [newWindow(STATUS_KEY, 'status', connection.server, scrollbackCap)],
    current: STATUS_KEY,
    focusOnJoin: null,
    scrollbackCap,
    nickError: null,
  };
}

export function currentWindow(state: ChatState): ChatWindow {
  return state.windows.find((w) => w.key === state.current) ?? state.windows[0]!;
}
