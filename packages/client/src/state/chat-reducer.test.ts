import type { RoomMessage, ServerFrame } from '@teamchat/protocol';
import { describe, expect, it } from 'vitest';
import type { ConnectionState } from '../connection/chat-connection.js';
import { reduceChat } from './chat-reducer.js';
import { initialChatState, pmKey, roomKey, type ChatState } from './chat-state.js';

const conn: ConnectionState = {
  status: 'connected',
  server: 'localhost:5555',
  nick: 'alice',
  retryAt: null,
  reason: null,
  ready: true,
};
const msg = (id: number, nick: string, text: string, room = 'general'): RoomMessage => ({
  id,
  ts: 1_000 + id,
  room,
  nick,
  text,
});

function start(cap?: number): ChatState {
  let s = initialChatState(conn, cap);
  s = reduceChat(s, {
    type: 'frames',
    now: 0,
    frames: [
      {
        type: 'welcome',
        v: 1,
        nick: 'alice',
        server: 'teamchat/0.1.0',
        rooms: ['general', 'random'],
        limits: { maxLineBytes: 8192, historyDefault: 50, historyMax: 500 },
      },
      {
        type: 'joined',
        room: 'general',
        topic: 'hello',
        users: ['alice', 'bob'],
        history: [msg(1, 'bob', 'old')],
        more: false,
      },
      { type: 'joined', room: 'random', topic: null, users: ['alice'], history: [], more: false },
    ],
  });
  return s;
}

const frames = (s: ChatState, ...fs: ServerFrame[]) => reduceChat(s, { type: 'frames', frames: fs, now: 0 });
const win = (s: ChatState, key: string) => s.windows.find((w) => w.key === key)!;
const texts = (s: ChatState, key: string) =>
  win(s, key)
    .scrollback.lines.filter((l) => l.id !== undefined)
    .map((l) => l.text);

