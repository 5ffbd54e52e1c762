/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The full-screen client: sidebar, message pane, user list, status bar and input line. It only
 * renders the store's state and turns keys into intents (`ChatIntents`); it does no I/O.
 *
 * @example
 * render(<App store={store} intents={{ input, older, quit, nick }} />);
 */
import { Box, useInput } from 'ink';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { ALL_COMMAND_NAMES } from '../input/interpret-input.js';
import type { ChatStore } from '../state/chat-store.js';
import { currentWindow, type ChatWindow } from '../state/chat-state.js';
import { gapSide, type GapSide } from '../state/history-gaps.js';
import type { Line } from '../state/scrollback.js';
import { InputLine } from './InputLine.js';
import { lineRows, pageDown, pageUp, topIndex } from './layout-rows.js';
import { MessagePane } from './MessagePane.js';
import { Sidebar } from './Sidebar.js';
import { StatusBar } from './StatusBar.js';
import { windowLabel } from './status-text.js';
import { UserList } from './UserList.js';
import { useTerminalSize } from './useTerminalSize.js';

export interface ChatIntents {
  /** A line typed in the current window. */
  input: (line: string) => void;
  /** Fetch an older page for a window (scrolled past the top). */
  older: (key: string) => void;
  /** Fetch a page of the gap at line `seq` (on screen): from its older end (`after`) or its newer end (`before`). */
  gap?: (key: string, seq: number, side: GapSide) => void;
  quit: () => void;
  /** A new nick after the first one was refused. */
  nick: (nick: string) => void;
  /** Up, Down or Enter on an empty input line; true when it was used (a results window selects and opens results). */
  resultKey?: (key: 'up' | 'down' | 'enter') => boolean;
}

export interface AppProps {
  store: ChatStore;
  intents: ChatIntents;
  /** Messages waiting for the server (shown in the status bar). */
  queued?: () => number;
  /** Put in the nick prompt when the app asks for a nick (e.g. the login name). */
  suggestedNick?: string;
}

/** Below this width the sidebar collapses into the status bar (activity first: `[act: 3,4!]`). */
export const SIDEBAR_MIN_COLUMNS = 60;
const USERLIST_MIN_COLUMNS = 80;

