/**
 * The chat reducer: applies server frames (in batches) and user intents to the chat state.
 * Per message the work is O(1): the touched window gets a shallow copy once per batch and the
 * line is appended to its capped scrollback.
 *
 * @example
 * state = reduceChat(state, { type: 'frames', frames: [messageFrame], now: Date.now() });
 * state = reduceChat(state, { type: 'switch', key: '#general' });
 */
import {
  normalizeRoom,
  nickKey,
  formatPlain,
  UNREAD_PM_CONVERSATIONS_MAX,
  type ServerFrame,
  type UnreadCount,
  type RoomMessage,
  type PrivateMessage,
  type SearchHit,
} from '@teamchat/protocol';
import type { ConnectionState } from '../connection/chat-connection.js';
import {
  currentWindow,
  MENTIONS_KEY,
  newWindow,
  NICK_PROMPT_TEXT,
  pmKey,
  roomKey,
  SEARCH_KEY,
  STATUS_KEY,
  THREAD_KEY,
  type ChatState,
  type ChatWindow,
  type HistoryWait,
  type Outage,
  type ResultItem,
  type WindowKind,
} from './chat-state.js';
import { describeReason, outageEndText, outageText } from './connection-text.js';
import { gapAt, gapPageArrived, type GapSide } from './history-gaps.js';
import { highlightList } from './highlight-words.js';
import { mentionRanges, mentions } from './mentions.js';
import { Scrollback, type Line } from './scrollback.js';

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
  | { type: 'nick-retry'; nick: string }
  /** `/ids`: show or hide message ids in the pane. */
  | { type: 'toggle-ids' }
  /** A search was sent (`page`: the next page of the current one). */
  | { type: 'search-started'; q: string; room?: string; from?: string; page: boolean }
  /** `/mentions` was sent (`page`: older ones). */
  | { type: 'mentions-started'; page: boolean }
  /** Up/Down in a results window. */
  | { type: 'select-result'; delta: number }
  /** Open a message in its window, highlighted; `fetch` history pages were asked for around it. */
  | { type: 'jump'; key: string; id: number; fetch: Array<'before' | 'after'> }
  /** A thread was asked for (`history {room, thread}`). */
  | { type: 'thread-requested'; room: string; id: number }
  /** The window was scrolled: `seq` of the bottom line on screen, null back at the newest line. */
  | { type: 'scrolled'; key: string; seq: number | null }
  /** A page of the gap at line `seq` was asked for, from its `side`. */
  | { type: 'gap-requested'; key: string; seq: number; side: GapSide }
  /** A page of a gap got no history answer (refused, timed out): stop waiting for it. */
  | { type: 'gap-failed'; key: string };

/** Collects the window copies of one reduction, so each window is copied at most once. */
class Draft {
  readonly windows: ChatWindow[];
  readonly #copied = new Set<string>();
  current: string;
  nick: string;
  focusOnJoin: string | null;
  nickPrompt: string | null;
  sessions: number;
  bells: number;
  historyWaits: HistoryWait[];
  jump: ChatState['jump'];
  highlightWords: readonly string[];

  constructor(readonly state: ChatState) {
    this.windows = state.windows.slice();
    this.current = state.current;
    this.nick = state.nick;
    this.focusOnJoin = state.focusOnJoin;
    this.nickPrompt = state.nickPrompt;
    this.sessions = state.sessions;
    this.bells = state.bells;
    this.historyWaits = state.historyWaits;
    this.jump = state.jump;
    this.highlightWords = state.highlightWords;
  }

  get words(): readonly string[] {
    return this.highlightWords;
  }

  /** The first history answer expected for `key` (taken off the list). */
  takeWait(key: string): HistoryWait | undefined {
    const i = this.historyWaits.findIndex((w) => w.key === key);
    if (i < 0) return undefined;
    const wait = this.historyWaits[i];
    this.historyWaits = [...this.historyWaits.slice(0, i), ...this.historyWaits.slice(i + 1)];
    return wait;
  }

