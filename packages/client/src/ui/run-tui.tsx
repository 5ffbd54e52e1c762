/**
 * Runs the full-screen Ink client until the user quits. Wires the connection to the store
 * (frames in batches) and the UI's intents to the connection. Uses the terminal's alternate
 * screen and bracketed paste, and restores both on exit.
 *
 * Start-up is ordered for a fast first screen: this module loads neither Ink nor React. It
 * creates the store, starts the connection (unless it must first ask for a nick) and paints a
 * boot frame (ui/boot-screen.ts: the status bar, kept up to date), and only then loads Ink and
 * the App (ui/mount-app.tsx), which takes most of the start-up time; the connection handshake
 * runs meanwhile. Keys typed before Ink is up wait in the terminal (raw mode is on at once, so
 * they are not echoed) and reach the input line when it appears.
 *
 * @example
 * const code = await runTui({ connection, noColor: !!process.env.NO_COLOR, theme: 'light' });
 */
import { isValidNick, normalizeRoom, nickKey } from '@teamchat/protocol';
import type { Instance } from 'ink';
import type { ChatConnection } from '../connection/chat-connection.js';
import { adoptServerHighlights, changeServerHighlights, fetchServerHighlights } from '../connection/highlight-sync.js';
import { interpretInput, olderRequest, type InputWindow } from '../input/interpret-input.js';
import { bindConnection } from '../state/bind-connection.js';
import { ChatStore } from '../state/chat-store.js';
import {
  currentWindow,
  initialChatState,
  MENTIONS_KEY,
  newestOnScreen,
  pmKey,
  roomKey,
  SEARCH_KEY,
  type ChatWindow,
} from '../state/chat-state.js';
import { gapAt, gapRequest, type GapSide } from '../state/history-gaps.js';
import { highlightList } from '../state/highlight-words.js';
import type { LineTarget } from '../state/scrollback.js';
import { BootScreen } from './boot-screen.js';
import { resolveThemeName } from './theme.js';

export interface TuiOptions {
  connection: ChatConnection;
  noColor?: boolean;
  /** `dark` or `light` background; default: from COLORFGBG, else dark. */
  theme?: string;
  scrollbackCap?: number;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** Use the alternate screen (default true). */
  alternateScreen?: boolean;
  /** Offered in the nick prompt when the connection has no nick (default: the login name, when it is a valid nick). */
  suggestedNick?: string;
  /** Ring the terminal bell when a message mentions you (default true; `--no-bell`, TEAMCHAT_BELL=0). */
  bell?: boolean;
  /**
   * Extra words that highlight a message like your nick does (`--highlight`): added to the words
   * the server keeps for you at login (`/highlight` changes those).
   */
  highlight?: readonly string[];
  /** How long a room is viewed before it is marked read (ms; default 500). */
  markDelayMs?: number;
}

/** Messages fetched on each side of a message opened from a result. */
const JUMP_CONTEXT = 25;

function inputWindow(w: ChatWindow, self: string): InputWindow {
  const base = {
    name: w.name,
    oldestId: w.scrollback.oldestId(),
    ownLastId: w.scrollback.newest((l) => !l.deleted && nickKey(l.nick ?? '') === nickKey(self))?.id ?? null,
    lastId: w.scrollback.newest((l) => !l.deleted)?.id ?? null,
  };
  switch (w.kind) {
    case 'room':
    case 'pm':
    case 'status':
      return { kind: w.kind, ...base };
    case 'thread': {
      // `/history` there pages back through the replies (the root is the oldest of the thread).
      const root = w.thread?.id;
      const oldestReply = w.scrollback.lines.find((l) => l.id !== undefined && l.id !== root)?.id ?? null;
      return { kind: 'status', ...base, oldestId: oldestReply, ...(w.thread ? { thread: w.thread } : {}) };
    }
    case 'search':
    case 'mentions':
      return { kind: 'status', ...base, results: w.kind };
  }
}

/** The login name, when it is a valid nick. */
function loginNick(): string | undefined {
  const name = process.env.USER ?? process.env.LOGNAME ?? process.env.USERNAME;
  return name !== undefined && isValidNick(name) ? name : undefined;
}

