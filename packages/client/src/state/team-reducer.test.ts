import type { RoomMessage, ServerFrame } from '@teamchat/protocol';
import { describe, expect, it } from 'vitest';
import type { ConnectionState } from '../connection/chat-connection.js';
import { lineRows } from '../ui/layout-rows.js';
import { GAP_TEXT, reduceChat } from './chat-reducer.js';
import { initialChatState, MENTIONS_KEY, SEARCH_KEY, THREAD_KEY, type ChatState } from './chat-state.js';
import { mentionRanges, mentions } from './mentions.js';

const conn: ConnectionState = {
  status: 'connected',
  server: 'localhost:5555',
  nick: 'alice',
  retryAt: null,
  reason: null,
  ready: true,
};
const msg = (
  id: number,
  nick: string,
  text: string,
  room = 'general',
  extra: Partial<RoomMessage> = {},
): RoomMessage => ({ id, ts: 1_000 + id, room, nick, text, ...extra });

function start(words: string[] = []): ChatState {
  return frames(
    initialChatState(conn, undefined, words),
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
      topic: null,
      users: ['alice', 'bob'],
      history: [msg(1, 'bob', 'old'), msg(2, 'alice', 'mine')],
      more: false,
    },
    { type: 'joined', room: 'random', topic: null, users: ['alice', 'bob'], history: [], more: false },
  );
}

const frames = (s: ChatState, ...fs: ServerFrame[]) => reduceChat(s, { type: 'frames', frames: fs, now: 0 });
const win = (s: ChatState, key: string) => s.windows.find((w) => w.key === key)!;
const line = (s: ChatState, key: string, id: number) => win(s, key).scrollback.get(id)!;
const rowsText = (s: ChatState, key: string, id: number) =>
  lineRows(line(s, key, id), 80, 'alice').map((r) => r.map((x) => x.text).join(''));

describe('reduceChat: edits, deletes, replies, reactions', () => {
  it('shows an edited message with its new text and "(edited)"', () => {
    const s = frames(start(), { type: 'edited', id: 1, room: 'general', text: 'new text', edited: 5, by: 'bob' });
    expect(line(s, '#general', 1)).toMatchObject({ text: 'new text', edited: true });
    expect(rowsText(s, '#general', 1)[0]).toMatch(/<bob> new text \(edited\)$/);
  });

  it('shows a deleted message as a tombstone, without its text or reactions', () => {
    let s = frames(start(), {
      type: 'reaction',
      id: 1,
      room: 'general',
      emoji: '👍',
      nick: 'alice',
      added: true,
      count: 1,
      ts: 3,
    });
    s = frames(s, { type: 'deleted', id: 1, room: 'general', by: 'bob', ts: 6 });
    expect(line(s, '#general', 1)).toMatchObject({ text: '', deleted: true });
    expect(rowsText(s, '#general', 1)).toEqual([expect.stringMatching(/<bob> \(message deleted\)$/)]);
  });

  it('counts reactions per emoji and shows them compactly under the message', () => {
    let s = frames(
      start(),
      { type: 'reaction', id: 1, room: 'general', emoji: '👍', nick: 'alice', added: true, count: 1, ts: 3 },
      { type: 'reaction', id: 1, room: 'general', emoji: '👍', nick: 'carol', added: true, count: 2, ts: 4 },
      { type: 'reaction', id: 1, room: 'general', emoji: '🎉', nick: 'bob', added: true, count: 1, ts: 5 },
    );
    expect(rowsText(s, '#general', 1).at(-1)!.trim()).toBe('👍 2  🎉 1');
    s = frames(s, {
      type: 'reaction',
      id: 1,
      room: 'general',
      emoji: '🎉',
      nick: 'bob',
      added: false,
      count: 0,
      ts: 6,
    });
    expect(line(s, '#general', 1).reactions).toEqual({ '👍': ['alice', 'carol'] });
  });

  it('quotes the parent above a reply, and keeps the quote up to date', () => {
    let s = frames(start(), { type: 'message', ...msg(3, 'bob', 'sure thing', 'general', { replyTo: 2 }) });
    expect(rowsText(s, '#general', 3)[0].trim()).toBe('↳ alice: mine');
    s = frames(s, { type: 'edited', id: 2, room: 'general', text: 'mine, edited', edited: 9, by: 'alice' });
    expect(rowsText(s, '#general', 3)[0].trim()).toBe('↳ alice: mine, edited');
    // A parent that is not held: the reply says what it answers.
    s = frames(s, { type: 'message', ...msg(4, 'bob', 'late', 'general', { replyTo: 99 }) });
    expect(rowsText(s, '#general', 4)[0].trim()).toBe('↳ reply to #99');
  });

  it('reads edits, tombstones and reactions from history', () => {
    const s = frames(start(), {
      type: 'history',
      room: 'general',
      messages: [
        msg(0, 'bob', '', 'general', { deleted: true }),
        msg(0.5, 'bob', 'fixed', 'general', { edited: 4, reactions: { '🎉': ['alice'] } }),
      ],
      more: false,
    });
    expect(line(s, '#general', 0)).toMatchObject({ deleted: true });
    expect(line(s, '#general', 0.5)).toMatchObject({ edited: true, reactions: { '🎉': ['alice'] } });
  });

  it('shows a thread in its own window, and a new reply joins it', () => {
    let s = reduceChat(start(), { type: 'thread-requested', room: 'general', id: 1 });
    s = frames(s, {
      type: 'history',
      room: 'general',
      messages: [msg(1, 'bob', 'old'), msg(5, 'alice', 'a reply', 'general', { replyTo: 1 })],
      more: false,
    });
    expect(s.current).toBe(THREAD_KEY);
    expect(win(s, THREAD_KEY).thread).toEqual({ room: 'general', id: 1 });
    s = frames(s, { type: 'message', ...msg(6, 'bob', 'another', 'general', { replyTo: 1 }) });
    expect(
      win(s, THREAD_KEY)
        .scrollback.lines.filter((l) => l.id !== undefined)
        .map((l) => l.text),
    ).toEqual(['old', 'a reply', 'another']);
    // The thread page did not go into the room window.
    expect(win(s, '#general').scrollback.has(5)).toBe(false);
  });
});

