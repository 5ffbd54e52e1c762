/**
 * Flood control and login holds in the connection layer, with a stand-in core that records what
 * reaches it. The bucket refills fast here (1000/s) so the held commands drain within the test.
 */
import type { ClientFrame } from '@teamchat/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatCore } from '../core/chat-core.js';
import { Connection, type ConnectionHost } from './connection.js';
import type { Link } from './link.js';
import { resolveSecurity } from './security/security-options.js';

class MemoryLink implements Link {
  readonly written: string[] = [];
  buffered = 0;
  write(data: Buffer) {
    this.written.push(data.toString());
  }
  end() {}
  destroy() {}
  frames(): { type: string; code?: string; ref?: string }[] {
    return this.written.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }
}

function setup(authenticating = () => false) {
  const handled: ClientFrame[] = [];
  const core = {
    connect() {},
    disconnect() {},
    isAuthenticating: authenticating,
    handle: (_s: Connection, frame: ClientFrame) => void handled.push(frame),
  } as unknown as ChatCore<Connection>;
  const security = resolveSecurity({ flood: { burst: 2, ratePerSecond: 1000, maxQueued: 2 }, registrationTimeoutMs: 0, heartbeat: false });
  let id = 0;
  const host: ConnectionHost = { core, security, maxSendQueueBytes: 1 << 20, accepting: true, log() {}, nextId: () => ++id, adopt() {}, forget() {} };
  const link = new MemoryLink();
  const conn = new Connection('json', 'test', link, host);
  return { conn, link, handled };
}

const msg = (i: number) => Buffer.from(JSON.stringify({ type: 'msg', room: 'r', text: `m${i}`, ref: `r${i}` }));

/** Moves the fake clock on in small steps (the held commands drain on timers) until `check` holds. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await vi.advanceTimersByTimeAsync(1);
  expect(check()).toBe(true);
}

describe('Connection flood control', () => {
  // The clock stands still unless a test moves it: no refill can sneak in between two receives.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('passes the burst, holds the next ones in order and refuses the rest with TC_ERR_RATE_LIMITED', async () => {
    const { conn, link, handled } = setup();
    for (let i = 0; i < 6; i++) conn.receive(msg(i));
    expect(handled.map((f) => f.ref)).toEqual(['r0', 'r1']);
    expect(link.frames()).toEqual([
      expect.objectContaining({ type: 'error', code: 'TC_ERR_RATE_LIMITED', ref: 'r4' }),
      expect.objectContaining({ type: 'error', code: 'TC_ERR_RATE_LIMITED', ref: 'r5' }),
    ]);
    await until(() => handled.length === 4);
    expect(handled.map((f) => f.ref)).toEqual(['r0', 'r1', 'r2', 'r3']);
  });

  it('does not count pings, and keeps other commands in order behind held ones', async () => {
    const { conn, handled } = setup();
    for (let i = 0; i < 3; i++) conn.receive(msg(i));
    conn.receive(Buffer.from('{"type":"ping","ref":"p"}'));
    conn.receive(Buffer.from('{"type":"rooms","ref":"l"}'));
    expect(handled.map((f) => f.ref)).toEqual(['r0', 'r1', 'p']);
    await until(() => handled.length === 5);
    expect(handled.map((f) => f.ref)).toEqual(['r0', 'r1', 'p', 'r2', 'l']);
  });

  it('holds everything behind a hello whose password is being checked, until loginSettled', () => {
    let checking = true;
    const { conn, handled } = setup(() => checking);
    conn.receive(Buffer.from('{"type":"rooms","ref":"a"}'));
    conn.receive(Buffer.from('{"type":"users","room":"r","ref":"b"}'));
    expect(handled).toEqual([]);
    checking = false;
    conn.loginSettled();
    expect(handled.map((f) => f.ref)).toEqual(['a', 'b']);
  });
});