  find(key: string): ChatWindow | undefined {
    const i = this.windows.findIndex((w) => w.key === key);
    if (i < 0) return undefined;
    if (!this.#copied.has(key)) {
      this.#copied.add(key);
      this.windows[i] = { ...this.windows[i] };
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
    if (this.current === key) this.current = this.windows[Math.min(i, this.windows.length) - 1].key;
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
    return {
      ...this.state,
      windows: this.windows,
      current,
      nick: this.nick,
      focusOnJoin: this.focusOnJoin,
      nickPrompt: this.nickPrompt,
      sessions: this.sessions,
      bells: this.bells,
      historyWaits: this.historyWaits,
      jump: this.jump,
      highlightWords: this.highlightWords,
      ...patch,
    };
  }
}

/** The quoted parent of a reply, from the lines held. */
function quoteOf(sb: Scrollback, replyTo: number): Line['quote'] {
  const parent = sb.get(replyTo);
  if (!parent) return null;
  return { nick: parent.nick ?? '?', text: parent.text, ...(parent.deleted ? { deleted: true } : {}) };
}

/** A room message as a line; `sb` (the window it goes to) resolves the parent of a reply. */
function roomLine(m: RoomMessage, self: string, words: readonly string[] = [], sb?: Scrollback): Line {
  return {
    seq: m.id,
    id: m.id,
    ts: m.ts,
    kind: m.action ? 'action' : 'message',
    nick: m.nick,
    text: m.text,
    ...(!m.deleted && nickKey(m.nick) !== nickKey(self) && mentions(m.text, self, words) ? { mention: true } : {}),
    ...(m.edited !== undefined && !m.deleted ? { edited: true } : {}),
    ...(m.deleted ? { deleted: true } : {}),
    ...(m.reactions && Object.keys(m.reactions).length > 0 ? { reactions: m.reactions } : {}),
    ...(m.replyTo !== undefined ? { replyTo: m.replyTo, quote: sb ? quoteOf(sb, m.replyTo) : null } : {}),
  };
}

function pmLine(m: PrivateMessage, self: string, words: readonly string[] = []): Line {
  return {
    seq: m.id,
    id: m.id,
    ts: m.ts,
    kind: m.action ? 'action' : 'message',
    nick: m.from,
    text: m.text,
    ...(nickKey(m.from) !== nickKey(self) && mentions(m.text, self, words) ? { mention: true } : {}),
  };
}

/** Adds room messages one by one (a reply's parent may come earlier in the same page); returns how many were new. */
function addRoomMessages(d: Draft, w: ChatWindow, messages: readonly RoomMessage[]): number {
  let added = 0;
  for (const m of messages) if (w.scrollback.add(roomLine(m, d.nick, d.words, w.scrollback))) added++;
  // Replies held before their parent arrived (an older page) get their quote now.
  w.scrollback.updateWhere(
    (l) => l.replyTo !== undefined && !l.quote && w.scrollback.has(l.replyTo),
    (l) => ({ ...l, quote: quoteOf(w.scrollback, l.replyTo!) }),
  );
  return added;
}

function markUnread(d: Draft, w: ChatWindow, from: string, mention: boolean): void {
  if (w.key === d.current || nickKey(from) === nickKey(d.nick)) return;
  w.unread++;
  if (mention) {
    w.mentioned = true;
    w.mentions++;
  }
}

/** Messages from others after the read marker, among the lines held. */
function countAfter(w: ChatWindow, self: string): { unread: number; mentions: number; first: Line | undefined } {
  let unread = 0;
  let mentioned = 0;
  let first: Line | undefined;
  const lines = w.scrollback.lines;
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i];
    if (l.id === undefined) continue;
    if (l.id <= w.marker) break;
    if (l.deleted || nickKey(l.nick ?? '') === nickKey(self)) continue;
    unread++;
    if (l.mention) mentioned++;
    first = l;
  }
  return { unread, mentions: mentioned, first };
}