describe('reduceChat: read markers and unread counts', () => {
  it('takes unread and mention counts from the server, except for the window on screen', () => {
    const s = frames(start(), {
      type: 'unread',
      rooms: { general: { unread: 4, mentions: 1, marker: 1 }, random: { unread: 7, mentions: 2, marker: 0 } },
    });
    expect(win(s, '#random')).toMatchObject({ unread: 7, mentions: 2, mentioned: true });
    expect(win(s, '#general')).toMatchObject({ unread: 0, marker: 1 });
  });

  it('clears the unread count when another device marks the room read', () => {
    let s = frames(
      start(),
      { type: 'message', ...msg(10, 'bob', 'one', 'random') },
      { type: 'message', ...msg(11, 'bob', 'hey alice', 'random') },
    );
    expect(win(s, '#random')).toMatchObject({ unread: 2, mentioned: true });
    s = frames(s, { type: 'marker', room: 'random', id: 10 });
    expect(win(s, '#random')).toMatchObject({ unread: 1, mentions: 1, mentioned: true });
    s = frames(s, { type: 'marker', room: 'random', id: 11 });
    expect(win(s, '#random')).toMatchObject({ unread: 0, mentions: 0, mentioned: false });
    // Markers only move forward.
    s = frames(s, { type: 'marker', room: 'random', id: 3 });
    expect(win(s, '#random').marker).toBe(11);
  });

  it('draws a marker line where you left off when you come back to a room', () => {
    let s = frames(start(), { type: 'marker', room: 'random', id: 9 });
    s = frames(
      s,
      { type: 'message', ...msg(9, 'bob', 'read', 'random') },
      { type: 'message', ...msg(10, 'bob', 'new one', 'random') },
      { type: 'message', ...msg(12, 'bob', 'new two', 'random') },
    );
    s = reduceChat(s, { type: 'switch', key: '#random' });
    const lines = win(s, '#random').scrollback.lines.filter((l) => l.kind !== 'notice');
    expect(lines.map((l) => (l.kind === 'marker' ? '---' : l.text))).toEqual(['read', '---', 'new one', 'new two']);
    expect(lines[1].text).toBe('2 new since you last read');
  });
});

