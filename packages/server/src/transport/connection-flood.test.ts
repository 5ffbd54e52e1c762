/**
 * Flood control, input pausing and output gating in the connection layer, with a stand-in core
 * that records what reaches it. The clock is fake: it moves only when a test moves it.
 */
import { encodeFrame, type ClientFrame } from '@teamchat/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatCore } from '../core/chat-core.js';
import { Connection, type ConnectionHost } from './connection.js';
import type { Link } from './link.js';
import { resolveSecurity } from './security/security-options.js';

class MemoryLink implements Link {
  readonly written: string[] = [];
  buffered = 0;
  paused = false;
  pauses = 0;
  write(data: Buffer) {
    this.written.push(data.toString());
  }
  end() {}
  destroy() {}
  pauseInput() {
    this.paused = true;
    this.pauses++;
  }
  resumeInput() {
    this.paused = false;
  }
  frames(): { type: string; code?: string; ref?: string }[] {
    return this.written
      .join('')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  }
}

function setup(
  options: { busy?: () => boolean; ratePerSecond?: number; onHandle?: (frame: ClientFrame) => void } = {},
) {
  const handled: ClientFrame[] = [];
  const core = {
    connect() {},
    disconnect() {},
    isBusy: options.busy ?? (() => false),
    handle: (_s: Connection, frame: ClientFrame) => {
      handled.push(frame);
      options.onHandle?.(frame);
    },
  } as unknown as ChatCore<Connection>;
  const security = resolveSecurity({
    flood: { burst: 2, ratePerSecond: options.ratePerSecond ?? 1000 },
    registrationTimeoutMs: 0,
    heartbeat: false,
  });
  let id = 0;
  const host: ConnectionHost = {
    core,
    security,
    maxSendQueueBytes: 1 << 20,
    accepting: true,
    log() {},
    nextId: () => ++id,
    adopt() {},
    forget() {},
  };
  const link = new MemoryLink();
  const conn = new Connection('json', 'test', link, host);
  return { conn, link, handled };
}

/** One received line as the framer hands it over: the encoded frame without its newline. */
const line = (frame: ClientFrame) => Buffer.from(encodeFrame(frame).slice(0, -1));
const msg = (i: number) => line({ type: 'msg', room: 'r', text: `m${i}`, ref: `r${i}` });

/** Moves the fake clock on in small steps (waiting commands run on timers) until `check` holds. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await vi.advanceTimersByTimeAsync(1);
  expect(check()).toBe(true);
}

describe('Connection flood control', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('passes the burst and makes the rest wait, in order, without dropping any', async () => {
    const { conn, link, handled } = setup();
    for (let i = 0; i < 6; i++) conn.receive(msg(i));
    expect(handled.map((f) => f.ref)).toEqual(['r0', 'r1']);
    expect(link.frames()).toEqual([]);
    await until(() => handled.length === 6);
    expect(handled.map((f) => f.ref)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it('charges queries too: a flood of rooms, users and pings waits its turn behind the budget', async () => {
    const { conn, handled } = setup({ ratePerSecond: 1 });
    for (let i = 0; i < 10; i++) conn.receive(line({ type: 'rooms', ref: `q${i}` }));
    // Burst 2, a `rooms` costs 0.5: four now, the rest one every half second.
    expect(handled).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(handled).toHaveLength(6);
  });

  it('charges bad input as well: garbage lines get their errors at the budget rate', async () => {
    const { conn, link } = setup({ ratePerSecond: 1 });
    for (let i = 0; i < 20; i++) conn.receive(Buffer.from('not json'));
    // Burst 2 at 0.25 each.
    expect(link.frames()).toHaveLength(8);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(link.frames()).toHaveLength(12);
  });

  it('stops reading a connection whose inbox is full, and reads again once it has drained', async () => {
    const { conn, link, handled } = setup();
    for (let i = 0; i < 40; i++) conn.receive(msg(i));
    expect(link.paused).toBe(true);
    await until(() => handled.length === 40);
    expect(link.paused).toBe(false);
    expect(link.pauses).toBe(1);
  });

  it('handles no further input while the client has not read its output', async () => {
    // onHandle runs on input, after setup has returned `link`.
    const { conn, handled, link } = setup({ onHandle: () => (link.buffered += 200_000) });
    for (let i = 0; i < 3; i++) conn.receive(line({ type: 'rooms', ref: `q${i}` }));
    // 200 KB queued after the first two: over the soft limit (a quarter of 1 MiB) after the second.
    expect(handled).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(100);
    expect(handled).toHaveLength(2);
    link.buffered = 0;
    await until(() => handled.length === 3);
  });

  it('holds everything behind a command waiting for the store or a password check, until resume', () => {
    let busy = true;
    const { conn, handled } = setup({ busy: () => busy });
    conn.receive(line({ type: 'rooms', ref: 'a' }));
    conn.receive(line({ type: 'users', room: 'r', ref: 'b' }));
    expect(handled).toEqual([]);
    busy = false;
    conn.resume();
    expect(handled.map((f) => f.ref)).toEqual(['a', 'b']);
  });
});