/** The read marker moved: recount what is unread, when the lines held reach back to it. */
function recount(w: ChatWindow, self: string): void {
  const oldest = w.scrollback.oldestId();
  if (oldest === null || w.marker + 1 < oldest) {
    // The marker is older than anything held: the server's count stands (it only goes down when read).
    if (oldest !== null && w.marker >= (w.scrollback.newest()?.id ?? 0)) w.unread = 0;
    return;
  }
  const c = countAfter(w, self);
  w.unread = Math.min(w.unread, c.unread);
  w.mentions = Math.min(w.mentions, c.mentions);
  w.mentioned = w.mentions > 0;
}

/** The "where you left off" line: after the read marker, when something from others follows it. */
function placeMarkerLine(w: ChatWindow, self: string): void {
  w.scrollback.removeKind('marker');
  if (w.marker <= 0 || (w.kind !== 'room' && w.kind !== 'pm')) return;
  const { unread, first } = countAfter(w, self);
  if (!first || unread === 0) return;
  const oldest = w.scrollback.oldestId();
  if (oldest === null || w.marker + 1 < oldest) return;
  w.scrollback.add({ seq: w.marker + 0.5, ts: first.ts, kind: 'marker', text: `${unread} new since you last read` });
}

function switchTo(d: Draft, key: string): void {
  const w = d.find(key);
  if (!w) return;
  const leaving = d.current !== key ? d.find(d.current) : undefined;
  if (leaving) leaving.focusId = null;
  d.current = key;
  if (leaving || w.scrollback.lines.every((l) => l.kind !== 'marker')) placeMarkerLine(w, d.nick);
  w.unread = 0;
  w.mentioned = false;
  w.mentions = 0;
}

/** Shown in the status window after the first connect when you are in no room. */
export const NO_ROOM_HINT: readonly string[] = [
  'You are in no room yet. /join <room> joins one (a new name creates it), /rooms lists the rooms,',
  '/query <nick> opens a private conversation, /help lists every command and key.',
];

