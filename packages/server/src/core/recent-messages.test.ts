import type { RoomMessage } from '@teamchat/protocol';
import { describe, expect, it } from 'vitest';
import { RecentMessages } from './recent-messages.js';

const msg = (id: number): RoomMessage => ({ id, ts: id, room: 'r', nick: 'n', text: `m${id}` });
const ids = (r: { messages: RoomMessage[] } | null) => r?.messages.map((m) => m.id);

describe('RecentMessages', () => {
  it('keeps the latest messages up to its capacity', () => {
    const ring = new RecentMessages(3, [], true);
    for (const id of [2, 5, 9, 11]) ring.push(msg(id));
    expect(ring.toArray().map((m) => m.id)).toEqual([5, 9, 11]);
  });

  it('answers pages it holds entirely and refuses the ones it cannot', () => {
    const ring = new RecentMessages(4, [2, 5, 9, 11].map(msg), false);
    expect(ids(ring.query({ limit: 2 }))).toEqual([9, 11]);
    expect(ring.query({ limit: 2 })!.more).toBe(true);
    expect(ids(ring.query({ before: 11, limit: 3 }))).toEqual([2, 5, 9]);
    expect(ring.query({ before: 9, limit: 3 })).toBeNull();
    expect(ids(ring.query({ after: 4, limit: 10 }))).toEqual([5, 9, 11]);
    expect(ids(ring.query({ after: 1, limit: 10 }))).toEqual([2, 5, 9, 11]);
    expect(ring.query({ after: 0, limit: 10 })).toBeNull();
    expect(ids(ring.query({ after: 2, before: 11, limit: 1 }))).toEqual([5]);
    expect(ring.query({ after: 2, before: 11, limit: 1 })!.more).toBe(true);
  });

  it('answers everything while it holds the whole room', () => {
    const ring = new RecentMessages(10, [3, 4].map(msg));
    expect(ring.query({ limit: 50 })).toEqual({ messages: [msg(3), msg(4)], more: false });
    expect(ids(ring.query({ after: 0, limit: 50 }))).toEqual([3, 4]);
  });
});
