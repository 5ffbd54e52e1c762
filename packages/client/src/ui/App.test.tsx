import type { ServerFrame } from '@teamchat/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionState } from '../connection/chat-connection.js';
import { ChatStore } from '../state/chat-store.js';
import { initialChatState, newestOnScreen } from '../state/chat-state.js';
import { gapAt, gapRequest } from '../state/history-gaps.js';
import { App, type ChatIntents } from './App.js';
import { cleanupUi, renderUi, stripAnsi } from './render-for-test.js';

afterEach(() => cleanupUi());

const conn: ConnectionState = {
  status: 'connected',
  server: '127.0.0.1:5555',
  nick: 'alice',
  retryAt: null,
  reason: null,
  ready: true,
};
const limits = { maxLineBytes: 8192, historyDefault: 50, historyMax: 500 };

function intents(log: string[]): ChatIntents {
  return {
    input: (l) => log.push(`input:${l}`),
    older: () => {},
    quit: () => log.push('quit'),
    nick: (n) => log.push(`nick:${n}`),
  };
}

function busyStore(): ChatStore {
  const store = new ChatStore(initialChatState(conn));
  const frames: ServerFrame[] = [
    { type: 'welcome', v: 1, nick: 'alice', server: 'teamchat/0.1.0', rooms: ['general', 'random', 'ops'], limits },
    {
      type: 'joined',
      room: 'general',
      topic: 'a rather long topic that fills the bar',
      users: ['alice', 'bob'],
      history: [],
      more: false,
    },
    { type: 'joined', room: 'random', topic: null, users: ['alice', 'bob'], history: [], more: false },
    { type: 'joined', room: 'ops', topic: null, users: ['alice', 'bob'], history: [], more: false },
    { type: 'message', id: 10, ts: 1, room: 'random', nick: 'bob', text: 'news' },
    { type: 'message', id: 11, ts: 2, room: 'ops', nick: 'bob', text: 'alice: look' },
  ];
  for (const f of frames) store.pushFrame(f);
  store.flush();
  return store;
}

