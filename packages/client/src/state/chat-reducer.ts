/**
 * The chat reducer: applies server frames (in batches) and user intents to the chat state.
 * Per message the work is O(1): the touched window gets a shallow copy once per batch and the
 * line is appended to its capped scrollback.
 *
 * @example
 * state = reduceChat(state, { type: 'frames', frames: [messageFrame], now: Date.now() });
 * state = reduceChat(state, { type: 'switch', key: '#general' });
 */
import { normalizeRoom, nickKey, formatPlain, type ServerFrame, type RoomMessage, type PrivateMessage } from '@teamchat/protocol';
import type { ConnectionState } from '../connection/chat-connection.js';
import { currentWindow, newWindow, NICK_PROMPT_TEXT, pmKey, roomKey, STATUS_KEY, type ChatState, type ChatWindow, type Outage, type WindowKind } from './chat-state.js';
import { describeReason, outageEndText, outageText } from './connection-text.js';
import { mentions } from './mentions.js';
import type { Line } from './scrollback.js';

export type ChatAction =
  | { type: 'frames'; frames: ServerFrame[]; now: number }
  | { type: 'connection'; state: ConnectionState; now: number }
  | { type: 'notice'; level: 'info' | 'error'; text: string; now: number; key?: string }
  | { type: 'switch'; key: string }
  | { type: 'switch-relative'; delta: number }
  | { type: 'switch-index'; index: number }
  | { type: 'open-pm'; nick: string }
  | { type: 'close-window'; key: string }
  | { type: 'focus-on-join'; room: string }
  /** An older page was asked for: by `/history` (answered at the bottom) or by scrolling past the top. */
  | { type: 'older-requested'; key: string; via?: 'command' | 'scroll' }
  /** The server refused the nick at the first connect: ask for another. */
  | { type: 'nick-rejected'; text: string }
  /** The nick typed in the prompt is not valid: ask again. */
  | { type: 'nick-invalid'; text: string }
  | { type: 'nick-retry'; nick: string };

/** Collects the window copies of one reduction, so each window is copied at most once. */
class Draft {
  readonly windows: ChatWindow[];
  readonly #copied = new Set<string>();
  current: string;
  nick: string;
  focusOnJoin: string | null;
  nickPrompt: string | null;
  sessions: number;

  constructor(readonly state: ChatState) {
    this.windows = state.windows.slice();
    this.current = state.current;
    this.nick = state.nick;
    this.focusOnJoin = state.focusOnJoin;
    this.nickPrompt = state.nickPrompt;
    this.sessions = state.sessions;
  }

  find(key: string): ChatWindow | undefined {
    const i = this.windows.findIndex((w) => w.key === key);
    if (i < 0) return undefined;
    if (!this.#copied.has(key)) {
      this.#copied.add(key);
      this.windows[i] = { ...this.windows[i]! };
    }
    return this.windows[i];
  }

  ensure(key: string, kind: WindowKind, name: string): ChatWindow {
    const found = this.find(key);
    if (found) return found;
    const w = newWindow(key, kind, name, this.state.scrollbackCap);
    this.windows.push(w);
    this.#copied.add(key);
    return w;
  }

  remove(key: string): void {
    const i = this.windows.findIndex((w) => w.key === key);
    if (i <= 0) return; // the status window stays
    this.windows.splice(i, 1);
    if (this.current === key) this.current = this.windows[Math.min(i, this.windows.length) - 1]!.key;
  }

  currentWindow(): ChatWindow {
    return this.find(this.current) ?? this.find(STATUS_KEY)!;
  }

  notice(kind: 'notice' | 'error', text: string, ts: number, key?: string): void {
    const w = (key !== undefined ? this.find(key) : undefined) ?? this.currentWindow();
    w.scrollback.addNotice(kind, text, ts);
  }

  finish(patch: Partial<ChatState> = {}): ChatState {
    for (const key of this.#copied) {
      const w = this.windows.find((x) => x.key === key);
      if (w) w.rev = w.scrollback.rev;
    }
    const current = this.windows.some((w) => w.key === this.current) ? this.current : STATUS_KEY;
    return { ...this.state, windows: this.windows, current, nick: this.nick, focusOnJoin: this.focusOnJoin, nickPrompt: this.nickPrompt, sessions: this.sessions, ...patch };
  }
}

function roomLine(m: RoomMessage, self: string): Line {
  return {
    seq: m.id,
    id: m.id,
    ts: m.ts,
    kind: m.action ? 'action' : 'message',
    nick: m.nick,
    text: m.text,
    ...(nickKey(m.nick) !== nickKey(self) && mentions(m.text, self) ? { mention: true } : {}),
  };
}

