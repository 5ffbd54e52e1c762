import { describe, expect, it } from 'vitest';
import { MetricsCounters } from './metrics-counters.js';
import { escapeLabel, prometheusText } from './prometheus-text.js';

describe('prometheusText', () => {
  it('renders counters and gauges with HELP and TYPE lines, per room and in total', () => {
    const counters = new MetricsCounters({ window: 5, startedAt: 0 });
    counters.message('general');
    counters.message('general');
    counters.join('general');
    counters.privateMessage();
    counters.connectionOpened();
    const latest = counters.close(1000, { roomMembers: () => new Map([['general', 1]]), connections: () => 1 });
    counters.message('general'); // not snapshotted yet, but counted
    const text = prometheusText({ counters: counters.live(), members: new Map([['general', 1], ['dev', 0]]), connections: 1, latest });
    const lines = text.trimEnd().split('\n');
    expect(lines).toContain('# TYPE teamchat_room_messages_total counter');
    expect(lines).toContain('teamchat_room_messages_total{room="general"} 3');
    expect(lines).toContain('teamchat_room_messages_total{room="dev"} 0');
    expect(lines).toContain('teamchat_room_joins_total{room="general"} 1');
    expect(lines).toContain('teamchat_room_members{room="general"} 1');
    expect(lines).toContain('teamchat_room_messages_per_second{room="general"} 2');
    expect(lines).toContain('teamchat_messages_total 3');
    expect(lines).toContain('teamchat_private_messages_total 1');
    expect(lines).toContain('teamchat_connections 1');
    expect(lines).toContain('teamchat_connections_opened_total 1');
    expect(lines).toContain('teamchat_rooms 2');
    // Each family is introduced by HELP then TYPE, before its samples.
    for (const [i, line] of lines.entries()) {
      if (line.startsWith('# TYPE ')) expect(lines[i - 1]).toMatch(/^# HELP /);
    }
    expect(text.endsWith('\n')).toBe(true);
  });

  it('escapes backslashes, quotes and newlines in label values', () => {
    expect(escapeLabel('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });
});
