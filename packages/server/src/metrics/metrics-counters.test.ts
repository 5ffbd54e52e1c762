import { describe, expect, it } from 'vitest';
import type { ChatStats } from './chat-events.js';
import { SNAPSHOT_FORMAT } from './metric-snapshot.js';
import { DEFAULT_MAX_ROOMS, MetricsCounters, rate } from './metrics-counters.js';
import { OTHER_ROOMS, PRIVATE_ROOMS } from './room-labels.js';

function stats(members: Record<string, number> = {}, connections = 0): ChatStats {
  return {
    roomMembers: () => new Map(Object.entries(members)),
    connections: () => connections,
    isRestricted: () => false,
  };
}

function repeat(times: number, run: () => void): void {
  for (let i = 0; i < times; i++) run();
}

describe('MetricsCounters', () => {
  it('computes the instant messages per second over the interval', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 1_000 });
    repeat(7, () => counters.message('general'));
    repeat(3, () => counters.message('random'));
    const snapshot = counters.close(3_000, stats({ general: 2, random: 1 }, 3));
    expect(snapshot.ts).toBe(3_000);
    expect(snapshot.intervalMs).toBe(2_000);
    expect(snapshot.rooms.general).toMatchObject({ mps: 3.5, messages: 7, members: 2 });
    expect(snapshot.rooms.random).toMatchObject({ mps: 1.5, messages: 3, members: 1 });
    expect(snapshot.totals).toMatchObject({ mps: 5, messages: 10, messagesTotal: 10, connections: 3, rooms: 2 });
  });

  it('averages messages per second over the last window of intervals', () => {
    const counters = new MetricsCounters({ window: 3, startedAt: 0 });
    const perInterval = [2, 4, 6, 8, 10];
    const averages: number[] = [];
    let now = 0;
    for (const n of perInterval) {
      repeat(n, () => counters.message('general'));
      now += 1_000;
      averages.push(counters.close(now, stats({ general: 1 })).rooms.general.avgMps);
    }
    // While fewer than 3 intervals exist, the average covers those there are.
    expect(averages).toEqual([2, 3, 4, 6, 8]);
  });

  it('weights the moving average by interval length', () => {
    const counters = new MetricsCounters({ window: 2, startedAt: 0 });
    repeat(10, () => counters.message('general'));
    counters.close(1_000, stats()); // 10 messages in 1 s
    repeat(2, () => counters.message('general'));
    const snapshot = counters.close(4_000, stats()); // 2 messages in 3 s
    expect(snapshot.rooms.general.mps).toBe(0.667);
    expect(snapshot.rooms.general.avgMps).toBe(3); // 12 messages in 4 s
    expect(snapshot.totals.avgMps).toBe(3);
  });

  it('counts joins and leaves per interval and keeps cumulative totals across intervals', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    counters.join('general');
    counters.join('general');
    counters.leave('general');
    const first = counters.close(2_000, stats({ general: 1 }));
    expect(first.rooms.general).toMatchObject({ joins: 2, leaves: 1, joinsTotal: 2, leavesTotal: 1 });

    counters.join('general');
    counters.message('general');
    const second = counters.close(4_000, stats({ general: 2 }));
    expect(second.rooms.general).toMatchObject({
      joins: 1,
      leaves: 0,
      joinsTotal: 3,
      leavesTotal: 1,
      messagesTotal: 1,
    });
    expect(second.totals).toMatchObject({ joins: 1, leaves: 0 });

    const third = counters.close(6_000, stats({ general: 2 }));
    expect(third.rooms.general).toMatchObject({
      joins: 0,
      leaves: 0,
      joinsTotal: 3,
      leavesTotal: 1,
      messages: 0,
      mps: 0,
    });
  });

  it('marks what it writes with the snapshot format', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    expect(counters.close(1_000, stats()).v).toBe(SNAPSHOT_FORMAT);
  });

  it('shows a quiet room with zero rates and its members', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    const snapshot = counters.close(2_000, stats({ lobby: 4 }));
    expect(snapshot.rooms.lobby).toEqual({
      mps: 0,
      avgMps: 0,
      messages: 0,
      messagesTotal: 0,
      joins: 0,
      leaves: 0,
      joinsTotal: 0,
      leavesTotal: 0,
      members: 4,
    });
  });

  it('lowers a room average as the busy intervals leave the window', () => {
    const counters = new MetricsCounters({ window: 2, startedAt: 0 });
    repeat(8, () => counters.message('general'));
    counters.close(2_000, stats({ general: 1 }));
    expect(counters.close(4_000, stats({ general: 1 })).rooms.general.avgMps).toBe(2);
    expect(counters.close(6_000, stats({ general: 1 })).rooms.general.avgMps).toBe(0);
  });

  it('keeps a room the runtime no longer lists until it leaves the moving average (no active window)', () => {
    const counters = new MetricsCounters({ window: 2, startedAt: 0, activeWindowMs: 0 });
    counters.message('gone');
    counters.close(1_000, stats());
    expect(counters.close(2_000, stats()).rooms.gone).toMatchObject({ mps: 0, avgMps: 0.5 });
    expect(counters.close(3_000, stats()).rooms.gone).toBeUndefined();
  });

  it('counts private messages only as a number', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    counters.privateMessage();
    counters.privateMessage();
    const snapshot = counters.close(1_000, stats());
    expect(snapshot.totals).toMatchObject({ privateMessages: 2, privateMessagesTotal: 2, messages: 0 });
    expect(snapshot.rooms).toEqual({});
  });

  it('continues cumulative totals from a stored snapshot after a restart', () => {
    const before = new MetricsCounters({ window: 5, startedAt: 0 });
    repeat(5, () => before.message('general'));
    before.join('general');
    before.privateMessage();
    const stored = before.close(2_000, stats({ general: 1 }));

    const after = new MetricsCounters({ window: 5, startedAt: 10_000 });
    after.seed(stored);
    after.message('general');
    const snapshot = after.close(12_000, stats({ general: 0 }));
    expect(snapshot.rooms.general).toMatchObject({ messages: 1, messagesTotal: 6, joinsTotal: 1, mps: 0.5 });
    expect(snapshot.totals).toMatchObject({ messagesTotal: 6, privateMessagesTotal: 1 });
  });

  it('includes the interval still being counted in the live totals', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    counters.message('general');
    counters.close(1_000, stats());
    counters.message('general');
    counters.privateMessage();
    counters.connectionOpened();
    counters.connectionRefused();
    counters.floodDelayed();
    expect(counters.live()).toEqual({
      messagesTotal: 2,
      privateMessagesTotal: 1,
      connectionsOpenedTotal: 1,
      connectionsClosedTotal: 0,
      connectionsRefusedTotal: 1,
      floodDelayedTotal: 1,
    });
  });

  it('counts refused connections and flood-delayed commands per interval and since the start', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    for (let i = 0; i < 4; i++) counters.connectionRefused();
    counters.floodDelayed();
    expect(counters.close(2_000, stats()).totals).toMatchObject({
      connectionsRefused: 4,
      connectionsRefusedTotal: 4,
      floodDelayed: 1,
      floodDelayedTotal: 1,
    });
    counters.floodDelayed();
    expect(counters.close(4_000, stats()).totals).toMatchObject({
      connectionsRefused: 0,
      connectionsRefusedTotal: 4,
      floodDelayed: 1,
      floodDelayedTotal: 2,
    });
  });

  it('rejects a window that is not a positive whole number', () => {
    expect(() => new MetricsCounters({ window: 0, startedAt: 0 })).toThrow(RangeError);
    expect(() => new MetricsCounters({ window: 2.5, startedAt: 0 })).toThrow(/whole number/);
  });

  it('reports a zero rate over an empty interval instead of dividing by zero', () => {
    expect(rate(3, 0)).toBe(0);
    const counters = new MetricsCounters({ window: 5, startedAt: 5_000 });
    counters.message('general');
    expect(counters.close(5_000, stats()).rooms.general.mps).toBe(0);
  });
});