function pmLine(m: PrivateMessage, self: string): Line {
  return { seq: m.id, id: m.id, ts: m.ts, kind: m.action ? 'action' : 'message', nick: m.from, text: m.text, ...(nickKey(m.from) !== nickKey(self) && mentions(m.text, self) ? { mention: true } : {}) };
}

function markUnread(d: Draft, w: ChatWindow, from: string, mention: boolean): void {
  if (w.key === d.current || nickKey(from) === nickKey(d.nick)) return;
  w.unread++;
  if (mention) w.mentioned = true;
}

function switchTo(d: Draft, key: string): void {
  const w = d.find(key);
  if (!w) return;
  d.current = key;
  w.unread = 0;
  w.mentioned = false;
}

/** Shown in the status window after the first connect when you are in no room. */
export const NO_ROOM_HINT: readonly string[] = [
  'You are in no room yet. /join <room> joins one (a new name creates it), /rooms lists the rooms,',
  '/query <nick> opens a private conversation, /help lists every command and key.',
];

/** An older page arrived: mark the start of the history; answer `/history` where the user looks. */
function olderArrived(w: ChatWindow, added: number, more: boolean, label: string): void {
  const via = w.olderVia;
  w.hasOlder = more;
  w.loadingOlder = false;
  w.olderVia = null;
  const first = w.scrollback.lines[0];
  if (!more && !(first?.kind === 'notice' && first.text === START_OF_HISTORY)) {
    w.scrollback.add({ seq: (first?.seq ?? 0) - 0.5, ts: Date.now(), kind: 'notice', text: START_OF_HISTORY });
  }
  if (via !== 'command') return;
  const text =
    added === 0
      ? more
        ? `No older messages loaded for ${label}`
        : `Nothing older in ${label}: this is the start of its history`
      : `Loaded ${added} older message${added === 1 ? '' : 's'} above (PgUp to read)${more ? '' : `; that is the start of ${label}`}`;
  w.scrollback.addNotice('notice', text, Date.now());
}

const START_OF_HISTORY = 'Start of history';