export async function runTui(options: TuiOptions): Promise<number> {
  const { connection } = options;
  const stdout = options.stdout ?? process.stdout;
  const stdin = options.stdin ?? process.stdin;
  const store = new ChatStore(initialChatState(connection.state, options.scrollbackCap, options.highlight ?? []));
  const now = () => Date.now();
  let exitCode = 0;
  let quitting = false;
  /** Ink's instance, once up (the intents that quit come from it). */
  let instance: Instance | null = null;

  const unbind = bindConnection(connection, store, now);

  // Read markers: the room (or conversation) on screen is marked read up to the newest message
  // on screen, a moment after it is shown (only forward; the server tells every device of the
  // person). Scrolled up, that is the bottom line on screen: what is below it, or beyond a gap
  // not loaded yet, stays unread until the user scrolls down to it (PgDn) or back to the newest.
  const bell = options.bell ?? true;
  const markDelay = options.markDelayMs ?? 500;
  const marksSent = new Map<string, number>();
  let markTimer: NodeJS.Timeout | null = null;
  const toMark = (): { w: ChatWindow; id: number } | null => {
    const w = currentWindow(store.getState());
    if (w.kind !== 'room' && w.kind !== 'pm') return null;
    const id = newestOnScreen(w);
    if (id === undefined || id <= Math.max(w.marker, marksSent.get(w.key) ?? 0)) return null;
    return { w, id };
  };
  const sendMark = () => {
    markTimer = null;
    const m = toMark();
    if (!m || !connection.state.ready) return;
    marksSent.set(m.w.key, m.id);
    void connection.request(
      m.w.kind === 'room' ? { type: 'mark', room: m.w.name, id: m.id } : { type: 'mark', with: m.w.name, id: m.id },
    );
  };
  let bells = store.getState().bells;
  const unwatch = store.subscribe(() => {
    const s = store.getState();
    if (s.bells > bells && bell) stdout.write('\x07');
    bells = s.bells;
    if (markTimer === null && toMark() !== null) markTimer = setTimeout(sendMark, markDelay);
  });
  const unsubscribe = connection.on((event) => {
    // Keep the screen so the user can read why; Ctrl+C leaves.
    if (event.kind === 'closed' && !quitting) exitCode = event.reason === 'quit' ? 0 : 1;
    // The server keeps the highlight words: adopt them (with --highlight's added) at every login.
    if (event.kind === 'ready') void adoptServerHighlights(connection, options.highlight ?? []);
    // A private conversation with unread messages and nothing held yet: fetch its latest page.
    if (event.kind === 'frame' && event.frame.type === 'unread' && event.frame.pms) {
      store.flush();
      for (const nick of Object.keys(event.frame.pms)) {
        const w = store.getState().windows.find((x) => x.key === pmKey(nick));
        if (w && !w.loadingOlder && w.scrollback.oldestId() === null) older(w.key, 'scroll');
      }
    }
  });

  const older = (key: string, via: 'command' | 'scroll', count = 50) => {
    const w = store.getState().windows.find((x) => x.key === key);
    if (!w) return;
    const frame = olderRequest(inputWindow(w, store.getState().nick), count);
    if (frame && connection.request(frame) !== null) store.dispatch({ type: 'older-requested', key, via });
  };

  /** Fetches a page of the gap at line `seq` of a window, from `side` (the pane shows the gap). */
  const gap = (key: string, seq: number, side: GapSide) => {
    const state = store.getState();
    const w = state.windows.find((x) => x.key === key);
    if (!w || !connection.state.ready || state.historyWaits.some((x) => x.key === key && x.purpose === 'gap')) return;
    const g = gapAt(w.scrollback.lines, seq);
    const frame = g && gapRequest(w, g, side);
    if (!frame) return;
    const answer = connection.request(frame);
    if (answer === null) return;
    store.dispatch({ type: 'gap-requested', key, seq, side });
    void answer.then((f) => {
      if (f?.type !== 'history' && f?.type !== 'pm-history') store.dispatch({ type: 'gap-failed', key });
    });
  };

  const quit = async (reason?: string) => {
    if (quitting) return;
    quitting = true;
    store.flush();
    await connection.quit(reason);
    instance?.unmount();
  };

  const notice = (level: 'info' | 'error', text: string) => store.dispatch({ type: 'notice', level, text, now: now() });

  /** Opens a message in its room (or conversation), highlighted, fetching the messages around it when they are not held. */
  const openTarget = (t: LineTarget) => {
    const state = store.getState();
    const key = t.room !== null ? roomKey(t.room) : t.peer !== undefined ? pmKey(t.peer) : null;
    if (key === null) return;
    if (t.room !== null && !state.windows.some((x) => x.key === key)) {
      notice('error', `You are not in ${t.room} any more: /join ${t.room} to read it`);
      return;
    }
    if (t.room === null && !state.windows.some((x) => x.key === key))
      store.dispatch({ type: 'open-pm', nick: t.peer! });
    const w = store.getState().windows.find((x) => x.key === key)!;
    const fetch: Array<'before' | 'after'> = [];
    if (!w.scrollback.has(t.id)) {
      const oldest = w.scrollback.oldestId();
      const upTo = oldest !== null && oldest > t.id ? { before: oldest } : {};
      const where =
        t.room !== null ? { type: 'history' as const, room: t.room } : { type: 'pm-history' as const, with: t.peer! };
      if (connection.request({ ...where, before: t.id + 1, limit: JUMP_CONTEXT }) !== null) fetch.push('before');
      if (connection.request({ ...where, after: t.id, limit: JUMP_CONTEXT, ...upTo }) !== null) fetch.push('after');
    }
    store.dispatch({ type: 'jump', key, id: t.id, fetch });
  };

  /** The results window `/more` and `/goto` act on: the current one, else the search window. */
  const resultsWindow = (): ChatWindow | undefined => {
    const state = store.getState();
    const w = currentWindow(state);
    return w.results ? w : state.windows.find((x) => x.key === SEARCH_KEY);
  };

  const openResult = (n: number) => {
    const w = resultsWindow();
    const item = w?.results?.items[n - 1];
    if (!w || !item) {
      notice('error', w?.results ? `No result ${n} (1-${w.results.items.length})` : 'No results: /search <text> first');
      return;
    }
    const self = store.getState().nick;
    openTarget({
      id: item.id,
      room: item.room,
      ...(item.room === null
        ? { peer: nickKey(item.nick) === nickKey(self) ? (item.to ?? item.nick) : item.nick }
        : {}),
    });
  };

  const more = () => {
    const w = resultsWindow();
    const r = w?.results;
    if (!w || !r) return notice('error', 'No results: /search <text> first');
    if (r.loading !== null) return;
    if (!r.more || r.next === undefined) return notice('info', 'No more results');
    if (w.key === MENTIONS_KEY) {
      if (connection.request({ type: 'mentions', before: r.next }) !== null)
        store.dispatch({ type: 'mentions-started', page: true });
      return;
    }
    const frame = {
      type: 'search' as const,
      q: r.query,
      before: r.next,
      ...(r.room ? { room: r.room } : {}),
      ...(r.from ? { from: r.from } : {}),
    };
    if (connection.request(frame) !== null) store.dispatch({ type: 'search-started', q: r.query, page: true });
  };

  /** Up, Down, Enter on an empty input line: in a results window they select and open results. */
  const resultKey = (k: 'up' | 'down' | 'enter'): boolean => {
    const w = currentWindow(store.getState());
    const r = w.results;
    if (!r) return false;
    if (k === 'enter') {
      if (r.items.length > 0) openResult(r.selected + 1);
      return true;
    }
    if (k === 'down' && r.selected >= r.items.length - 1 && r.more) more();
    else store.dispatch({ type: 'select-result', delta: k === 'up' ? -1 : 1 });
    return true;
  };

  const input = (line: string) => {
    const state = store.getState();
    const w = currentWindow(state);
    for (const effect of interpretInput(line, inputWindow(w, state.nick), { keys: true })) {
      switch (effect.kind) {
        case 'send':
          connection.sendText(effect.target, effect.text, effect.action, effect.replyTo);
          break;
        case 'search': {
          const frame = {
            type: 'search' as const,
            q: effect.q,
            ...(effect.room ? { room: effect.room } : {}),
            ...(effect.from ? { from: effect.from } : {}),
          };
          if (connection.request(frame) !== null) {
            store.dispatch({
              type: 'search-started',
              q: effect.q,
              ...(effect.room ? { room: effect.room } : {}),
              ...(effect.from ? { from: effect.from } : {}),
              page: false,
            });
          }
          break;
        }
        case 'more':
          more();
          break;
        case 'goto':
          openResult(effect.n);
          break;
        case 'mentions':
          if (connection.request({ type: 'mentions' }) !== null)
            store.dispatch({ type: 'mentions-started', page: false });
          break;
        case 'thread':
          if (connection.request({ type: 'history', room: effect.room, thread: effect.id, limit: 500 }) !== null) {
            store.dispatch({ type: 'thread-requested', room: effect.room, id: effect.id });
          }
          break;
        case 'toggle-ids':
          store.dispatch({ type: 'toggle-ids' });
          break;
        case 'highlight': {
          const change = effect.change;
          const done =
            change.op === 'list' ? fetchServerHighlights(connection) : changeServerHighlights(connection, change);
          void done.then((words) => {
            if (words !== null) notice('info', `Highlight words: ${highlightList(words)}`);
          });
          break;
        }
        case 'request':
          void connection.request(effect.frame);
          break;
        case 'focus-room':
          store.dispatch({ type: 'focus-on-join', room: effect.room });
          break;
        case 'open-pm':
          store.dispatch({ type: 'open-pm', nick: effect.nick });
          break;
        case 'switch': {
          const room = normalizeRoom(effect.name);
          const windows = store.getState().windows;
          const found =
            windows.find((x) => room !== null && x.key === roomKey(room)) ??
            windows.find((x) => x.key === pmKey(effect.name)) ??
            windows.find((x) => nickKey(x.name) === nickKey(effect.name.replace(/^[#@]/, '')));
          if (found) store.dispatch({ type: 'switch', key: found.key });
          else if (isValidNick(effect.name)) store.dispatch({ type: 'open-pm', nick: effect.name });
          else store.dispatch({ type: 'notice', level: 'error', text: `No window ${effect.name}`, now: now() });
          break;
        }
        case 'close':
          if (w.kind === 'room') void connection.request({ type: 'part', room: w.name });
          else if (w.kind === 'pm') store.dispatch({ type: 'close-window', key: w.key });
          break;
        case 'older':
          older(w.key, 'command', effect.count);
          break;
        case 'notice':
          store.dispatch({ type: 'notice', level: effect.level, text: effect.text, now: now() });
          break;
        case 'quit':
          void quit(effect.reason);
          break;
      }
    }
  };

  const nick = (n: string) => {
    if (!isValidNick(n)) {
      store.dispatch({
        type: 'nick-invalid',
        text: `"${n}" is not a valid nick (1-24 letters, digits, _ or -, starting with a letter)`,
      });
      return;
    }
    const first = store.getState().awaitingNick;
    store.dispatch({ type: 'nick-retry', nick: n });
    connection.retryNick(n);
    if (first) connection.start();
  };

  const alt = options.alternateScreen ?? true;
  const tty = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  // Alternate screen, bracketed paste on; raw mode now, so keys typed during start-up are not echoed.
  if (alt) stdout.write('\x1b[?1049h\x1b[H');
  stdout.write('\x1b[?2004h');
  if (tty) stdin.setRawMode(true);
  const boot = BootScreen.start(store, stdout);
  const restore = () => {
    stdout.write('\x1b[?2004l');
    if (alt) stdout.write('\x1b[?1049l');
  };

  try {
    if (!store.getState().awaitingNick) connection.start();
    const [{ mountApp }, { makeTheme }] = await Promise.all([import('./mount-app.js'), import('./theme-context.js')]);
    boot.stop();
    const suggestedNick = options.suggestedNick ?? loginNick();
    instance = mountApp({
      store,
      intents: { input, older: (key) => older(key, 'scroll'), gap, quit: () => void quit(), nick, resultKey },
      theme: makeTheme(options.noColor ?? false, resolveThemeName(options.theme)),
      queued: () => connection.pendingCount,
      ...(suggestedNick ? { suggestedNick } : {}),
      stdout,
      ...(options.stdin ? { stdin: options.stdin } : {}),
    });
    await instance.waitUntilExit();
  } finally {
    boot.stop();
    unsubscribe();
    unbind();
    unwatch();
    if (markTimer) clearTimeout(markTimer);
    store.close();
    if (tty) stdin.setRawMode(false);
    restore();
  }
  return exitCode;
}
