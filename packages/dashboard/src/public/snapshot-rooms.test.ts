import { describe, expect, it } from 'vitest';
import { OTHER_ROOMS, PRIVATE_ROOMS, compactSnapshot, foldSnapshot, pickRooms } from './snapshot-rooms.js';

const room = (messages: number, members = 0) => ({
  mps: messages / 2,
  avgMps: messages / 2,
  messages,
  messagesTotal: messages * 10,
  joins: 0,
  leaves: 0,
  joinsTotal: 1,
  leavesTotal: 0,
  members,
});
const snapshot = (rooms: Record<string, ReturnType<typeof room> & { rooms?: number }>) => ({
  ts: 1,
  intervalMs: 2000,
  rooms,
  totals: {},
});

describe('the dashboard room bounds', () => {
  it('keeps the busiest rooms of a snapshot by name and sums the rest under (other)', () => {
    const s = snapshot({
      a: room(1),
      b: room(9),
      c: room(5),
      [OTHER_ROOMS]: { ...room(2), rooms: 40 },
      [PRIVATE_ROOMS]: { ...room(3), rooms: 2 },
    });
    const compact = compactSnapshot(s, 2);
    expect(Object.keys(compact.rooms).sort()).toEqual([OTHER_ROOMS, PRIVATE_ROOMS, 'b', 'c'].sort());
    expect(compact.rooms[OTHER_ROOMS]).toMatchObject({ messages: 3, messagesTotal: 30, mps: 1.5, rooms: 41 });
    expect(compact.rooms[PRIVATE_ROOMS]).toBe(s.rooms[PRIVATE_ROOMS]);
    expect(compactSnapshot(s, 3)).toBe(s); // nothing to fold: no copy
  });

  it('folds a snapshot onto the rooms on screen', () => {
    const s = snapshot({ a: room(1, 2), b: room(2, 3) });
    expect(foldSnapshot(s, new Set(['a', 'b']))).toBe(s);
    expect(foldSnapshot(s, new Set(['b'])).rooms).toEqual({
      b: s.rooms.b,
      [OTHER_ROOMS]: expect.objectContaining({ messages: 1, members: 2, rooms: 1 }),
    });
  });

  it('picks the busiest rooms over many snapshots, in name order, then the aggregates', () => {
    const snapshots = [
      snapshot({ quiet: room(0, 9), busy: room(5) }),
      snapshot({ busy: room(5), mid: room(3), [PRIVATE_ROOMS]: room(1) }),
    ];
    expect(pickRooms(snapshots, 5)).toEqual(['busy', 'mid', 'quiet', PRIVATE_ROOMS]);
    expect(pickRooms(snapshots, 2)).toEqual(['busy', 'mid', OTHER_ROOMS, PRIVATE_ROOMS]);
    expect(pickRooms([], 2)).toEqual([]);
  });
});