function applyFrame(d: Draft, f: ServerFrame): void {
  const self = d.nick;
  switch (f.type) {
    case 'welcome': {
      d.nick = f.nick;
      d.nickPrompt = null;
      d.sessions++;
      const status = d.find(STATUS_KEY)!;
      status.name = f.server;
      status.scrollback.addNotice('notice', `Connected to ${f.server} as ${f.nick}`, Date.now());
      for (const room of f.rooms) d.ensure(roomKey(room), 'room', room);
      if (d.sessions === 1 && f.rooms.length === 0 && !d.windows.some((w) => w.kind === 'room')) {
        for (const text of NO_ROOM_HINT) status.scrollback.addNotice('notice', text, Date.now());
      }
      return;
    }
    case 'joined': {
      const key = roomKey(f.room);
      const existed = d.state.windows.some((w) => w.key === key);
      const w = d.ensure(key, 'room', f.room);
      const hadLines = w.scrollback.lines.some((l) => l.id !== undefined);
      w.topic = f.topic;
      w.users = f.users.slice().sort((a, b) => a.localeCompare(b));
      const fresh = hadLines ? f.history.filter((m) => !w.scrollback.has(m.id)).length : 0;
      // A rejoin says how many messages were missed before them, right after the gap.
      if (existed && hadLines && fresh > 0) w.scrollback.addNotice('notice', `Rejoined ${f.room}: ${fresh} new message${fresh === 1 ? '' : 's'} while you were away`, Date.now());
      let added = 0;
      for (const m of f.history) if (w.scrollback.add(roomLine(m, self))) added++;
      if (!hadLines) w.hasOlder = f.more;
      if (!existed || !hadLines) {
        w.scrollback.addNotice('notice', `Now talking in ${f.room}${f.topic ? ` - ${f.topic}` : ''} (${f.users.length} ${f.users.length === 1 ? 'user' : 'users'})`, Date.now());
      }
      if (hadLines && w.key !== d.current) w.unread += added;
      if (d.focusOnJoin === f.room || d.current === STATUS_KEY) {
        switchTo(d, key);
        if (d.focusOnJoin === f.room) d.focusOnJoin = null;
      }
      return;
    }
    case 'parted':
      d.remove(roomKey(f.room));
      d.notice('notice', `You left ${f.room}`, Date.now());
      return;
    case 'message': {
      const w = d.ensure(roomKey(f.room), 'room', f.room);
      const line = roomLine(f, self);
      if (w.scrollback.add(line)) markUnread(d, w, f.nick, line.mention === true);
      return;
    }
    case 'pm': {
      const mine = nickKey(f.from) === nickKey(self);
      const peer = mine ? f.to : f.from;
      const w = d.ensure(pmKey(peer), 'pm', peer);
      w.name = peer;
      if (w.scrollback.add(pmLine(f, self))) markUnread(d, w, f.from, true);
      return;
    }
    case 'presence': {
      const w = d.find(roomKey(f.room));
      if (!w) return;
      if (f.event === 'join') {
        if (!w.users.some((u) => nickKey(u) === nickKey(f.nick))) w.users = [...w.users, f.nick].sort((a, b) => a.localeCompare(b));
      } else {
        w.users = w.users.filter((u) => nickKey(u) !== nickKey(f.nick));
      }
      w.scrollback.addNotice('notice', formatPlain(f, self)[0]!.replace(/^\* /, ''), f.ts);
      return;
    }
    case 'nick': {
      if (f.room === undefined) {
        d.nick = f.new;
        d.notice('notice', `You are now known as ${f.new}`, f.ts);
        return;
      }
      const w = d.find(roomKey(f.room));
      if (w) {
        w.users = w.users.map((u) => (nickKey(u) === nickKey(f.old) ? f.new : u)).sort((a, b) => a.localeCompare(b));
        w.scrollback.addNotice('notice', `${f.old} is now known as ${f.new}`, f.ts);
      }
      const pm = d.find(pmKey(f.old));
      if (pm && !d.windows.some((x) => x.key === pmKey(f.new))) {
        pm.key = pmKey(f.new);
        pm.name = f.new;
        pm.scrollback.addNotice('notice', `${f.old} is now known as ${f.new}`, f.ts);
        if (d.current === pmKey(f.old)) d.current = pm.key;
      }
      return;
    }
    case 'topic': {
      const w = d.find(roomKey(f.room));
      if (f.by !== undefined) {
        if (w) {
          w.topic = f.topic;
          w.scrollback.addNotice('notice', f.topic ? `${f.by} set the topic to: ${f.topic}` : `${f.by} cleared the topic`, f.ts);
        }
      } else {
        if (w) w.topic = f.topic;
        d.notice('notice', f.topic ? `Topic for ${f.room}: ${f.topic}` : `No topic is set for ${f.room}`, f.ts, w?.key);
      }
      return;
    }
    case 'users': {
      const w = d.find(roomKey(f.room));
      if (w) w.users = f.users.slice().sort((a, b) => a.localeCompare(b));
      d.notice('notice', `Users in ${f.room} (${f.users.length}): ${f.users.join(', ')}`, Date.now());
      return;
    }
    case 'rooms':
    case 'status':
    case 'bye':
    case 'registered':
    case 'mode':
    case 'invite':
      for (const text of formatPlain(f, self)) {
        const error = text.startsWith('! ');
        d.notice(error ? 'error' : 'notice', text.replace(/^[*!] /, ''), Date.now());
      }
      return;
    case 'history': {
      const w = d.find(roomKey(f.room));
      if (!w) return;
      const added = w.scrollback.addMany(f.messages.map((m) => roomLine(m, self)));
      olderArrived(w, added, f.more, `#${f.room}`);
      return;
    }
    case 'pm-history': {
      let added = 0;
      for (const m of f.messages) {
        const peer = nickKey(m.from) === nickKey(self) ? m.to : m.from;
        const w = d.ensure(pmKey(peer), 'pm', peer);
        if (w.scrollback.add(pmLine(m, self))) added++;
      }
      if (f.with !== undefined) {
        const w = d.find(pmKey(f.with));
        if (w) olderArrived(w, added, f.more, `your conversation with ${w.name}`);
      }
      return;
    }
    case 'error':
      d.notice('error', `${f.message} [${f.code}]`, Date.now());
      return;
    case 'ack':
    case 'pong':
      return;
  }
}

/** Adds a line to each window (once per key); returns where each went. */
function addLines(d: Draft, keys: string[], kind: 'notice' | 'error', text: string, now: number): Outage['lines'] {
  return [...new Set(keys)].flatMap((key) => {
    const w = d.find(key);
    return w ? [{ key, seq: w.scrollback.addNotice(kind, text, now) }] : [];
  });
}

