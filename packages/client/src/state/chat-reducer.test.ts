import type { RoomMessage, ServerFrame } from '@teamchat/protocol';
import { describe, expect, it } from 'vitest';
import type { ConnectionState } from '../connection/chat-connection.js';
import { reduceChat } from './chat-reducer.js';
import { initialChatState, pmKey, roomKey, type ChatState } from './chat-state.js';

const conn: ConnectionState = { status: 'connected', server: 'localhost:5555', nick: 'alice', retryAt: null, reason: null, ready: true };
const msg = (id: number, nick: string, text: string, room = 'general'): RoomMessage => ({ id, ts: 1_000 + id, room, nick, text });

function start(cap?: number): ChatState {
  let s = initialChatState(conn, cap);
  s = reduceChat(s, {
    type: 'frames',
    now: 0,
    frames: [
      { type: 'welcome', v: 1, nick: 'alice', server: 'teamchat/0.1.0', rooms: ['general', 'random'], limits: { maxLineBytes: 8192, historyDefault: 50, historyMax: 500 } },
      { type: 'joined', room: 'general', topic: 'hello', users: ['alice', 'bob'], history: [msg(1, 'bob', 'old')], more: false },
      { type: 'joined', room: 'random', topic: null, users: ['alice'], history: [], more: false },
    ],
  });
  return s;
}

const frames = (s: ChatState, ...fs: ServerFrame[]) => reduceChat(s, { type: 'frames', frames: fs, now: 0 });
const win = (s: ChatState, key: string) => s.windows.find((w) => w.key === key)!;
const texts = (s: ChatState, key: string) => win(s, key).scrollback.lines.filter((l) => l.id !== undefined).map((l) => l.text);

describe('reduceChat', () => {
  it('opens a window per joined room and makes the first one current', () => {
    const s = start();
    expect(s.windows.map((w) => w.key)).toEqual(['*', '#general', '#random']);
    expect(s.current).toBe('#general');
    expect(win(s, '#general').topic).toBe('hello');
  });

  it('counts unread messages in windows that are not current, and clears them on switch', () => {
    let s = start();
    s = frames(s, { type: 'message', ...msg(2, 'bob', 'one', 'random') }, { type: 'message', ...msg(3, 'bob', 'two', 'random') });
    expect(win(s, '#random').unread).toBe(2);
    expect(win(s, '#general').unread).toBe(0);
    s = reduceChat(s, { type: 'switch', key: '#random' });
    expect(win(s, '#random').unread).toBe(0);
  });

  it('does not count your own messages or notices as unread', () => {
    let s = start();
    s = frames(s, { type: 'message', ...msg(2, 'alice', 'mine', 'random') }, { type: 'presence', room: 'random', nick: 'bob', event: 'join', ts: 5 });
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
    s = reduceChat(s, { type: 'connection', state: { ...conn, status: 'reconnecting', retryAt: 1_000, ready: false }, now: 0 });
    s = frames(s, { type: 'joined', room: 'general', topic: 'hello', users: ['alice', 'bob'], history: [msg(3, 'bob', 'three'), msg(4, 'carol', 'four'), msg(5, 'carol', 'five')], more: false });
    s = frames(s, { type: 'message', ...msg(5, 'carol', 'five') });
    expect(texts(s, '#general')).toEqual(['old', 'two', 'three', 'four', 'five']);
    const notices = win(s, '#general').scrollback.lines.filter((l) => l.kind !== 'message').map((l) => l.text);
    expect(notices.some((t) => t.startsWith('Rejoined general: 2 new messages'))).toBe(true);
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
    s = frames(s, { type: 'joined', room: 'dev', topic: null, users: ['alice'], history: [msg(50, 'bob', 'fifty', 'dev')], more: true });
    expect(win(s, roomKey('dev')).hasOlder).toBe(true);
    s = frames(s, { type: 'history', room: 'dev', messages: [msg(10, 'bob', 'ten', 'dev'), msg(20, 'bob', 'twenty', 'dev')], more: true });
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

  it('shows a reconnect notice with the countdown', () => {
    let s = start();
    s = reduceChat(s, { type: 'connection', state: { ...conn, status: 'reconnecting', retryAt: 3_000, reason: 'ECONNRESET', ready: false }, now: 0 });
    expect(win(s, '#general').scrollback.lines.at(-1)!.text).toBe('Disconnected (ECONNRESET); reconnecting in 3s');
  });
});
