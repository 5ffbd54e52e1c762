import type { ServerFrame } from '@teamchat/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionState } from '../connection/chat-connection.js';
import { ChatStore } from '../state/chat-store.js';
import { initialChatState } from '../state/chat-state.js';
import { App, type ChatIntents } from './App.js';
import { cleanupUi, renderUi, stripAnsi } from './render-for-test.js';

afterEach(() => cleanupUi());

const conn: ConnectionState = { status: 'connected', server: '127.0.0.1:5555', nick: 'alice', retryAt: null, reason: null, ready: true };
const limits = { maxLineBytes: 8192, historyDefault: 50, historyMax: 500 };

function intents(log: string[]): ChatIntents {
  return { input: (l) => log.push(`input:${l}`), older: () => {}, quit: () => log.push('quit'), nick: (n) => log.push(`nick:${n}`) };
}

function busyStore(): ChatStore {
  const store = new ChatStore(initialChatState(conn));
  const frames: ServerFrame[] = [
    { type: 'welcome', v: 1, nick: 'alice', server: 'teamchat/0.1.0', rooms: ['general', 'random', 'ops'], limits },
    { type: 'joined', room: 'general', topic: 'a rather long topic that fills the bar', users: ['alice', 'bob'], history: [], more: false },
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