/** Live state the test sets: members per room in memory, and the restricted ones. */
function liveStats(members: Map<string, number>, restricted: Set<string> = new Set()): ChatStats {
  return {
    roomMembers: () => new Map(members),
    connections: () => 1,
    isRestricted: (room) => members.has(room) && restricted.has(room),
  };
}

describe('MetricsCounters with many rooms', () => {
  it('drops a room without members once its last activity is older than the active window', () => {
    const counters = new MetricsCounters({ window: 2, startedAt: 0, activeWindowMs: 10_000 });
    const members = new Map([['lobby', 0]]);
    counters.join('lobby');
    counters.leave('lobby');
    expect(counters.close(2_000, liveStats(members)).rooms.lobby).toMatchObject({ joins: 1, leaves: 1, members: 0 });
    // Still within 10 s of its last join/leave: listed, quiet.
    expect(counters.close(12_000, liveStats(members)).rooms.lobby).toMatchObject({
      joins: 0,
      members: 0,
      joinsTotal: 1,
    });
    const later = counters.close(12_001, liveStats(members));
    expect(later.rooms.lobby).toBeUndefined();
    expect(later.totals.rooms).toBe(0);
    expect(counters.trackedRooms).toBe(0);
  });

  it('keeps a room with members however long it is quiet', () => {
    const counters = new MetricsCounters({ window: 2, startedAt: 0, activeWindowMs: 1_000 });
    const snapshot = counters.close(
      3_600_000,
      liveStats(
        new Map([
          ['ops', 3],
          ['empty', 0],
        ]),
      ),
    );
    expect(Object.keys(snapshot.rooms)).toEqual(['ops']);
    expect(snapshot.rooms.ops).toMatchObject({ members: 3, messages: 0 });
  });

  it('keeps a room the core evicted from memory until its activity window passes, with 0 members', () => {
    const counters = new MetricsCounters({ window: 2, startedAt: 0, activeWindowMs: 60_000 });
    const members = new Map([['brief', 1]]);
    counters.join('brief');
    counters.message('brief');
    counters.close(2_000, liveStats(members));
    counters.leave('brief');
    members.delete('brief'); // evicted: no longer in memory
    const after = counters.close(4_000, liveStats(members));
    expect(after.rooms.brief).toMatchObject({ members: 0, leaves: 1, messagesTotal: 1, joinsTotal: 1, leavesTotal: 1 });
    expect(counters.close(60_000, liveStats(members)).rooms.brief).toMatchObject({ members: 0, leaves: 0 });
    expect(counters.close(64_001, liveStats(members)).rooms.brief).toBeUndefined();
  });

  it('never names a keyed or invite-only room: it is summed under (private)', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    const members = new Map([
      ['staff', 2],
      ['board', 1],
      ['general', 4],
    ]);
    const restricted = new Set(['staff', 'board']);
    for (let i = 0; i < 3; i++) counters.message('staff', true);
    counters.message('board', true);
    counters.join('board', true);
    counters.message('general');
    const snapshot = counters.close(2_000, liveStats(members, restricted));
    expect(Object.keys(snapshot.rooms)).toEqual(['general', PRIVATE_ROOMS]);
    expect(snapshot.rooms[PRIVATE_ROOMS]).toEqual({
      mps: 2,
      avgMps: 2,
      messages: 4,
      messagesTotal: 4,
      joins: 1,
      leaves: 0,
      joinsTotal: 1,
      leavesTotal: 0,
      members: 3,
      rooms: 2,
    });
    expect(snapshot.totals).toMatchObject({ messages: 5, joins: 1, rooms: 3 });
    expect(JSON.stringify(snapshot)).not.toMatch(/staff|board/);
  });

  it('keeps hiding a restricted room after the core evicted it', () => {
    const counters = new MetricsCounters({ window: 2, startedAt: 0, activeWindowMs: 60_000 });
    const members = new Map([['secret', 1]]);
    counters.message('secret');
    // Seen keyed at the close, then emptied and evicted: the core can no longer tell.
    counters.close(2_000, liveStats(members, new Set(['secret'])));
    counters.leave('secret');
    members.delete('secret');
    const after = counters.close(4_000, liveStats(members));
    expect(after.rooms.secret).toBeUndefined();
    expect(after.rooms[PRIVATE_ROOMS]).toMatchObject({ leaves: 1, members: 0, rooms: 1 });
  });

  it('hides a room keyed, emptied and evicted within one interval, from what the event said', () => {
    const counters = new MetricsCounters({ window: 2, startedAt: 0 });
    counters.join('flash'); // public when created
    counters.message('flash', true); // keyed by now
    counters.leave('flash', true);
    const snapshot = counters.close(2_000, liveStats(new Map())); // gone from memory
    expect(Object.keys(snapshot.rooms)).toEqual([PRIVATE_ROOMS]);
  });

  it('names a room again once its key is removed while it is in memory', () => {
    const counters = new MetricsCounters({ window: 2, startedAt: 0 });
    const members = new Map([['team', 2]]);
    counters.message('team', true);
    expect(Object.keys(counters.close(2_000, liveStats(members, new Set(['team']))).rooms)).toEqual([PRIVATE_ROOMS]);
    counters.message('team');
    expect(Object.keys(counters.close(4_000, liveStats(members)).rooms)).toEqual(['team']);
  });

  it('names the busiest rooms up to the cap and sums the rest under (other)', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0, maxRooms: 2 });
    const members = new Map([
      ['a', 1],
      ['b', 5],
      ['c', 0],
      ['d', 2],
    ]);
    repeat(9, () => counters.message('c'));
    repeat(4, () => counters.message('a'));
    counters.message('d');
    const snapshot = counters.close(1_000, liveStats(members));
    expect(Object.keys(snapshot.rooms)).toEqual(['a', 'c', OTHER_ROOMS]);
    expect(snapshot.rooms[OTHER_ROOMS]).toMatchObject({ messages: 1, mps: 1, members: 7, rooms: 2, messagesTotal: 1 });
    expect(snapshot.totals).toMatchObject({ messages: 14, rooms: 4 });
    // Counts are never lost: named rooms and aggregates add up to the totals.
    const sum = Object.values(snapshot.rooms).reduce((n, r) => n + r.messages, 0);
    expect(sum).toBe(snapshot.totals.messages);
  });

  it('continues a room total where it was counted under its own name', () => {
    const counters = new MetricsCounters({ window: 1, startedAt: 0, maxRooms: 1 });
    const members = new Map<string, number>();
    repeat(3, () => counters.message('x'));
    counters.message('y');
    expect(counters.close(1_000, liveStats(members)).rooms.x).toMatchObject({ messagesTotal: 3 });
    repeat(5, () => counters.message('y'));
    counters.message('x');
    const second = counters.close(2_000, liveStats(members));
    expect(second.rooms.y).toMatchObject({ messages: 5, messagesTotal: 5 });
    expect(second.rooms[OTHER_ROOMS]).toMatchObject({ messages: 1, messagesTotal: 2 }); // y once, then x once
    repeat(4, () => counters.message('x'));
    expect(counters.close(3_000, liveStats(members)).rooms.x).toMatchObject({ messages: 4, messagesTotal: 7 });
  });

  it('keeps a snapshot of 10,000 rooms bounded, and the state between intervals too', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0, activeWindowMs: 300_000 });
    const members = new Map<string, number>();
    const restricted = new Set<string>();
    // A client creates 10,000 rooms (join, leave); 50 are keyed; a few rooms really chat.
    for (let i = 0; i < 10_000; i++) {
      const room = `spam-${i}`;
      members.set(room, 0);
      if (i % 200 === 0) restricted.add(room);
      counters.join(room, restricted.has(room));
      counters.leave(room, restricted.has(room));
    }
    for (const room of ['general', 'dev', 'random']) {
      members.set(room, 3);
      repeat(20, () => counters.message(room));
    }
    const started = performance.now();
    const snapshot = counters.close(2_000, liveStats(members, restricted));
    const closeMs = performance.now() - started;
    const bytes = Buffer.byteLength(JSON.stringify(snapshot));
    console.log(
      `10,000 rooms: snapshot ${bytes} bytes, ${Object.keys(snapshot.rooms).length} keys, closed in ${closeMs.toFixed(1)} ms`,
    );
    expect(Object.keys(snapshot.rooms)).toHaveLength(DEFAULT_MAX_ROOMS + 2);
    expect(bytes).toBeLessThan(64 * 1024);
    expect(snapshot.rooms.general).toMatchObject({ messages: 20, members: 3 });
    expect(snapshot.rooms[PRIVATE_ROOMS]).toMatchObject({ rooms: 50, joins: 50, leaves: 50 });
    expect(snapshot.rooms[OTHER_ROOMS]).toMatchObject({ rooms: 10_000 - 50 - (DEFAULT_MAX_ROOMS - 3) });
    expect(snapshot.totals).toMatchObject({ rooms: 10_003, joins: 10_000, leaves: 10_000, messages: 60 });
    for (const room of restricted) expect(snapshot.rooms[room]).toBeUndefined();

    // Five minutes later only the rooms with members are left, and only they are followed.
    const later = counters.close(302_001, liveStats(members, restricted));
    expect(Object.keys(later.rooms)).toEqual(['dev', 'general', 'random']);
    expect(counters.trackedRooms).toBe(3);
  });
});
