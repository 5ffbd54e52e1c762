import { describe, expect, it } from 'vitest';
import { CSV_HEADER, formatCsvRow, formatProgress, formatSummary, formatTick } from './stress-format.js';
import type { StressReport, StressTick } from './stress-run.js';

const tick: StressTick = {
  phase: 'run',
  elapsedMs: 4_000,
  online: 5,
  connected: 5,
  failed: 0,
  disconnected: 0,
  messages: 120,
  messagesPerSec: 10,
  deliveries: 480,
  deliveriesPerSec: 40,
  rooms: [
    { room: 'room1', joins: 2, leaves: 1 },
    { room: 'room2', joins: 0, leaves: 0 },
  ],
  p50Ms: 1.5,
  p99Ms: 12,
  errors: 0,
};

describe('formatTick', () => {
  it('shows totals, rates, latency and only the rooms that moved', () => {
    const line = formatTick(tick);
    expect(line).toContain('msgs 120 (10/s)');
    expect(line).toContain('deliveries 480 (40/s)');
    expect(line).toContain('p50 1.50 ms p99 12.0 ms');
    expect(line).toContain('room1 +2/-1');
    expect(line).not.toContain('room2');
  });
});

describe('formatCsvRow', () => {
  it('has one value per header column', () => {
    const row = formatCsvRow(tick, new Date('2026-11-24T10:00:00Z'));
    expect(row.split(',')).toHaveLength(CSV_HEADER.split(',').length);
    expect(row.startsWith('2026-11-24T10:00:00.000Z,4,run,5,120,10,480,40,1.5,12,0,0,0')).toBe(true);
  });
});

describe('formatProgress', () => {
  it('draws a bar proportional to the fraction done', () => {
    expect(formatProgress('running', 0.5, 5_000, 10)).toBe('running  [#####.....]  50%  5s left');
    expect(formatProgress('ramp-up', 2, -1, 4)).toBe('ramp-up  [####] 100%  0s left');
  });
});

describe('formatSummary', () => {
  it('lists the figures a user checks, and the losses when there are some', () => {
    const report = {
      ok: false,
      config: {
        host: 'h',
        port: 1,
        clients: 5,
        rooms: ['a'],
        intervalMs: 500,
        ratePerClient: 2,
        durationMs: 3000,
        rampMs: 0,
        switchChance: 0,
        pmChance: 0,
        workers: 0,
        floodTokensPerSec: 2,
      },
      clients: { requested: 5, connected: 4, failed: 1, disconnected: 0 },
      messages: { sent: 30, room: 28, private: 2, acked: 30, rejected: 0, unanswered: 0 },
      deliveries: { received: 100, expected: 100, delivered: 97, lost: 3, extra: 0, deliveredPct: 97 },
      rates: { windowSec: 3, messagesPerSec: 10, deliveriesPerSec: 33, storedPerSec: 10 },
      latencyMs: { samples: 97, p50: 1.2, p90: 3, p99: 8, max: 9 },
      errors: { total: 1, byCode: { TC_ERR_STORE_BUSY: 1 } },
      failures: ['st_4: connect ECONNREFUSED'],
      drained: true,
      stoppedEarly: false,
      notes: [],
    } satisfies StressReport;
    const text = formatSummary(report);
    expect(text).not.toContain('why:');
    expect(text).toMatch(/clients connected\s+4 \/ 5 \(1 failed\)/);
    expect(text).toMatch(/delivered\s+97%\s+\(3 lost\)/);
    expect(text).toMatch(/latency p99\s+8\.00 ms/);
    expect(text).toMatch(/errors\s+1 \(TC_ERR_STORE_BUSY 1\)/);
    expect(text).toContain('st_4: connect ECONNREFUSED');
  });

  it('says why the server held the run back, before the first problems', () => {
    const text = formatSummary({
      ok: false,
      config: {
        host: 'h',
        port: 1,
        clients: 50,
        rooms: ['a'],
        intervalMs: 500,
        ratePerClient: 2,
        durationMs: 10_000,
        rampMs: 250,
        switchChance: 0.05,
        pmChance: 0.1,
        workers: 0,
        floodTokensPerSec: 2.05,
      },
      clients: { requested: 50, connected: 16, failed: 34, disconnected: 0 },
      messages: { sent: 300, room: 270, private: 30, acked: 300, rejected: 0, unanswered: 0 },
      deliveries: { received: 1000, expected: 1000, delivered: 1000, lost: 0, extra: 0, deliveredPct: 100 },
      rates: { windowSec: 10, messagesPerSec: 30, deliveriesPerSec: 100, storedPerSec: 30 },
      latencyMs: { samples: 1000, p50: 400, p90: 1500, p99: 2000, max: 2100 },
      errors: { total: 34, byCode: { TC_ERR_TOO_MANY_CONNECTIONS: 34 } },
      failures: ['st_20: server said bye: too many connections from your address (16) [TC_ERR_TOO_MANY_CONNECTIONS]'],
      drained: true,
      stoppedEarly: false,
      notes: [
        { code: 'connections-refused', message: '34 of 50 clients were refused' },
        { code: 'flood-delayed', message: 'latency p99 2000 ms: commands waited behind flood control' },
      ],
    });
    expect(text).toContain(
      '  why:\n    - 34 of 50 clients were refused\n    - latency p99 2000 ms: commands waited behind flood control\n\n  first problems:',
    );
  });
});