describe('reduceChat: server counts of private conversations and highlight words', () => {
  it("opens a window for each conversation with unread messages, with the server's counts", () => {
    const s = frames(start(), {
      type: 'unread',
      rooms: { random: { unread: 4, mentions: 1, marker: 7 } },
      pms: { Carol: { unread: 3, mentions: 3, marker: 12 } },
    });
    expect(win(s, '#random')).toMatchObject({ unread: 4, mentions: 1, mentioned: true, marker: 7 });
    expect(win(s, '@carol')).toMatchObject({
      kind: 'pm',
      name: 'Carol',
      unread: 3,
      mentions: 3,
      mentioned: true,
      marker: 12,
    });
  });

  it('clears a held conversation the complete list leaves out (read on another device)', () => {
    let s = frames(start(), { type: 'pm', id: 20, ts: 0, from: 'bob', to: 'alice', text: 'psst' });
    expect(win(s, '@bob')).toMatchObject({ unread: 1, mentioned: true });
    s = frames(s, { type: 'unread', rooms: {}, pms: {} });
    expect(win(s, '@bob')).toMatchObject({ unread: 0, mentions: 0, mentioned: false });
    // An older server sends no `pms`: nothing changes.
    s = frames(s, { type: 'pm', id: 21, ts: 0, from: 'bob', to: 'alice', text: 'again' });
    s = frames(s, { type: 'unread', rooms: {} });
    expect(win(s, '@bob').unread).toBe(1);
  });

  it("adopts the server's highlight words for mentions, telling the user of a change made elsewhere", () => {
    let s = frames(start(['deploy']), { type: 'highlights', words: ['oncall'], ref: 'h' });
    expect(s.highlightWords).toEqual(['oncall']);
    expect(win(s, '*').scrollback.lines.some((l) => l.text.includes('another device'))).toBe(false);
    s = frames(
      s,
      { type: 'message', ...msg(10, 'bob', 'the deploy broke', 'random') },
      { type: 'message', ...msg(11, 'bob', 'who is oncall?', 'random') },
    );
    expect(win(s, '#random')).toMatchObject({ unread: 2, mentions: 1 });
    expect(s.bells).toBe(1);
    s = frames(s, { type: 'highlights', words: ['release'] });
    expect(s.highlightWords).toEqual(['release']);
    expect(win(s, '*').scrollback.lines.at(-1)?.text).toBe('Highlight words changed on another device: release');
  });
});

describe('reduceChat: mentions', () => {
  it('highlights @room, @here and extra highlight words, and counts a bell per mention', () => {
    let s = start(['deploy']);
    s = frames(
      s,
      { type: 'message', ...msg(10, 'bob', '@here standup', 'random') },
      { type: 'message', ...msg(11, 'bob', 'the deploy broke', 'random') },
    );
    s = frames(s, { type: 'message', ...msg(12, 'bob', 'nothing for you', 'random') });
    expect(win(s, '#random')).toMatchObject({ unread: 3, mentions: 2, mentioned: true });
    expect(s.bells).toBe(2);
  });

  it('lists mentions newest first in a mentions window', () => {
    let s = reduceChat(start(), { type: 'mentions-started', page: false });
    expect(s.current).toBe(MENTIONS_KEY);
    s = frames(s, {
      type: 'mentions',
      messages: [msg(3, 'bob', 'hi alice'), msg(8, 'bob', 'alice?', 'random')],
      more: false,
    });
    const hits = win(s, MENTIONS_KEY).scrollback.lines.filter((l) => l.kind === 'hit');
    expect(hits.map((h) => [h.index, h.where, h.text])).toEqual([
      [1, '#random', 'alice?'],
      [2, '#general', 'hi alice'],
    ]);
    expect(hits[1].highlights).toEqual([[3, 8]]);
  });

  it('finds mentions as whole words only', () => {
    expect(mentions('so much malice', 'alice')).toBe(false);
    expect(mentions('@all: lunch', 'alice')).toBe(true);
    expect(mentions('xdeploy', 'alice', ['deploy'])).toBe(false);
    expect(mentionRanges('alice and @room', 'alice')).toEqual([
      [0, 5],
      [10, 15],
    ]);
  });
});

