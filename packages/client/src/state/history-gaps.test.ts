import type { RoomMessage, ServerFrame } from '@teamchat/protocol';
import { describe, expect, it } from 'vitest';
import type { ConnectionState } from '../connection/chat-connection.js';
import { interpretInput, olderRequest } from '../input/interpret-input.js';
import { GAP_TEXT, reduceChat } from './chat-reducer.js';
import { initialChatState, newestOnScreen, THREAD_KEY, type ChatState, type ChatWindow } from './chat-state.js';
import { gapAt, gapRequest } from './history-gaps.js';

const conn: ConnectionState = {
  status: 'connected',
  server: 'localhost:5555',
  nick: 'alice',
  retryAt: null,
  reason: null,
  ready: true,
};
const limits = { maxLineBytes: 8192, historyDefault: 50, historyMax: 500 };
const msg = (id: number, text = `m${id}`, extra: Partial<RoomMessage> = {}): RoomMessage => ({
  id,
  ts: 1_000 + id,
  room: 'general',
  nick: 'bob',
  text,
  ...extra,
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msg(from + i));
const frames = (s: ChatState, ...fs: ServerFrame[]) => reduceChat(s, { type: 'frames', frames: fs, now: 0 });
const general = (s: ChatState): ChatWindow => s.windows.find((w) => w.key === '#general')!;
/** The window's lines as message ids, `gap` for the gap line (notices left out). */
const shape = (w: ChatWindow) =>
  w.scrollback.lines.flatMap((l): Array<number | 'gap'> => (l.gap ? ['gap'] : l.id !== undefined ? [l.id] : []));

/** #general holds its newest messages (100-110); a jump to message 10 brought 1-15 and left a gap before 100. */
function jumped(): ChatState {
  let s = frames(
    initialChatState(conn),
    { type: 'welcome', v: 1, nick: 'alice', server: 'teamchat/0.1.0', rooms: ['general'], limits },
    { type: 'joined', room: 'general', topic: null, users: ['alice', 'bob'], history: range(100, 110), more: true },
  );
  s = reduceChat(s, { type: 'jump', key: '#general', id: 10, fetch: ['before', 'after'] });
  return frames(
    s,
    { type: 'history', room: 'general', messages: range(1, 10), more: false },
    { type: 'history', room: 'general', messages: range(11, 15), more: true },
  );
}

const gapSeq = (s: ChatState) => general(s).scrollback.lines.find((l) => l.gap)!.seq;

describe('filling the gap a jump leaves', () => {
  it('marks the gap after the page around the message, bounded by the messages held', () => {
    const s = jumped();
    expect(shape(general(s)).slice(13)).toEqual([14, 15, 'gap', 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110]);
    expect(general(s).scrollback.lines.find((l) => l.gap)!.text).toBe(GAP_TEXT);
    const gap = gapAt(general(s).scrollback.lines, gapSeq(s))!;
    expect(gap).toMatchObject({ after: 15, before: 100 });
    expect(gapRequest(general(s), gap, 'after')).toEqual({
      type: 'history',
      room: 'general',
      after: 15,
      before: 100,
      limit: 50,
    });
    expect(gapRequest(general(s), gap, 'before')).toEqual({ type: 'history', room: 'general', before: 100, limit: 50 });
  });

  it('fills it from the older end page by page, moving the gap down, until it closes', () => {
    let s = jumped();
    s = reduceChat(s, { type: 'gap-requested', key: '#general', seq: gapSeq(s), side: 'after' });
    // Asked once: a second request for the same window waits for the first.
    expect(reduceChat(s, { type: 'gap-requested', key: '#general', seq: gapSeq(s), side: 'after' })).toBe(s);
    s = frames(s, { type: 'history', room: 'general', messages: range(16, 65), more: true });
    expect(shape(general(s)).slice(60, 67)).toEqual([61, 62, 63, 64, 65, 'gap', 100]);
    expect(gapAt(general(s).scrollback.lines, gapSeq(s))).toMatchObject({ after: 65, before: 100 });
    s = reduceChat(s, { type: 'gap-requested', key: '#general', seq: gapSeq(s), side: 'after' });
    s = frames(s, { type: 'history', room: 'general', messages: range(66, 99), more: false });
    expect(shape(general(s))).toEqual(range(1, 110).map((m) => m.id));
    expect(s.historyWaits).toEqual([]);
  });

  it('fills it from the newer end when scrolling up to it, keeping the gap above until the page reaches the older messages', () => {
    let s = jumped();
    s = reduceChat(s, { type: 'gap-requested', key: '#general', seq: gapSeq(s), side: 'before' });
    s = frames(s, { type: 'history', room: 'general', messages: range(50, 99), more: true });
    expect(shape(general(s)).slice(13, 18)).toEqual([14, 15, 'gap', 50, 51]);
    expect(gapAt(general(s).scrollback.lines, gapSeq(s))).toMatchObject({ after: 15, before: 50 });
    s = reduceChat(s, { type: 'gap-requested', key: '#general', seq: gapSeq(s), side: 'before' });
    // The latest page below 50 reaches back past 15: the gap is closed.
    s = frames(s, { type: 'history', room: 'general', messages: range(0, 49).slice(1), more: true });
    expect(shape(general(s))).toEqual(range(1, 110).map((m) => m.id));
  });

  it('stops waiting when a page is refused, so the gap can be asked for again', () => {
    let s = jumped();
    s = reduceChat(s, { type: 'gap-requested', key: '#general', seq: gapSeq(s), side: 'after' });
    s = reduceChat(s, { type: 'gap-failed', key: '#general' });
    expect(s.historyWaits).toEqual([]);
    expect(shape(general(s))).toContain('gap');
  });
});

describe('the newest message on screen (the read marker goes no further)', () => {
  it('is the newest message when following, else the newest at or above the bottom line on screen', () => {
    let s = jumped();
    // The jump scrolls to the message before the pane places it.
    expect(newestOnScreen(general(s))).toBe(10);
    s = reduceChat(s, { type: 'scrolled', key: '#general', seq: gapSeq(s) });
    expect(newestOnScreen(general(s))).toBe(15);
    s = frames(s, { type: 'message', ...msg(111) });
    expect(newestOnScreen(general(s))).toBe(15);
    s = reduceChat(s, { type: 'scrolled', key: '#general', seq: null });
    expect(newestOnScreen(general(s))).toBe(111);
  });
});

describe('/history in a thread window', () => {
  function thread(more: boolean): ChatState {
    let s = frames(
      initialChatState(conn),
      { type: 'welcome', v: 1, nick: 'alice', server: 'teamchat/0.1.0', rooms: ['general'], limits },
      { type: 'joined', room: 'general', topic: null, users: ['alice', 'bob'], history: [msg(1, 'root')], more: false },
    );
    s = reduceChat(s, { type: 'thread-requested', room: 'general', id: 1 });
    const replies = more
      ? [msg(40, 'reply 40', { replyTo: 1 }), msg(41, 'reply 41', { replyTo: 1 })]
      : [msg(1, 'root'), msg(40, 'reply 40', { replyTo: 1 })];
    return frames(s, { type: 'history', room: 'general', messages: replies, more });
  }
  const threadWindow = (s: ChatState) => s.windows.find((w) => w.key === THREAD_KEY)!;
  const texts = (s: ChatState) => threadWindow(s).scrollback.lines.map((l) => l.text);

  it('asks for older replies of the thread, before its oldest reply held', () => {
    const w = { kind: 'status' as const, name: 'thread 1', oldestId: 40, thread: { room: 'general', id: 1 } };
    expect(interpretInput('/history 20', w)).toEqual([{ kind: 'older', count: 20 }]);
    expect(olderRequest(w, 20)).toEqual({ type: 'history', room: 'general', thread: 1, before: 40, limit: 20 });
    // No reply held: before the root, which says there is nothing older.
    expect(olderRequest({ ...w, oldestId: null }, 50)).toMatchObject({ thread: 1, before: 1 });
  });

  it('loads older replies into the thread window, above the ones shown', () => {
    let s = thread(true);
    expect(texts(s)[0]).toMatch(/the latest 2 replies \(\/history or PgUp: older ones\)/);
    expect(threadWindow(s).hasOlder).toBe(true);
    s = reduceChat(s, { type: 'older-requested', key: THREAD_KEY, via: 'command' });
    s = frames(s, {
      type: 'history',
      room: 'general',
      messages: [msg(1, 'root'), msg(20, 'reply 20', { replyTo: 1 })],
      more: false,
    });
    expect(
      threadWindow(s)
        .scrollback.lines.filter((l) => l.id !== undefined)
        .map((l) => l.text),
    ).toEqual(['root', 'reply 20', 'reply 40', 'reply 41']);
    expect(texts(s).at(-1)).toBe('Loaded 2 older messages above (PgUp to read); that is the start of this thread');
    expect(threadWindow(s).hasOlder).toBe(false);
    // The room window got none of it.
    expect(general(s).scrollback.has(20)).toBe(false);
  });

  it('says clearly when there is nothing older in the thread', () => {
    let s = thread(false);
    s = reduceChat(s, { type: 'older-requested', key: THREAD_KEY, via: 'command' });
    s = frames(s, { type: 'history', room: 'general', messages: [], more: false });
    expect(texts(s).at(-1)).toBe('Nothing older in this thread: this is the start of its history');
    expect(threadWindow(s).loadingOlder).toBe(false);
  });
});