describe('reduceChat', () => {
  it('opens a window per joined room and makes the first one current', () => {
    const s = start();
    expect(s.windows.map((w) => w.key)).toEqual(['*', '#general', '#random']);
    expect(s.current).toBe('#general');
    expect(win(s, '#general').topic).toBe('hello');
  });

  it('counts unread messages in windows that are not current, and clears them on switch', () => {
    let s = start();
    s = frames(
      s,
      { type: 'message', ...msg(2, 'bob', 'one', 'random') },
      { type: 'message', ...msg(3, 'bob', 'two', 'random') },
    );
    expect(win(s, '#random').unread).toBe(2);
    expect(win(s, '#general').unread).toBe(0);
    s = reduceChat(s, { type: 'switch', key: '#random' });
    expect(win(s, '#random').unread).toBe(0);
  });

  it('does not count your own messages or notices as unread', () => {
    let s = start();
    s = frames(
      s,
      { type: 'message', ...msg(2, 'alice', 'mine', 'random') },
      { type: 'presence', room: 'random', nick: 'bob', event: 'join', ts: 5 },
    );
    expect(win(s, '#random').unread).toBe(0);
    expect(win(s, '#random').users).toEqual(['alice', 'bob']);
  });

  it('marks a window where you were mentioned, but not for other words containing your nick', () => {
    let s = start();
    s = frames(s, { type: 'message', ...msg(2, 'bob', 'so much malice', 'random') });
    expect(win(s, '#random').mentioned).toBe(false);
    s = frames(s, { type: 'message', ...msg(3, 'bob', 'Alice: lunch?', 'random') });
    expect(win(s, '#random').mentioned).toBe(true);
    expect(win(s, '#random').scrollback.lines.at(-1)!.mention).toBe(true);
  });

  it('opens a private conversation for an incoming pm and marks it', () => {
    let s = start();
    s = frames(s, { type: 'pm', id: 9, ts: 9, from: 'Bob', to: 'alice', text: 'psst' });
    const pm = win(s, pmKey('bob'));
    expect(pm.kind).toBe('pm');
    expect(pm.unread).toBe(1);
    expect(pm.mentioned).toBe(true);
    // Your own copy goes to the same conversation.
    s = frames(s, { type: 'pm', id: 10, ts: 10, from: 'alice', to: 'Bob', text: 'hi' });
    expect(texts(s, pmKey('bob'))).toEqual(['psst', 'hi']);
  });

  it('caps the scrollback of a room and keeps the newest lines', () => {
    let s = start(100);
    const batch: ServerFrame[] = [];
    for (let id = 2; id <= 1_000; id++) batch.push({ type: 'message', ...msg(id, 'bob', `m${id}`) });
    s = frames(s, ...batch);
    const lines = win(s, '#general').scrollback.lines;
    expect(lines.length).toBeLessThanOrEqual(110);
    expect(lines.at(-1)!.text).toBe('m1000');
    expect(lines.some((l) => l.text === 'm2')).toBe(false);
  });

  it('resumes without duplicates: a rejoin with overlapping history adds only new messages, in id order', () => {
    let s = start();
    s = frames(s, { type: 'message', ...msg(2, 'bob', 'two') }, { type: 'message', ...msg(3, 'bob', 'three') });
    s = reduceChat(s, {
      type: 'connection',
      state: { ...conn, status: 'reconnecting', retryAt: 1_000, ready: false },
      now: 0,
    });
    s = frames(s, {
      type: 'joined',
      room: 'general',
      topic: 'hello',
      users: ['alice', 'bob'],
      history: [msg(3, 'bob', 'three'), msg(4, 'carol', 'four'), msg(5, 'carol', 'five')],
      more: false,
    });
    s = frames(s, { type: 'message', ...msg(5, 'carol', 'five') });
    expect(texts(s, '#general')).toEqual(['old', 'two', 'three', 'four', 'five']);
    const notices = win(s, '#general')
      .scrollback.lines.filter((l) => l.kind !== 'message')
      .map((l) => l.text);
    expect(notices.some((t) => t.startsWith('Rejoined general: 2 new messages while you were away'))).toBe(true);
  });

  it('merges an older history page before the lines already shown', () => {
    let s = start();
    s = reduceChat(s, { type: 'older-requested', key: '#general' });
    expect(win(s, '#general').loadingOlder).toBe(true);
    s = frames(s, { type: 'history', room: 'general', messages: [], more: false });
    expect(win(s, '#general').loadingOlder).toBe(false);
    expect(win(s, '#general').hasOlder).toBe(false);
  });

  it('puts a fetched older page in front, in order', () => {
    let s = initialChatState(conn);
    s = frames(s, {
      type: 'joined',
      room: 'dev',
      topic: null,
      users: ['alice'],
      history: [msg(50, 'bob', 'fifty', 'dev')],
      more: true,
    });
    expect(win(s, roomKey('dev')).hasOlder).toBe(true);
    s = frames(s, {
      type: 'history',
      room: 'dev',
      messages: [msg(10, 'bob', 'ten', 'dev'), msg(20, 'bob', 'twenty', 'dev')],
      more: true,
    });
    expect(texts(s, roomKey('dev'))).toEqual(['ten', 'twenty', 'fifty']);
  });

  it('removes a room window when parted and moves to a neighbour', () => {
    let s = start();
    s = reduceChat(s, { type: 'switch', key: '#random' });
    s = frames(s, { type: 'parted', room: 'random' });
    expect(s.windows.map((w) => w.key)).toEqual(['*', '#general']);
    expect(s.current).toBe('#general');
  });

  it('follows a rename in the user list and in an open conversation', () => {
    let s = start();
    s = frames(s, { type: 'pm', id: 9, ts: 9, from: 'bob', to: 'alice', text: 'psst' });
    s = frames(s, { type: 'nick', room: 'general', old: 'bob', new: 'robert', ts: 1 });
    expect(win(s, '#general').users).toEqual(['alice', 'robert']);
    expect(s.windows.some((w) => w.key === pmKey('robert'))).toBe(true);
  });

  it('switches windows relative to the current one, wrapping around', () => {
    let s = start();
    s = reduceChat(s, { type: 'switch-relative', delta: 1 });
    expect(s.current).toBe('#random');
    s = reduceChat(s, { type: 'switch-relative', delta: 1 });
    expect(s.current).toBe('*');
    s = reduceChat(s, { type: 'switch-index', index: 1 });
    expect(s.current).toBe('#general');
  });

  it('says "cannot connect to host:port (reason)" while it never connected, in one line rewritten per attempt', () => {
    let s = initialChatState({ ...conn, status: 'connecting', ready: false });
    const refused = { ...conn, status: 'reconnecting' as const, ready: false, reason: 'ECONNREFUSED' };
    s = reduceChat(s, { type: 'connection', state: { ...refused, retryAt: 1_000 }, now: 0 });
    s = reduceChat(s, { type: 'connection', state: { ...refused, status: 'connecting', retryAt: null }, now: 1_000 });
    s = reduceChat(s, { type: 'connection', state: { ...refused, retryAt: 2_500 }, now: 1_100 });
    s = reduceChat(s, { type: 'connection', state: { ...refused, status: 'connecting', retryAt: null }, now: 2_500 });
    s = reduceChat(s, { type: 'connection', state: { ...refused, retryAt: 5_000 }, now: 2_600 });
    const lines = win(s, '*').scrollback.lines.map((l) => l.text);
    expect(lines).toEqual(['Cannot connect to localhost:5555 (connection refused); retrying (3 attempts failed)']);
    expect(s.everConnected).toBe(false);
    s = reduceChat(s, { type: 'connection', state: { ...conn, status: 'connected', ready: false }, now: 7_000 });
    expect(win(s, '*').scrollback.lines.map((l) => l.text)).toEqual([
      'Could not connect to localhost:5555 for 7s (3 attempts failed: connection refused)',
    ]);
    expect(s.everConnected).toBe(true);
  });

  it('keeps one line per outage after a drop, and marks the gap with a "Reconnected" line in every window', () => {
    let s = start();
    s = reduceChat(s, { type: 'connection', state: { ...conn, status: 'connected', ready: true }, now: 0 });
    s = frames(
      s,
      { type: 'message', ...msg(2, 'bob', 'before the drop') },
      { type: 'message', ...msg(3, 'bob', 'random before', 'random') },
    );
    const drop = { ...conn, status: 'reconnecting' as const, ready: false };
    s = reduceChat(s, { type: 'connection', state: { ...drop, reason: 'ECONNRESET', retryAt: 300 }, now: 60_000 });
    s = reduceChat(s, {
      type: 'connection',
      state: { ...drop, status: 'connecting', reason: 'ECONNRESET', retryAt: null },
      now: 60_300,
    });
    s = reduceChat(s, { type: 'connection', state: { ...drop, reason: 'ECONNREFUSED', retryAt: 61_000 }, now: 60_310 });
    const outage = (key: string) =>
      win(s, key)
        .scrollback.lines.filter((l) => l.kind === 'error')
        .map((l) => l.text);
    expect(outage('#general')).toEqual([
      'Disconnected (connection reset); reconnecting (1 attempt failed: connection refused)',
    ]);
    expect(outage('*')).toEqual([
      'Disconnected (connection reset); reconnecting (1 attempt failed: connection refused)',
    ]);
    expect(outage('#random')).toEqual([]);
    s = reduceChat(s, { type: 'connection', state: { ...conn, status: 'connected', ready: false }, now: 72_000 });
    // The missed messages come after the gap line.
    s = frames(s, {
      type: 'joined',
      room: 'general',
      topic: 'hello',
      users: ['alice', 'bob'],
      history: [msg(4, 'carol', 'while you were away')],
      more: false,
    });
    const general = win(s, '#general').scrollback.lines.map((l) => l.text);
    const gap = general.findIndex((t) =>
      /^Reconnected after 12s \(disconnected at \d\d:\d\d: connection reset\)$/.test(t),
    );
    expect(gap).toBeGreaterThan(general.indexOf('before the drop'));
    expect(gap).toBeLessThan(general.indexOf('while you were away'));
    expect(general.filter((t) => t.startsWith('Reconnected') || t.startsWith('Disconnected'))).toHaveLength(1);
    expect(win(s, '#random').scrollback.lines.at(-1)!.text).toMatch(/^Reconnected after 12s/);
    expect(win(s, '*').scrollback.lines.at(-1)!.text).toMatch(/^Reconnected after 12s/);
    expect(s.outage).toBeNull();
  });

  it('shows a hint when the first connect leaves you in no room', () => {
    let s = initialChatState(conn);
    const welcome: ServerFrame = {
      type: 'welcome',
      v: 1,
      nick: 'alice',
      server: 'teamchat/0.1.0',
      rooms: [],
      limits: { maxLineBytes: 8192, historyDefault: 50, historyMax: 500 },
    };
    s = frames(s, welcome);
    const text = win(s, '*')
      .scrollback.lines.map((l) => l.text)
      .join('\n');
    expect(text).toContain('/join <room>');
    expect(text).toContain('/rooms');
    expect(text).toContain('/help');
    // Not again at a reconnect.
    s = frames(s, welcome);
    expect(win(s, '*').scrollback.lines.filter((l) => l.text.includes('/join <room>'))).toHaveLength(1);
    // Nor when rooms were joined.
    expect(start().windows[0].scrollback.lines.some((l) => l.text.includes('/join <room>'))).toBe(false);
  });

  it('answers /history at the bottom of the window: nothing older, or how many were loaded', () => {
    let s = start();
    s = reduceChat(s, { type: 'older-requested', key: '#general', via: 'command' });
    s = frames(s, { type: 'history', room: 'general', messages: [], more: false });
    expect(win(s, '#general').scrollback.lines.at(-1)!.text).toBe(
      'Nothing older in #general: this is the start of its history',
    );
    expect(win(s, '#general').scrollback.lines[0].text).toBe('Start of history');
    s = reduceChat(s, { type: 'older-requested', key: '#general', via: 'command' });
    s = frames(s, { type: 'history', room: 'general', messages: [], more: false });
    expect(win(s, '#general').scrollback.lines.filter((l) => l.text === 'Start of history')).toHaveLength(1);

    let t = initialChatState(conn);
    t = frames(t, {
      type: 'joined',
      room: 'dev',
      topic: null,
      users: ['alice'],
      history: [msg(50, 'bob', 'fifty', 'dev')],
      more: true,
    });
    t = reduceChat(t, { type: 'older-requested', key: '#dev', via: 'command' });
    t = frames(t, {
      type: 'history',
      room: 'dev',
      messages: [msg(10, 'bob', 'ten', 'dev'), msg(20, 'bob', 'twenty', 'dev')],
      more: true,
    });
    expect(win(t, '#dev').scrollback.lines.at(-1)!.text).toBe('Loaded 2 older messages above (PgUp to read)');
    // Scrolling past the top fetches quietly (the user is looking at the top).
    t = reduceChat(t, { type: 'older-requested', key: '#dev', via: 'scroll' });
    t = frames(t, { type: 'history', room: 'dev', messages: [msg(5, 'bob', 'five', 'dev')], more: false });
    expect(win(t, '#dev').scrollback.lines.at(-1)!.text).toBe('Loaded 2 older messages above (PgUp to read)');
    expect(win(t, '#dev').scrollback.lines[0].text).toBe('Start of history');
  });

  it('asks for a nick first when none was given, and stops asking once one is chosen', () => {
    let s = initialChatState({ ...conn, nick: '', status: 'connecting', ready: false });
    expect(s.awaitingNick).toBe(true);
    expect(s.nickPrompt).toBe('Choose a nick: ');
    s = reduceChat(s, { type: 'nick-invalid', text: '"1x" is not a valid nick' });
    expect(s.nickPrompt).toBe('"1x" is not a valid nick - choose a nick: ');
    s = reduceChat(s, { type: 'nick-retry', nick: 'alice' });
    expect(s).toMatchObject({ awaitingNick: false, nickPrompt: null, nick: 'alice' });
  });
});