describe('reduceChat: search', () => {
  const hit = (id: number, text: string, room: string | null = 'general') => ({
    id,
    ts: 1_000 + id,
    room,
    nick: 'bob',
    text,
    highlights: [[0, 6]] as [number, number][],
  });

  it('opens a results window, pages with more, and selects with Up/Down', () => {
    let s = reduceChat(start(), { type: 'search-started', q: 'deploy', page: false });
    expect(s.current).toBe(SEARCH_KEY);
    expect(win(s, SEARCH_KEY).scrollback.lines[0].text).toMatch(/Search "deploy": searching/);
    s = frames(s, {
      type: 'search-results',
      q: 'deploy',
      results: [hit(40, 'deploy one'), hit(30, 'deploy two')],
      more: true,
      next: 30,
    });
    expect(win(s, SEARCH_KEY).results).toMatchObject({ more: true, next: 30, selected: 0 });
    s = reduceChat(s, { type: 'select-result', delta: 1 });
    s = reduceChat(s, { type: 'select-result', delta: 1 });
    expect(win(s, SEARCH_KEY).results!.selected).toBe(1);
    s = reduceChat(s, { type: 'search-started', q: 'deploy', page: true });
    s = frames(s, { type: 'search-results', q: 'deploy', results: [hit(20, 'deploy three', null)], more: false });
    const hits = win(s, SEARCH_KEY).scrollback.lines.filter((l) => l.kind === 'hit');
    expect(hits.map((h) => h.index)).toEqual([1, 2, 3]);
    expect(hits[2].where).toBe('PM bob');
    expect(hits[0].target).toEqual({ id: 40, room: 'general' });
    const rows = lineRows(hits[0], 80, 'alice').map((r) => r.map((x) => x.text).join(''));
    expect(rows[0]).toMatch(/^\[1\] #general \d\d:\d\d <bob> deploy one$/);
    expect(lineRows(hits[0], 80, 'alice')[0].find((x) => x.text === 'deploy')).toMatchObject({ inverse: true });
  });

  it('jumps to a result: fetches the page around it into the room, marks it, and notes the gap after it', () => {
    let s = frames(start(), {
      type: 'joined',
      room: 'random',
      topic: null,
      users: [],
      history: [msg(500, 'bob', 'latest', 'random')],
      more: true,
    });
    s = reduceChat(s, { type: 'jump', key: '#random', id: 100, fetch: ['before', 'after'] });
    expect(s.current).toBe('#random');
    expect(s.jump).toMatchObject({ key: '#random', id: 100 });
    s = frames(
      s,
      {
        type: 'history',
        room: 'random',
        messages: [msg(90, 'bob', 'before it', 'random'), msg(100, 'bob', 'the one', 'random')],
        more: true,
      },
      { type: 'history', room: 'random', messages: [msg(110, 'bob', 'after it', 'random')], more: true },
    );
    const w = win(s, '#random');
    expect(w.focusId).toBe(100);
    expect(w.scrollback.lines.map((l) => l.text).filter((t) => !t.startsWith('Now talking'))).toEqual([
      'before it',
      'the one',
      'after it',
      GAP_TEXT,
      'latest',
    ]);
    expect(w.hasOlder).toBe(true);
    // Not taken for an older page: no "Start of history", nothing pending.
    expect(s.historyWaits).toEqual([]);
  });
});

describe('reduceChat: /ids', () => {
  it('shows message ids before the nick', () => {
    const s = reduceChat(start(), { type: 'toggle-ids' });
    expect(s.showIds).toBe(true);
    expect(
      lineRows(line(s, '#general', 1), 80, 'alice', true)[0]
        .map((x) => x.text)
        .join(''),
    ).toMatch(/#1 <bob> old$/);
  });
});
