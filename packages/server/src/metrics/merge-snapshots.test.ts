import { describe, expect, it } from 'vitest';
import type { ChatStats } from './chat-events.js';
import { SnapshotFolder, mergeSnapshots } from './merge-snapshots.js';
import { MetricsCounters } from './metrics-counters.js';
import { OTHER_ROOMS, PRIVATE_ROOMS } from './room-labels.js';

const stats = (members: Record<string, number>): ChatStats => ({
  roomMembers: () => new Map(Object.entries(members)),
  connections: () => Object.values(members).reduce((a, b) => a + b, 0),
  isRestricted: () => false,
});

describe('mergeSnapshots', () => {
  it('sums counts and recomputes messages per second over the merged time', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    for (let i = 0; i < 4; i++) counters.message('general');
    counters.join('general');
    counters.connectionRefused();
    counters.floodDelayed();
    const a = counters.close(2_000, stats({ general: 1 }));
    counters.floodDelayed();
    for (let i = 0; i < 8; i++) counters.message('general');
    counters.message('dev');
    counters.leave('general');
    const b = counters.close(4_000, stats({ general: 0, dev: 2 }));

    const merged = mergeSnapshots([a, b]);
    expect(merged.ts).toBe(4_000);
    expect(merged.intervalMs).toBe(4_000);
    expect(merged.merged).toBe(2);
    expect(merged.rooms.general).toMatchObject({
      messages: 12,
      mps: 3,
      joins: 1,
      leaves: 1,
      members: 0,
      messagesTotal: 12,
    });
    expect(merged.rooms.dev).toMatchObject({ messages: 1, mps: 0.25, members: 2 });
    expect(merged.totals).toMatchObject({
      messages: 13,
      mps: 3.25,
      joins: 1,
      leaves: 1,
      connections: 2,
      rooms: 2,
      messagesTotal: 13,
    });
    expect(merged.totals).toMatchObject({
      connectionsRefused: 1,
      connectionsRefusedTotal: 1,
      floodDelayed: 2,
      floodDelayedTotal: 2,
    });
  });

  it('returns a single snapshot unchanged', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    const only = counters.close(2_000, stats({}));
    expect(mergeSnapshots([only])).toBe(only);
  });
});

describe('SnapshotFolder', () => {
  const restrictedStats = (members: Record<string, number>, restricted: string[]): ChatStats => ({
    ...stats(members),
    isRestricted: (room) => restricted.includes(room),
  });

  it('sums the rooms it does not keep under (other), and restricted ones under (private)', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    for (let i = 0; i < 6; i++) counters.message('general');
    counters.message('dev');
    counters.message('ops');
    counters.join('ops');
    const a = counters.close(2_000, stats({ general: 3, dev: 1, ops: 2 }));
    counters.message('dev');
    const b = counters.close(4_000, stats({ general: 3, dev: 1, ops: 2 }));

    const hidden = new Set(['ops']); // keyed since: answered under (private)
    const folder = new SnapshotFolder((room) =>
      room === 'general' ? room : hidden.has(room) ? PRIVATE_ROOMS : OTHER_ROOMS,
    );
    folder.add(a);
    folder.add(b);
    expect(folder.size).toBe(2);
    const point = folder.take();
    expect(folder.size).toBe(0);
    expect(Object.keys(point.rooms)).toEqual(['general', OTHER_ROOMS, PRIVATE_ROOMS]);
    expect(point.rooms.general).toMatchObject({ messages: 6, mps: 1.5, members: 3 });
    expect(point.rooms[OTHER_ROOMS]).toMatchObject({ messages: 2, mps: 0.5, members: 1, rooms: 1, messagesTotal: 2 });
    expect(point.rooms[PRIVATE_ROOMS]).toMatchObject({ messages: 1, joins: 1, members: 2, rooms: 1 });
    expect(point.totals).toMatchObject({ messages: 9, messagesTotal: 9 });
    expect(point.merged).toBe(2);
    expect(point.v).toBe(2);
  });

  it('merges the (private) of stored snapshots with rooms known restricted since', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    counters.message('vault', true);
    counters.message('later-keyed');
    const s = counters.close(1_000, restrictedStats({ vault: 1, 'later-keyed': 1 }, ['vault']));
    const folder = new SnapshotFolder((room) =>
      room === 'later-keyed' || room === PRIVATE_ROOMS ? PRIVATE_ROOMS : room,
    );
    folder.add(s);
    const point = folder.take();
    expect(Object.keys(point.rooms)).toEqual([PRIVATE_ROOMS]);
    expect(point.rooms[PRIVATE_ROOMS]).toMatchObject({ messages: 2, members: 2, rooms: 2 });
    expect(point.merged).toBeUndefined();
  });

  it('marks a point whose stored snapshot came without rooms', () => {
    const folder = new SnapshotFolder((room) => room);
    const legacy = {
      ts: 1_000,
      intervalMs: 1_000,
      roomsOmitted: true as const,
      rooms: {},
      totals: {
        mps: 1,
        avgMps: 1,
        messages: 1,
        messagesTotal: 9,
        privateMessages: 0,
        privateMessagesTotal: 0,
        joins: 0,
        leaves: 0,
        connections: 1,
        rooms: 10_000,
      },
    };
    folder.add(legacy);
    const point = folder.take();
    expect(point).toMatchObject({ roomsOmitted: true, rooms: {}, totals: { messages: 1, messagesTotal: 9 } });
    expect(point.v).toBeUndefined();
  });
});
