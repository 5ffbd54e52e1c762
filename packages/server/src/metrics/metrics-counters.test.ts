import { describe, expect, it } from 'vitest';
import type { ChatStats } from './chat-events.js';
import { MetricsCounters, rate } from './metrics-counters.js';

function stats(members: Record<string, number> = {}, connections = 0): ChatStats {
  return { roomMembers: () => new Map(Object.entries(members)), connections: () => connections };
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
      averages.push(counters.close(now, stats({ general: 1 })).rooms.general!.avgMps);
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
    expect(snapshot.rooms.general!.mps).toBe(0.667);
    expect(snapshot.rooms.general!.avgMps).toBe(3); // 12 messages in 4 s
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
    expect(second.rooms.general).toMatchObject({ joins: 1, leaves: 0, joinsTotal: 3, leavesTotal: 1, messagesTotal: 1 });
    expect(second.totals).toMatchObject({ joins: 1, leaves: 0 });

    const third = counters.close(6_000, stats({ general: 2 }));
    expect(third.rooms.general).toMatchObject({ joins: 0, leaves: 0, joinsTotal: 3, leavesTotal: 1, messages: 0, mps: 0 });
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
    expect(counters.close(4_000, stats({ general: 1 })).rooms.general!.avgMps).toBe(2);
    expect(counters.close(6_000, stats({ general: 1 })).rooms.general!.avgMps).toBe(0);
  });

  it('keeps a room the runtime no longer lists until it leaves the moving average', () => {
    const counters = new MetricsCounters({ window: 2, startedAt: 0 });
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

  it('includes the interval still being counted in the live counters', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    counters.message('general');
    counters.close(1_000, stats());
    counters.message('general');
    counters.join('dev');
    counters.connectionOpened();
    const live = counters.live();
    expect(live.messagesTotal).toBe(2);
    expect(live.rooms.get('general')).toEqual({ messages: 2, joins: 0, leaves: 0 });
    expect(live.rooms.get('dev')).toEqual({ messages: 0, joins: 1, leaves: 0 });
    expect(live.connectionsOpenedTotal).toBe(1);
  });

  it('rejects a window that is not a positive whole number', () => {
    expect(() => new MetricsCounters({ window: 0, startedAt: 0 })).toThrow(RangeError);
    expect(() => new MetricsCounters({ window: 2.5, startedAt: 0 })).toThrow(/whole number/);
  });

  it('reports a zero rate over an empty interval instead of dividing by zero', () => {
    expect(rate(3, 0)).toBe(0);
    const counters = new MetricsCounters({ window: 5, startedAt: 5_000 });
    counters.message('general');
    expect(counters.close(5_000, stats()).rooms.general!.mps).toBe(0);
  });
});