/** Rewrites an outage's status lines (re-adding one that was trimmed away); returns the keys rewritten in place. */
function rewriteLines(d: Draft, lines: Outage['lines'], kind: 'notice' | 'error', text: string, now: number): Outage['lines'] {
  return lines.flatMap((l) => {
    const w = d.find(l.key);
    if (!w) return [];
    return w.scrollback.replace(l.seq, kind, text) ? [l] : [{ key: l.key, seq: w.scrollback.addNotice(kind, text, now) }];
  });
}

/**
 * A connection state change. An outage (never connected yet, or a drop) is one status line in
 * the status window and in the window that was current, rewritten after every failed attempt
 * instead of one more line per attempt. Once connected again that line says so, and every other
 * window gets the same "Reconnected after ..." line, right where its messages stopped: the gap.
 */
function reduceConnection(state: ChatState, next: ConnectionState, now: number): ChatState {
  const prev = state.connection;
  const d = new Draft(state);
  let { outage, everConnected } = state;
  if (next.status === 'reconnecting' && (prev.status !== 'reconnecting' || prev.retryAt !== next.retryAt)) {
    const o: Outage = outage
      ? { ...outage, attempts: outage.attempts + 1, lastReason: next.reason }
      : { since: now, everConnected, attempts: 1, dropReason: next.reason, lastReason: next.reason, lines: [] };
    const text = outageText({ ...o, server: next.server });
    o.lines = outage ? rewriteLines(d, o.lines, 'error', text, now) : addLines(d, [STATUS_KEY, d.current], 'error', text, now);
    outage = o;
  }
  if (next.status === 'connected') everConnected = true;
  if (next.status === 'connected' && prev.status !== 'connected') {
    if (outage) {
      const text = outageEndText({ ...outage, server: next.server }, now);
      const rewritten = new Set(rewriteLines(d, outage.lines, 'notice', text, now).map((l) => l.key));
      if (outage.everConnected) addLines(d, d.windows.map((w) => w.key).filter((k) => !rewritten.has(k)), 'notice', text, now);
    }
    outage = null;
  }
  if (next.status === 'offline' && prev.status !== 'offline') {
    const why = describeReason(next.reason);
    const text = `Offline${why ? ` (${why})` : ''}`;
    if (outage) rewriteLines(d, outage.lines, 'error', text, now);
    else addLines(d, [STATUS_KEY, d.current], 'error', text, now);
    outage = null;
  }
  return d.finish({ connection: next, outage, everConnected });
}

/** Applies one action; returns the next state (the input state is not modified, except that scrollbacks are shared and append-only). */
export function reduceChat(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'frames': {
      const d = new Draft(state);
      for (const frame of action.frames) applyFrame(d, frame);
      return d.finish();
    }
    case 'connection':
      return reduceConnection(state, action.state, action.now);
    case 'notice': {
      const d = new Draft(state);
      d.notice(action.level === 'error' ? 'error' : 'notice', action.text, action.now, action.key);
      return d.finish();
    }
    case 'switch': {
      const d = new Draft(state);
      switchTo(d, action.key);
      return d.finish();
    }
    case 'switch-relative': {
      const n = state.windows.length;
      const i = state.windows.findIndex((w) => w.key === state.current);
      const next = state.windows[(((i + action.delta) % n) + n) % n]!;
      return reduceChat(state, { type: 'switch', key: next.key });
    }
    case 'switch-index': {
      const w = state.windows[action.index];
      return w ? reduceChat(state, { type: 'switch', key: w.key }) : state;
    }
    case 'open-pm': {
      const d = new Draft(state);
      const w = d.ensure(pmKey(action.nick), 'pm', action.nick);
      switchTo(d, w.key);
      return d.finish();
    }
    case 'close-window': {
      const d = new Draft(state);
      d.remove(action.key);
      return d.finish();
    }
    case 'focus-on-join': {
      const room = normalizeRoom(action.room);
      if (!room) return state;
      if (state.windows.some((w) => w.key === roomKey(room))) return reduceChat(state, { type: 'switch', key: roomKey(room) });
      return { ...state, focusOnJoin: room };
    }
    case 'nick-rejected':
      return { ...state, nickPrompt: `${action.text} - choose another nick: ` };
    case 'nick-invalid':
      return { ...state, nickPrompt: `${action.text} - ${NICK_PROMPT_TEXT.toLowerCase()}` };
    case 'nick-retry':
      return { ...state, nickPrompt: null, awaitingNick: false, nick: action.nick };
    case 'older-requested': {
      const d = new Draft(state);
      const w = d.find(action.key);
      if (w) {
        w.loadingOlder = true;
        w.olderVia = action.via ?? 'scroll';
      }
      return d.finish();
    }
  }
}

export { currentWindow };
