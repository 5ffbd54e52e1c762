import { describe, expect, it } from 'vitest';
import type { ChatStats } from './chat-events.js';
import { mergeSnapshots } from './merge-snapshots.js';
import { MetricsCounters } from './metrics-counters.js';

const stats = (members: Record<string, number>): ChatStats => ({
  roomMembers: () => new Map(Object.entries(members)),
  connections: () => Object.values(members).reduce((a, b) => a + b, 0),
});

describe('mergeSnapshots', () => {
  it('sums counts and recomputes messages per second over the merged time', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    for (let i = 0; i < 4; i++) counters.message('general');
    counters.join('general');
    const a = counters.close(2_000, stats({ general: 1 }));
    for (let i = 0; i < 8; i++) counters.message('general');
    counters.message('dev');
    counters.leave('general');
    const b = counters.close(4_000, stats({ general: 0, dev: 2 }));

    const merged = mergeSnapshots([a, b]);
    expect(merged.ts).toBe(4_000);
    expect(merged.intervalMs).toBe(4_000);
    expect(merged.merged).toBe(2);
    expect(merged.rooms.general).toMatchObject({ messages: 12, mps: 3, joins: 1, leaves: 1, members: 0, messagesTotal: 12 });
    expect(merged.rooms.dev).toMatchObject({ messages: 1, mps: 0.25, members: 2 });
    expect(merged.totals).toMatchObject({ messages: 13, mps: 3.25, joins: 1, leaves: 1, connections: 2, rooms: 2, messagesTotal: 13 });
  });

  it('returns a single snapshot unchanged', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    const only = counters.close(2_000, stats({}));
    expect(mergeSnapshots([only])).toBe(only);
  });
});