describe('App', () => {
  it('puts the activity list first in the status bar below 60 columns, so it is never cut off', async () => {
    const store = busyStore();
    const ui = renderUi(<App store={store} intents={intents([])} />, { columns: 50, rows: 12 });
    const text = stripAnsi(await ui.waitFor((f) => stripAnsi(f).includes('[act:')));
    const bar = text.split('\n').find((r) => r.includes('[act:'))!;
    expect(bar.startsWith(' [act: 3,4!] [connected]')).toBe(true);
    expect(bar.length).toBeLessThanOrEqual(50);
    // No sidebar at this width.
    expect(text).not.toMatch(/\d #random/);
  });

  it('shows the sidebar and no activity list in the status bar at 60 columns and more', async () => {
    const ui = renderUi(<App store={busyStore()} intents={intents([])} />, { columns: 100, rows: 12 });
    const text = stripAnsi(await ui.waitFor((f) => stripAnsi(f).includes('#random')));
    expect(text).toMatch(/3 #random\s+1/);
    expect(text).not.toContain('[act:');
  });

  it('asks for a nick when none was given, offering the suggested one', async () => {
    const log: string[] = [];
    const store = new ChatStore(initialChatState({ ...conn, status: 'connecting', nick: '', ready: false }));
    const ui = renderUi(<App store={store} intents={intents(log)} suggestedNick="alice" />, { columns: 80, rows: 10 });
    const text = stripAnsi(await ui.waitFor((f) => stripAnsi(f).includes('Choose a nick: alice')));
    expect(text).toContain('[choose a nick]');
    expect(text).toContain('Welcome to teamchat. Choose a nick');
    await ui.type('\r');
    expect(log).toEqual(['nick:alice']);
  });
});

describe('App: scrolling, the read marker and gaps', () => {
  const PAGE_UP = '\x1b[5~';
  const PAGE_DOWN = '\x1b[6~';
  const msg = (id: number) => ({ id, ts: 1_000 + id, room: 'general', nick: 'bob', text: `message ${id}` });
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msg(from + i));
  const general = (store: ChatStore) => store.getState().windows.find((w) => w.key === '#general')!;
  const push = (store: ChatStore, ...frames: ServerFrame[]) => {
    for (const f of frames) store.pushFrame(f);
    store.flush();
  };

  function room(history: ReturnType<typeof range>, more = false): ChatStore {
    const store = new ChatStore(initialChatState(conn));
    push(
      store,
      { type: 'welcome', v: 1, nick: 'alice', server: 'teamchat/0.1.0', rooms: ['general'], limits },
      { type: 'joined', room: 'general', topic: null, users: ['alice', 'bob'], history, more },
    );
    return store;
  }

  /** Intents that ask for gap pages as run-tui does, logging the frames instead of sending them. */
  function gapIntents(store: ChatStore, sent: unknown[]): ChatIntents {
    return {
      ...intents([]),
      gap: (key, seq, side) => {
        const w = store.getState().windows.find((x) => x.key === key)!;
        if (store.getState().historyWaits.some((x) => x.purpose === 'gap')) return;
        const g = gapAt(w.scrollback.lines, seq);
        const frame = g && gapRequest(w, g, side);
        if (!frame) return;
        sent.push(frame);
        store.dispatch({ type: 'gap-requested', key, seq, side });
      },
    };
  }

  it('scrolled up, counts as read only up to the newest message on screen; back at the bottom, up to the newest', async () => {
    const store = room(range(1, 60));
    const ui = renderUi(<App store={store} intents={intents([])} />, { columns: 80, rows: 14 });
    await ui.waitFor((f) => stripAnsi(f).includes('message 60'));
    expect(newestOnScreen(general(store))).toBe(60);
    await ui.type(PAGE_UP);
    const text = stripAnsi(await ui.waitFor((f) => stripAnsi(f).includes('more lines below')));
    const shown = [...text.matchAll(/message (\d+)/g)].map((m) => Number(m[1]));
    expect(newestOnScreen(general(store))).toBe(Math.max(...shown));
    expect(Math.max(...shown)).toBeLessThan(60);
    // A new message below does not count as read while it is not on screen.
    push(store, { type: 'message', ...msg(61) });
    await ui.waitFor((f) => /\d+ more lines below/.test(stripAnsi(f)));
    expect(newestOnScreen(general(store))).toBe(Math.max(...shown));
    while (general(store).scroll !== null) await ui.type(PAGE_DOWN);
    await ui.waitFor((f) => stripAnsi(f).includes('message 61'));
    expect(newestOnScreen(general(store))).toBe(61);
  });

  it('after a jump, PgDn stops at the gap and fills it page by page until the scrollback is continuous', async () => {
    const store = room(range(100, 110), true);
    const sent: unknown[] = [];
    const ui = renderUi(<App store={store} intents={gapIntents(store, sent)} />, { columns: 80, rows: 14 });
    await ui.waitFor((f) => stripAnsi(f).includes('message 110'));
    store.dispatch({ type: 'jump', key: '#general', id: 10, fetch: ['before', 'after'] });
    push(
      store,
      { type: 'history', room: 'general', messages: range(1, 10), more: false },
      { type: 'history', room: 'general', messages: range(11, 15), more: true },
    );
    await ui.waitFor((f) => stripAnsi(f).includes('message 10') && !stripAnsi(f).includes('message 110'));
    // Down to the gap: it is the bottom line, and its first page is asked for from its older end.
    await ui.type(PAGE_DOWN);
    let text = stripAnsi(await ui.waitFor((f) => stripAnsi(f).includes('loading missing messages')));
    expect(text).toMatch(/message 15[^\n]*\n[^\n]*Newer messages up to the next line are/);
    expect(sent).toEqual([{ type: 'history', room: 'general', after: 15, before: 100, limit: 50 }]);
    // A PgDn while it loads waits for it.
    await ui.type(PAGE_DOWN);
    expect(general(store).scroll).toBe(general(store).scrollback.lines.find((l) => l.gap)!.seq);
    push(store, { type: 'history', room: 'general', messages: range(16, 65), more: true });
    await ui.waitFor((f) => !stripAnsi(f).includes('loading missing messages'));
    // Read on: every message comes in order, the next page of the gap when it is reached.
    const seen = new Set<number>();
    for (let i = 0; i < 40 && general(store).scroll !== null; i++) {
      await ui.type(PAGE_DOWN);
      for (const m of stripAnsi(ui.frame()).matchAll(/message (\d+)/g)) seen.add(Number(m[1]));
      if (general(store).scrollback.lines.some((l) => l.gap) && store.getState().historyWaits.length > 0) {
        push(store, { type: 'history', room: 'general', messages: range(66, 99), more: false });
      }
    }
    expect(sent).toEqual([
      { type: 'history', room: 'general', after: 15, before: 100, limit: 50 },
      { type: 'history', room: 'general', after: 65, before: 100, limit: 50 },
    ]);
    text = stripAnsi(ui.frame());
    expect(text).toContain('message 110');
    expect(text).not.toContain('not loaded here');
    for (let id = 16; id <= 110; id++) expect(seen.has(id), `message ${id} was on screen`).toBe(true);
    expect(
      general(store)
        .scrollback.lines.filter((l) => l.id !== undefined)
        .map((l) => l.id),
    ).toEqual(range(1, 110).map((m) => m.id));
  });

  it('scrolling up from the newest messages to the gap fills it from its newer end', async () => {
    const store = room(range(100, 110), true);
    const sent: unknown[] = [];
    const ui = renderUi(<App store={store} intents={gapIntents(store, sent)} />, { columns: 80, rows: 14 });
    await ui.waitFor((f) => stripAnsi(f).includes('message 110'));
    store.dispatch({ type: 'jump', key: '#general', id: 10, fetch: ['before', 'after'] });
    push(
      store,
      { type: 'history', room: 'general', messages: range(1, 10), more: false },
      { type: 'history', room: 'general', messages: range(11, 15), more: true },
    );
    await ui.waitFor((f) => stripAnsi(f).includes('message 10') && !stripAnsi(f).includes('message 110'));
    // Back to the newest (as after reading elsewhere), then up toward the gap.
    store.dispatch({ type: 'scrolled', key: '#general', seq: null });
    await ui.waitFor((f) => stripAnsi(f).includes('message 110'));
    expect(sent).toEqual([]);
    while (sent.length === 0) await ui.type(PAGE_UP);
    expect(sent).toEqual([{ type: 'history', room: 'general', before: 100, limit: 50 }]);
    const bottom = general(store).scroll;
    push(store, { type: 'history', room: 'general', messages: range(50, 99), more: true });
    // The page goes in right above what is on screen; the line at the bottom stays.
    const text = stripAnsi(await ui.waitFor((f) => stripAnsi(f).includes('message 99')));
    expect(general(store).scroll).toBe(bottom);
    expect(text).not.toContain('not loaded here');
  });
});
