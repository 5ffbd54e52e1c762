import { describe, expect, it } from 'vitest';
import type { ChatStats } from './chat-events.js';
import { MetricsCounters } from './metrics-counters.js';
import { LatencyHistogram } from './latency-histogram.js';
import { escapeLabel, prometheusText } from './prometheus-text.js';

function stats(members: Array<[string, number]>, restricted: string[] = []): ChatStats {
  return {
    roomMembers: () => new Map(members),
    connections: () => 1,
    isRestricted: (room) => restricted.includes(room),
  };
}

describe('prometheusText', () => {
  it('renders counters and gauges with HELP and TYPE lines, per room and in total', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    counters.message('general');
    counters.message('general');
    counters.join('general');
    counters.privateMessage();
    counters.connectionOpened();
    counters.connectionRefused();
    counters.floodDelayed();
    const latest = counters.close(
      1000,
      stats([
        ['general', 1],
        ['dev', 0],
      ]),
    );
    counters.connectionRefused(); // not snapshotted yet: counted all the same
    counters.message('general'); // not snapshotted yet: in the totals, not yet in the room's series
    const text = prometheusText({ counters: counters.live(), connections: 1, latest });
    const lines = text.trimEnd().split('\n');
    expect(lines).toContain('# TYPE teamchat_room_messages_total counter');
    expect(lines).toContain('teamchat_room_messages_total{room="general"} 2');
    expect(lines).toContain('teamchat_room_joins_total{room="general"} 1');
    expect(lines).toContain('teamchat_room_members{room="general"} 1');
    expect(lines).toContain('teamchat_room_messages_per_second{room="general"} 2');
    expect(lines).toContain('teamchat_messages_total 3');
    expect(lines).toContain('teamchat_private_messages_total 1');
    expect(lines).toContain('teamchat_connections 1');
    expect(lines).toContain('teamchat_connections_opened_total 1');
    expect(lines).toContain('teamchat_rooms 1');
    expect(lines).toContain('# TYPE teamchat_connections_refused_total counter');
    expect(lines).toContain('teamchat_connections_refused_total 2');
    expect(lines).toContain('teamchat_flood_delayed_commands_total 1');
    // A room with nobody in it and no activity is not a series.
    expect(text).not.toContain('room="dev"');
    // Each family is introduced by HELP then TYPE, before its samples.
    for (const [i, line] of lines.entries()) {
      if (line.startsWith('# TYPE ')) expect(lines[i - 1]).toMatch(/^# HELP /);
    }
    expect(text.endsWith('\n')).toBe(true);
  });

  it('names no restricted room and stays bounded with 10,000 rooms', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    const members: Array<[string, number]> = [];
    for (let i = 0; i < 10_000; i++) {
      members.push([`room-${i}`, 1]);
      counters.message(`room-${i}`);
    }
    members.push(['vault', 2]);
    counters.message('vault', true);
    const latest = counters.close(2000, stats(members, ['vault']));
    const text = prometheusText({ counters: counters.live(), connections: 1, latest });
    console.log(`/metrics with 10,001 rooms: ${Buffer.byteLength(text)} bytes`);
    expect(Buffer.byteLength(text)).toBeLessThan(128 * 1024);
    expect(text).not.toContain('vault');
    expect(text).toContain('teamchat_room_members{room="(private)"} 2');
    expect(text).toMatch(/^teamchat_room_messages_total\{room="\(other\)"\} 9800$/m);
    expect(text).toContain('teamchat_rooms 10001');
  });

  it('renders the delivery latency as a histogram in seconds, its buckets cumulative', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    const held = new LatencyHistogram([5, 50]);
    for (const ms of [2, 30, 40, 700]) held.record(ms);
    const text = prometheusText({
      counters: counters.live(),
      connections: 0,
      latest: undefined,
      deliveryLatency: held.snapshot(),
    });
    const lines = text.trimEnd().split('\n');
    expect(lines).toContain('# TYPE teamchat_message_delivery_seconds histogram');
    expect(lines).toContain('teamchat_message_delivery_seconds_bucket{le="0.005"} 1');
    expect(lines).toContain('teamchat_message_delivery_seconds_bucket{le="0.05"} 3');
    expect(lines).toContain('teamchat_message_delivery_seconds_bucket{le="+Inf"} 4');
    expect(lines).toContain('teamchat_message_delivery_seconds_sum 0.772');
    expect(lines).toContain('teamchat_message_delivery_seconds_count 4');
    expect(prometheusText({ counters: counters.live(), connections: 0, latest: undefined })).not.toContain(
      'delivery_seconds',
    );
  });

  it('escapes backslashes, quotes and newlines in label values', () => {
    expect(escapeLabel('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });
});