/** Index of the last line whose seq is <= `seq`. */
function indexOfSeq(lines: readonly Line[], seq: number): number {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lines[mid].seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * The bottom line that shows line `target` about a third of the way up the pane (null: the newest
 * lines are on screen anyway). It stops at a gap: what is below a gap is not what follows.
 */
function bottomFor(
  lines: readonly Line[],
  target: number,
  rows: number,
  width: number,
  self: string,
  ids: boolean,
): number | null {
  let used = 0;
  let i = target;
  while (
    i < lines.length - 1 &&
    !lines[i].gap &&
    used + lineRows(lines[i + 1], width, self, ids).length <= Math.floor(rows / 3)
  ) {
    i++;
    used += lineRows(lines[i], width, self, ids).length;
  }
  return i >= lines.length - 1 ? null : i;
}

/** Windows with unread messages, as `[number, mentioned]`. */
function activity(windows: readonly ChatWindow[]): Array<[number, boolean]> {
  return windows.flatMap((w, i) => (w.unread > 0 || w.mentioned ? [[i + 1, w.mentioned] as [number, boolean]] : []));
}

export function App({ store, intents, queued, suggestedNick = '' }: AppProps) {
  const state = useSyncExternalStore(store.subscribe, store.getState);
  const { columns, rows } = useTerminalSize();
  const [showUsers, setShowUsers] = useState(true);

  const win = currentWindow(state);
  const height = Math.max(4, rows - 1);
  const mainHeight = height - 2;
  const sidebarWidth = columns >= SIDEBAR_MIN_COLUMNS ? Math.min(22, Math.max(14, Math.floor(columns * 0.18))) : 0;
  const usersWidth = showUsers && win.kind === 'room' && columns >= USERLIST_MIN_COLUMNS ? 18 : 0;
  const paneWidth = Math.max(10, columns - sidebarWidth - usersWidth);
  const lines = win.scrollback.lines;
  const anchorSeq = win.scroll ?? undefined;
  const ids = state.showIds;
  let bottom = anchorSeq === undefined ? null : Math.max(0, indexOfSeq(lines, anchorSeq));
  // A results window keeps its selected line on screen.
  const results = win.results;
  const markSeq = results ? (results.items.length > 0 ? results.selected + 1 : null) : win.focusId;
  if (results && results.items.length > 0)
    bottom = bottomFor(
      lines,
      Math.max(0, indexOfSeq(lines, results.selected + 1)),
      mainHeight,
      paneWidth,
      state.nick,
      ids,
    );

  // A jump (a search result, a mention) scrolls to its message once the message is held.
  const jumped = useRef(0);
  const jump = state.jump;
  useEffect(() => {
    if (!jump || jump.n === jumped.current || jump.key !== win.key) return;
    const i = lines.findIndex((l) => l.id === jump.id);
    if (i < 0) return;
    jumped.current = jump.n;
    const b = bottomFor(lines, i, mainHeight, paneWidth, state.nick, ids);
    store.dispatch({ type: 'scrolled', key: win.key, seq: b === null ? null : lines[b].seq });
  }, [jump, win.key, win.rev, lines, mainHeight, paneWidth, state.nick, ids, store]);

  // A gap on screen (messages not loaded between a jump's context and the newer lines) is filled,
  // a page at a time, from the side the user scrolls toward it from; one page at a time per window.
  const gapIntent = intents.gap;
  const gapPending = state.historyWaits.some((w) => w.key === win.key && w.purpose === 'gap');
  useEffect(() => {
    if (!gapIntent || gapPending || results || lines.length === 0) return;
    const last = Math.min(bottom ?? lines.length - 1, lines.length - 1);
    // The rows the pane has for lines (as MessagePane: less its "more below" and "loading" rows).
    const extra = (last < lines.length - 1 ? 1 : 0) + (win.loadingOlder ? 1 : 0) + (gapPending ? 1 : 0);
    const first = topIndex(lines, last, Math.max(1, mainHeight - extra), paneWidth, state.nick, ids);
    for (let i = last; i >= first; i--) {
      if (lines[i].gap) return gapIntent(win.key, lines[i].seq, gapSide(i, last));
    }
  }, [
    gapIntent,
    gapPending,
    results,
    win.key,
    win.rev,
    win.loadingOlder,
    lines,
    bottom,
    mainHeight,
    paneWidth,
    state.nick,
    ids,
  ]);

  /** Scrolls the window so that line `index` is the bottom one (null: follow the newest line). */
  const setAnchor = (key: string, index: number | null) =>
    store.dispatch({ type: 'scrolled', key, seq: index === null ? null : lines[index].seq });

  useInput((input, key) => {
    if (key.ctrl && input === 'c') return intents.quit();
    if (state.nickPrompt !== null) return;
    if ((key.ctrl && input === 'n') || (key.meta && key.downArrow))
      return store.dispatch({ type: 'switch-relative', delta: 1 });
    if ((key.ctrl && input === 'p') || (key.meta && key.upArrow))
      return store.dispatch({ type: 'switch-relative', delta: -1 });
    if (key.meta && /^[1-9]$/.test(input)) return store.dispatch({ type: 'switch-index', index: Number(input) - 1 });
    if (key.ctrl && input === 't') return setShowUsers((v) => !v);
    if (key.pageUp) {
      if (lines.length === 0) {
        if (win.hasOlder && !win.loadingOlder) intents.older(win.key);
        return;
      }
      const r = pageUp(lines, bottom ?? lines.length - 1, Math.max(1, mainHeight - 2), paneWidth, state.nick, ids);
      setAnchor(win.key, r.bottom);
      if (r.atTop && win.hasOlder && !win.loadingOlder) intents.older(win.key);
      return;
    }
    if (key.pageDown) {
      if (bottom === null) return;
      // At a gap whose messages are on their way: they come next.
      if (lines[bottom]?.gap && gapPending) return;
      let next = pageDown(lines, bottom, Math.max(1, mainHeight - 2), paneWidth, state.nick, ids);
      // Down to a gap and no further: its messages are fetched and come next.
      const end = next ?? lines.length - 1;
      for (let i = bottom + 1; i <= end; i++) {
        if (lines[i].gap) {
          next = i >= lines.length - 1 ? null : i;
          setAnchor(win.key, next);
          // Asked for at once (not by the effect after the next render), so the next PgDn waits for it.
          intents.gap?.(win.key, lines[i].seq, 'after');
          return;
        }
      }
      setAnchor(win.key, next);
      return;
    }
  });

  const nicks = [...win.users, ...state.windows.filter((w) => w.kind === 'pm').map((w) => w.name)];
  const index = state.windows.indexOf(win);
  const title = `${index + 1}:${windowLabel(win)}`;

  return (
    <Box flexDirection="column" width={columns} height={height}>
      <Box flexDirection="row" height={mainHeight}>
        {sidebarWidth > 0 ? (
          <Sidebar windows={state.windows} current={state.current} width={sidebarWidth} height={mainHeight} />
        ) : null}
        <MessagePane
          lines={lines}
          rev={win.rev}
          self={state.nick}
          width={paneWidth}
          height={mainHeight}
          bottom={bottom}
          loadingOlder={win.loadingOlder}
          loadingGap={gapPending}
          ids={ids}
          markSeq={markSeq}
        />
        {usersWidth > 0 ? (
          <UserList users={win.users} self={state.nick} width={usersWidth} height={mainHeight} />
        ) : null}
      </Box>
      <StatusBar
        connection={state.connection}
        nick={state.nick === '' ? '(no nick)' : state.nick}
        title={title}
        topic={win.topic}
        width={columns}
        queued={queued?.() ?? 0}
        compact={sidebarWidth === 0}
        activity={activity(state.windows)}
        everConnected={state.everConnected}
        {...(state.awaitingNick ? { label: 'choose a nick' } : {})}
      />
      {state.nickPrompt !== null ? (
        <InputLine
          key={`nick:${state.nickPrompt}`}
          prompt={state.nickPrompt}
          initial={state.awaitingNick ? suggestedNick : ''}
          width={columns}
          nicks={[]}
          commands={[]}
          onSubmit={(n) => n.trim() && intents.nick(n.trim())}
        />
      ) : (
        <InputLine
          key="chat"
          prompt={`[${windowLabel(win)}] `}
          width={columns}
          nicks={nicks}
          commands={ALL_COMMAND_NAMES}
          onSubmit={intents.input}
          {...(intents.resultKey ? { onEmptyKey: intents.resultKey } : {})}
        />
      )}
    </Box>
  );
}