/** An older page arrived: mark the start of the history; answer `/history` where the user looks. */
function olderArrived(w: ChatWindow, added: number, more: boolean, label: string, startLine = true): void {
  const via = w.olderVia;
  w.hasOlder = more;
  w.loadingOlder = false;
  w.olderVia = null;
  const first = w.scrollback.lines[0];
  if (startLine && !more && !(first?.kind === 'notice' && first.text === START_OF_HISTORY)) {
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

/** The gap a jump leaves between the page around a message and the newest lines. */
export const GAP_TEXT = 'Newer messages up to the next line are not loaded here yet: scroll on to load them';

/** A page around a message we jumped to arrived. */
function jumpPageArrived(
  w: ChatWindow,
  wait: HistoryWait,
  messages: ReadonlyArray<{ id: number }>,
  more: boolean,
  oldestBefore: number | null,
): void {
  const first = messages[0];
  const last = messages.at(-1);
  if (wait.part === 'before') {
    // It reaches further back than anything held: whether there is more before it.
    if (first && (oldestBefore === null || first.id < oldestBefore)) w.hasOlder = more;
    return;
  }
  // After the message: `more` says there are newer messages this page did not bring, before the lines held.
  if (more && last)
    w.scrollback.add({ seq: last.id + 0.75, ts: Date.now(), kind: 'notice', text: GAP_TEXT, gap: true });
}

/** An edit, deletion or reaction: the line changes where it is held (its room, the thread on screen). */
function editLines(d: Draft, room: string, id: number, change: (line: Line) => Line): void {
  for (const key of [roomKey(room), THREAD_KEY]) {
    const held = d.state.windows.find((x) => x.key === key);
    if (!held || (key === THREAD_KEY && held.thread?.room !== room) || !held.scrollback.has(id)) continue;
    const w = d.find(key)!;
    w.scrollback.update(id, change);
    const parent = w.scrollback.get(id)!;
    // Replies quote the new text (or the tombstone).
    w.scrollback.updateWhere(
      (l) => l.replyTo === id && l.quote !== undefined,
      (l) => ({
        ...l,
        quote: { nick: parent.nick ?? '?', text: parent.text, ...(parent.deleted ? { deleted: true } : {}) },
      }),
    );
  }
}

function withReaction(
  reactions: Record<string, string[]> | undefined,
  emoji: string,
  nick: string,
  added: boolean,
): Record<string, string[]> | undefined {
  const next = { ...(reactions ?? {}) };
  const who = (next[emoji] ?? []).filter((n) => nickKey(n) !== nickKey(nick));
  if (added) who.push(nick);
  if (who.length > 0) next[emoji] = who;
  else delete next[emoji];
  return Object.keys(next).length > 0 ? next : undefined;
}

function hitItem(h: SearchHit): ResultItem {
  return {
    id: h.id,
    ts: h.ts,
    room: h.room,
    nick: h.nick,
    ...(h.to !== undefined ? { to: h.to } : {}),
    text: h.text,
    highlights: h.highlights,
  };
}

/** Redraws a results window (search, mentions) from its list: a header, one line per item, a footer. */
function showResults(d: Draft, w: ChatWindow): void {
  const r = w.results;
  if (!r) return;
  const sb = new Scrollback(Math.max(d.state.scrollbackCap, r.items.length + 10));
  const n = r.items.length;
  const what =
    w.kind === 'search'
      ? `Search "${r.query}"${r.room ? ` in #${r.room}` : ''}${r.from ? ` from ${r.from}` : ''}`
      : 'Mentions of you';
  const count = r.loading === 'new' ? 'searching...' : `${n}${r.more ? '+' : ''} result${n === 1 ? '' : 's'}`;
  sb.add({
    seq: 0,
    ts: Date.now(),
    kind: 'notice',
    text: `${what}: ${count}${n > 0 ? ' - Up/Down select, Enter (or /goto N) opens' : ''}`,
  });
  r.items.forEach((it, i) => {
    const self = d.nick;
    const where =
      it.room !== null ? `#${it.room}` : `PM ${nickKey(it.nick) === nickKey(self) ? (it.to ?? '?') : it.nick}`;
    const peer = it.room === null ? (nickKey(it.nick) === nickKey(self) ? it.to : it.nick) : undefined;
    sb.add({
      seq: i + 1,
      ts: it.ts,
      kind: 'hit',
      index: i + 1,
      where,
      nick: it.nick,
      text: it.text,
      highlights: it.highlights,
      target: { id: it.id, room: it.room, ...(peer !== undefined ? { peer } : {}) },
    });
  });
  if (r.loading === 'more') sb.add({ seq: n + 1, ts: Date.now(), kind: 'notice', text: 'Loading more...' });
  else if (r.more)
    sb.add({ seq: n + 1, ts: Date.now(), kind: 'notice', text: 'More results: /more (or Down past the last one)' });
  else if (r.loading === null && n > 0) sb.add({ seq: n + 1, ts: Date.now(), kind: 'notice', text: 'End of results' });
  w.scrollback = sb;
}

/** Adds a thread's messages to its window; returns how many were new. */
function addThreadMessages(d: Draft, w: ChatWindow, id: number, messages: readonly RoomMessage[]): number {
  let added = 0;
  for (const m of messages) {
    // Replies to the root need no quote of it here.
    const { quote: _q, ...line } = roomLine(m, d.nick, d.words, w.scrollback);
    if (
      w.scrollback.add(
        m.replyTo === id
          ? line
          : { ...line, ...(m.replyTo !== undefined ? { quote: quoteOf(w.scrollback, m.replyTo) } : {}) },
      )
    )
      added++;
  }
  return added;
}

/** A thread arrived (its newest page): the thread window shows the root and its replies; `more`: older replies are not in it. */
function showThread(d: Draft, room: string, id: number, messages: readonly RoomMessage[], more: boolean): void {
  const w = d.ensure(THREAD_KEY, 'thread', `thread ${id}`);
  w.name = `thread ${id}`;
  w.thread = { room, id };
  w.scrollback = new Scrollback(d.state.scrollbackCap);
  w.scroll = null;
  w.hasOlder = more;
  w.loadingOlder = false;
  w.olderVia = null;
  const replies = messages.filter((m) => m.id !== id).length;
  w.scrollback.add({
    seq: 0,
    ts: Date.now(),
    kind: 'notice',
    text:
      messages.length === 0
        ? `No message ${id} in #${room}`
        : `Thread of message ${id} in #${room}: ${more ? 'the latest ' : ''}${replies} repl${replies === 1 ? 'y' : 'ies'}${more ? ' (/history or PgUp: older ones)' : ''} - what you type here replies to it`,
  });
  addThreadMessages(d, w, id, messages);
  switchTo(d, THREAD_KEY);
}

/** An older page of the thread on screen arrived (`/history` or PgUp there). */
function threadOlderArrived(d: Draft, room: string, id: number, messages: readonly RoomMessage[], more: boolean): void {
  const held = d.state.windows.find((x) => x.key === THREAD_KEY);
  if (!held || held.thread?.room !== room || held.thread.id !== id) return; // another thread is shown now
  const w = d.find(THREAD_KEY)!;
  const added = addThreadMessages(d, w, id, messages);
  olderArrived(w, added, more, 'this thread', false);
}

function applyFrame(d: Draft, f: ServerFrame): void {
  const self = d.nick;
  switch (f.type) {
    case 'welcome': {
      d.nick = f.nick;
      d.nickPrompt = null;
      d.sessions++;
      // Answers to requests of an earlier connection will not come.
      d.historyWaits = [];
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
      if (existed && hadLines && fresh > 0)
        w.scrollback.addNotice(
          'notice',
          `Rejoined ${f.room}: ${fresh} new message${fresh === 1 ? '' : 's'} while you were away`,
          Date.now(),
        );
      const added = addRoomMessages(d, w, f.history);
      if (!hadLines) w.hasOlder = f.more;
      if (!existed || !hadLines) {
        w.scrollback.addNotice(
          'notice',
          `Now talking in ${f.room}${f.topic ? ` - ${f.topic}` : ''} (${f.users.length} ${f.users.length === 1 ? 'user' : 'users'})`,
          Date.now(),
        );
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
      const line = roomLine(f, self, d.words, w.scrollback);
      if (w.scrollback.add(line)) {
        markUnread(d, w, f.nick, line.mention === true);
        if (line.mention) d.bells++;
        // A reply in the thread on screen joins it there too.
        const t = d.state.windows.find((x) => x.key === THREAD_KEY);
        if (t?.thread && t.thread.room === f.room && f.replyTo === t.thread.id) {
          const tw = d.find(THREAD_KEY)!;
          const { quote: _q, ...plain } = line;
          tw.scrollback.add(plain);
        }
      }
      return;
    }
    case 'pm': {
      const mine = nickKey(f.from) === nickKey(self);
      const peer = mine ? f.to : f.from;
      const w = d.ensure(pmKey(peer), 'pm', peer);
      w.name = peer;
      if (w.scrollback.add(pmLine(f, self, d.words))) {
        markUnread(d, w, f.from, true);
        if (!mine) d.bells++;
      }
      return;
    }
    case 'edited':
      return editLines(d, f.room, f.id, (l) => ({
        ...l,
        text: f.text,
        edited: true,
        ...(nickKey(l.nick ?? '') !== nickKey(self) && mentions(f.text, self, d.words)
          ? { mention: true }
          : { mention: false }),
      }));
    case 'deleted':
      return editLines(d, f.room, f.id, (l) => {
        const { reactions: _r, edited: _e, mention: _m, ...rest } = l;
        return { ...rest, text: '', deleted: true };
      });
    case 'reaction':
      return editLines(d, f.room, f.id, (l) => ({
        ...l,
        reactions: withReaction(l.reactions, f.emoji, f.nick, f.added),
      }));
    case 'unread': {
      const counted = (w: ChatWindow, c: UnreadCount) => {
        w.marker = Math.max(w.marker, c.marker);
        if (w.key === d.current) return placeMarkerLine(w, self);
        w.unread = c.unread;
        w.mentions = c.mentions;
        w.mentioned = c.mentions > 0;
      };
      for (const [room, c] of Object.entries(f.rooms)) {
        const w = d.find(roomKey(room));
        if (w) counted(w, c);
      }
      if (f.pms === undefined) return;
      // A conversation with unread messages gets its window (its messages are fetched by the app).
      const listed = new Set<string>();
      for (const [nick, c] of Object.entries(f.pms)) {
        const w = d.ensure(pmKey(nick), 'pm', nick);
        listed.add(w.key);
        counted(w, c);
      }
      // A complete list: the conversations it leaves out have nothing unread (read on another device meanwhile).
      if (listed.size < UNREAD_PM_CONVERSATIONS_MAX) {
        for (const held of d.state.windows) {
          if (held.kind !== 'pm' || listed.has(held.key) || held.key === d.current || held.unread === 0) continue;
          const w = d.find(held.key)!;
          w.unread = 0;
          w.mentions = 0;
          w.mentioned = false;
        }
      }
      return;
    }
    case 'highlights': {
      d.highlightWords = f.words;
      // Without a ref it was changed on another connection of yours (this one's answers carry one).
      if (f.ref === undefined)
        d.notice(
          'notice',
          `Highlight words changed on another device: ${highlightList(f.words)}`,
          Date.now(),
          STATUS_KEY,
        );
      return;
    }
    case 'marker': {
      const key = f.room !== undefined ? roomKey(f.room) : f.with !== undefined ? pmKey(f.with) : null;
      const w = key ? d.find(key) : undefined;
      if (!w || f.id <= w.marker) return;
      w.marker = f.id;
      if (w.key !== d.current) recount(w, self);
      return;
    }
    case 'search-results': {
      const w = d.ensure(SEARCH_KEY, 'search', 'search');
      const r = w.results ?? { query: f.q, items: [], more: false, selected: 0, loading: null };
      const items = f.results.map(hitItem);
      const appending = r.loading === 'more' && r.query === f.q;
      w.results = {
        ...r,
        query: f.q,
        items: appending ? [...r.items, ...items] : items,
        more: f.more,
        ...(f.next !== undefined ? { next: f.next } : { next: undefined }),
        selected: appending ? r.selected : 0,
        loading: null,
      };
      showResults(d, w);
      return;
    }
    case 'mentions': {
      const w = d.ensure(MENTIONS_KEY, 'mentions', 'mentions');
      const r = w.results ?? { query: '', items: [], more: false, selected: 0, loading: null };
      // Newest first; the next page goes back from the oldest.
      const items: ResultItem[] = f.messages
        .slice()
        .reverse()
        .map((m) => ({
          id: m.id,
          ts: m.ts,
          room: m.room,
          nick: m.nick,
          text: m.text,
          highlights: mentionRanges(m.text, self, d.words),
        }));
      const appending = r.loading === 'more';
      const next = f.messages[0]?.id;
      w.results = {
        ...r,
        items: appending ? [...r.items, ...items] : items,
        more: f.more,
        next: f.more ? next : undefined,
        selected: appending ? r.selected : 0,
        loading: null,
      };
      showResults(d, w);
      return;
    }
    case 'presence': {
      const w = d.find(roomKey(f.room));
      if (!w) return;
      if (f.event === 'join') {
        if (!w.users.some((u) => nickKey(u) === nickKey(f.nick)))
          w.users = [...w.users, f.nick].sort((a, b) => a.localeCompare(b));
      } else {
        w.users = w.users.filter((u) => nickKey(u) !== nickKey(f.nick));
      }
      w.scrollback.addNotice('notice', formatPlain(f, self)[0].replace(/^\* /, ''), f.ts);
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
          w.scrollback.addNotice(
            'notice',
            f.topic ? `${f.by} set the topic to: ${f.topic}` : `${f.by} cleared the topic`,
            f.ts,
          );
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
      const wait = d.takeWait(roomKey(f.room));
      if (wait?.purpose === 'thread')
        return showThread(d, f.room, wait.id ?? f.messages[0]?.id ?? 0, f.messages, f.more);
      if (wait?.purpose === 'thread-older') return threadOlderArrived(d, f.room, wait.id ?? 0, f.messages, f.more);
      const w = d.find(roomKey(f.room));
      if (!w) return;
      const oldest = w.scrollback.oldestId();
      const gap = wait?.purpose === 'gap' ? gapAt(w.scrollback.lines, wait.id ?? -1) : null;
      const added = addRoomMessages(d, w, f.messages);
      if (wait?.purpose === 'jump') return jumpPageArrived(w, wait, f.messages, f.more, oldest);
      if (wait?.purpose === 'gap') {
        if (gap) gapPageArrived(w, gap, wait.part ?? 'after', f.messages, f.more);
        return;
      }
      olderArrived(w, added, f.more, `#${f.room}`);
      return;
    }
    case 'pm-history': {
      const wait = f.with !== undefined ? d.takeWait(pmKey(f.with)) : undefined;
      let added = 0;
      const target = f.with !== undefined ? d.find(pmKey(f.with)) : undefined;
      const oldest = target?.scrollback.oldestId() ?? null;
      const gap = target && wait?.purpose === 'gap' ? gapAt(target.scrollback.lines, wait.id ?? -1) : null;
      for (const m of f.messages) {
        const peer = nickKey(m.from) === nickKey(self) ? m.to : m.from;
        const w = d.ensure(pmKey(peer), 'pm', peer);
        if (w.scrollback.add(pmLine(m, self, d.words))) added++;
      }
      if (target && wait?.purpose === 'jump') {
        return jumpPageArrived(target, wait, f.messages, f.more, oldest);
      }
      if (wait?.purpose === 'gap') {
        if (target && gap) gapPageArrived(target, gap, wait.part ?? 'after', f.messages, f.more);
        return;
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
function rewriteLines(
  d: Draft,
  lines: Outage['lines'],
  kind: 'notice' | 'error',
  text: string,
  now: number,
): Outage['lines'] {
  return lines.flatMap((l) => {
    const w = d.find(l.key);
    if (!w) return [];
    return w.scrollback.replace(l.seq, kind, text)
      ? [l]
      : [{ key: l.key, seq: w.scrollback.addNotice(kind, text, now) }];
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
    o.lines = outage
      ? rewriteLines(d, o.lines, 'error', text, now)
      : addLines(d, [STATUS_KEY, d.current], 'error', text, now);
    outage = o;
  }
  if (next.status === 'connected') everConnected = true;
  if (next.status === 'connected' && prev.status !== 'connected') {
    if (outage) {
      const text = outageEndText({ ...outage, server: next.server }, now);
      const rewritten = new Set(rewriteLines(d, outage.lines, 'notice', text, now).map((l) => l.key));
      if (outage.everConnected)
        addLines(
          d,
          d.windows.map((w) => w.key).filter((k) => !rewritten.has(k)),
          'notice',
          text,
          now,
        );
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
      const next = state.windows[(((i + action.delta) % n) + n) % n];
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
      if (state.windows.some((w) => w.key === roomKey(room)))
        return reduceChat(state, { type: 'switch', key: roomKey(room) });
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
        // A thread's page is answered as a page of its room.
        const wait: HistoryWait =
          w.kind === 'thread' && w.thread
            ? { key: roomKey(w.thread.room), purpose: 'thread-older', id: w.thread.id }
            : { key: action.key, purpose: 'older' };
        d.historyWaits = [...d.historyWaits, wait];
      }
      return d.finish();
    }
    case 'toggle-ids': {
      const showIds = !state.showIds;
      const d = new Draft(state);
      d.notice(
        'notice',
        showIds
          ? 'Message ids shown (#id before each message; /ids hides them)'
          : 'Message ids hidden (/ids shows them)',
        Date.now(),
      );
      return d.finish({ showIds });
    }
    case 'search-started': {
      const d = new Draft(state);
      const w = d.ensure(SEARCH_KEY, 'search', 'search');
      const r = w.results;
      w.results =
        action.page && r
          ? { ...r, loading: 'more' }
          : {
              query: action.q,
              ...(action.room ? { room: action.room } : {}),
              ...(action.from ? { from: action.from } : {}),
              items: [],
              more: false,
              selected: 0,
              loading: 'new',
            };
      showResults(d, w);
      switchTo(d, SEARCH_KEY);
      return d.finish();
    }
    case 'mentions-started': {
      const d = new Draft(state);
      const w = d.ensure(MENTIONS_KEY, 'mentions', 'mentions');
      const r = w.results;
      w.results =
        action.page && r
          ? { ...r, loading: 'more' }
          : { query: '', items: [], more: false, selected: 0, loading: 'new' };
      showResults(d, w);
      switchTo(d, MENTIONS_KEY);
      return d.finish();
    }
    case 'select-result': {
      const d = new Draft(state);
      const w = d.currentWindow();
      const r = w.results;
      if (!r || r.items.length === 0) return state;
      const selected = Math.max(0, Math.min(r.items.length - 1, r.selected + action.delta));
      if (selected === r.selected) return state;
      w.results = { ...r, selected };
      return d.finish();
    }
    case 'jump': {
      const d = new Draft(state);
      const w = d.find(action.key);
      if (!w) return state;
      switchTo(d, action.key);
      w.focusId = action.id;
      // Scrolled to the message (the pane places it once it is held), not following the newest.
      w.scroll = action.id;
      d.jump = { key: action.key, id: action.id, n: (state.jump?.n ?? 0) + 1 };
      d.historyWaits = [
        ...d.historyWaits,
        ...action.fetch.map((part): HistoryWait => ({ key: action.key, purpose: 'jump', part, id: action.id })),
      ];
      return d.finish();
    }
    case 'thread-requested': {
      const d = new Draft(state);
      d.historyWaits = [...d.historyWaits, { key: roomKey(action.room), purpose: 'thread', id: action.id }];
      return d.finish();
    }
    case 'scrolled': {
      const held = state.windows.find((w) => w.key === action.key);
      if (!held || held.scroll === action.seq) return state;
      const d = new Draft(state);
      d.find(action.key)!.scroll = action.seq;
      return d.finish();
    }
    case 'gap-requested': {
      if (state.historyWaits.some((w) => w.key === action.key && w.purpose === 'gap')) return state;
      return {
        ...state,
        historyWaits: [...state.historyWaits, { key: action.key, purpose: 'gap', part: action.side, id: action.seq }],
      };
    }
    case 'gap-failed': {
      const i = state.historyWaits.findIndex((w) => w.key === action.key && w.purpose === 'gap');
      return i < 0 ? state : { ...state, historyWaits: state.historyWaits.filter((_, k) => k !== i) };
    }
  }
}

export { currentWindow };
