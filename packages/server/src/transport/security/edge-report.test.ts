import { encodeFrame, type ClientFrame } from '@teamchat/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatCore } from '../../core/chat-core.js';
import { MetricsCounters } from '../../metrics/metrics-counters.js';
import { Connection, type ConnectionHost } from '../connection.js';
import type { Link } from '../link.js';
import { EdgeReport } from './edge-report.js';
import { resolveSecurity } from './security-options.js';

class NullLink implements Link {
  buffered = 0;
  write() {}
  end() {}
  destroy() {}
  pauseInput() {}
  resumeInput() {}
}

describe('EdgeReport', () => {
  let now = 0;
  let lines: string[] = [];
  let counters: MetricsCounters;
  const advance = async (ms: number) => {
    now += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };

  beforeEach(() => {
    vi.useFakeTimers();
    now = 0;
    lines = [];
    counters = new MetricsCounters({ window: 5, startedAt: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts every refused connection and logs them once a minute per address, with the count', async () => {
    const report = new EdgeReport({ log: (l) => lines.push(l), events: counters, now: () => now });
    for (let i = 0; i < 4; i++) report.connectionRefused('::ffff:10.0.0.7', 16);
    report.connectionRefused('10.0.0.8', 16);
    expect(counters.live().connectionsRefusedTotal).toBe(5);
    expect(lines).toEqual([
      'refused a connection from 10.0.0.7 (TC_ERR_TOO_MANY_CONNECTIONS: at most 16 open per address, see --max-connections-per-ip); further refusals from 10.0.0.7 are counted and logged once a minute',
      'refused a connection from 10.0.0.8 (TC_ERR_TOO_MANY_CONNECTIONS: at most 16 open per address, see --max-connections-per-ip); further refusals from 10.0.0.8 are counted and logged once a minute',
    ]);
    await advance(60_000);
    expect(lines.slice(2)).toEqual([
      'refused 3 more connections from 10.0.0.7 since the last line (TC_ERR_TOO_MANY_CONNECTIONS: at most 16 open per address, see --max-connections-per-ip)',
    ]);
    expect(
      counters.close(60_000, { roomMembers: () => new Map(), connections: () => 0, isRestricted: () => false }).totals,
    ).toMatchObject({
      connectionsRefused: 5,
      connectionsRefusedTotal: 5,
      floodDelayed: 0,
    });
  });

  it('reports a connection over its flood budget once a minute, and counts each delayed command once', async () => {
    const report = new EdgeReport({
      log: (l) => lines.push(l),
      events: counters,
      flood: { burst: 2, ratePerSecond: 1 },
      now: () => now,
    });
    const handled: ClientFrame[] = [];
    const core = {
      connect() {},
      disconnect() {},
      isBusy: () => false,
      handle: (_s: Connection, f: ClientFrame) => void handled.push(f),
    } as unknown as ChatCore<Connection>;
    const security = resolveSecurity({
      flood: { burst: 2, ratePerSecond: 1 },
      registrationTimeoutMs: 0,
      heartbeat: false,
    });
    const host: ConnectionHost = {
      core,
      security,
      maxSendQueueBytes: 1 << 20,
      accepting: true,
      log() {},
      nextId: () => 1,
      adopt() {},
      forget() {},
      floodDelayed: (c) => report.floodDelayed(c),
    };
    const conn = new Connection('json', '10.0.0.9:4000', new NullLink(), host);
    conn.nick = 'alice';
    // Ten messages at once: two fit the burst, eight wait (one second each at 1/s).
    // Each as the framer hands a line over: the encoded frame without its newline.
    for (let i = 0; i < 10; i++)
      conn.receive(Buffer.from(encodeFrame({ type: 'msg', room: 'r', text: `m${i}`, ref: `r${i}` }).slice(0, -1)));
    expect(handled).toHaveLength(2);
    expect(lines).toEqual([
      'flood control: alice is sending faster than its budget; commands delayed (flood budget: burst 2, 1/s; see --flood-rate, --flood-burst)',
    ]);
    for (let i = 0; i < 20 && handled.length < 10; i++) await vi.advanceTimersByTimeAsync(1_000);
    expect(handled).toHaveLength(10);
    expect(counters.live().floodDelayedTotal).toBe(8);
    await advance(60_000);
    expect(lines.slice(1)).toEqual([
      'flood control: alice is still sending faster than its budget; 7 more commands delayed since the last line',
    ]);
    conn.closed();
  });
});
