import { encodeFrame, type ClientFrame } from '@teamchat/protocol';
import { describe, expect, it } from 'vitest';
import type { ChatCore } from '../core/chat-core.js';
import { Connection, type ConnectionHost } from './connection.js';
import type { Link } from './link.js';

/** One input line as a Connection receives it (the framer has taken the newline off). */
const line = (frame: ClientFrame) => Buffer.from(encodeFrame(frame).trimEnd());

class MemoryLink implements Link {
  readonly written: string[] = [];
  ended = false;
  destroyed = false;
  buffered = 0;
  write(data: Buffer) {
    this.written.push(data.toString());
  }
  end() {
    this.ended = true;
  }
  destroy() {
    this.destroyed = true;
  }
  pauseInput() {}
  resumeInput() {}
  frames() {
    return this.written
      .join('')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  }
}

/** A core whose handling of one frame type throws, as a bug would. */
function hostWithBuggyCore(logs: string[]): ConnectionHost {
  const core = {
    connect() {},
    disconnect() {},
    isBusy: () => false,
    handle(_s: Connection, frame: ClientFrame) {
      if (frame.type === 'rooms') throw new Error('boom');
      if (frame.type === 'ping') _s.send({ type: 'pong', ref: frame.ref! });
    },
  } as unknown as ChatCore<Connection>;
  let id = 0;
  return {
    core,
    maxSendQueueBytes: 1024,
    accepting: true,
    log: (l) => logs.push(l),
    nextId: () => ++id,
    adopt() {},
    forget() {},
  };
}

describe('Connection', () => {
  it('answers an exception while handling input with TC_ERR_INTERNAL and keeps serving', () => {
    const logs: string[] = [];
    const host = hostWithBuggyCore(logs);
    const link = new MemoryLink();
    const other = new MemoryLink();
    const conn = new Connection('json', 'test', link, host);
    const bystander = new Connection('json', 'test2', other, host);
    conn.receive(line({ type: 'rooms' }));
    conn.receive(line({ type: 'ping', ref: 'after' }));
    bystander.receive(line({ type: 'ping', ref: 'fine' }));
    expect(link.frames()).toEqual([
      expect.objectContaining({ type: 'error', code: 'TC_ERR_INTERNAL' }),
      { type: 'pong', ref: 'after' },
    ]);
    expect(other.frames()).toEqual([{ type: 'pong', ref: 'fine' }]);
    expect(conn.isOpen).toBe(true);
    expect(logs.join('\n')).toMatch(/boom/);
  });

  it('closes with a reason on a fatal framing error, and ignores input afterwards', () => {
    const link = new MemoryLink();
    const conn = new Connection('json', 'test', link, hostWithBuggyCore([]));
    conn.receiveError('TC_ERR_INPUT_OVERFLOW');
    conn.receive(line({ type: 'ping', ref: 'x' }));
    expect(link.frames()).toEqual([expect.objectContaining({ type: 'bye', code: 'TC_ERR_INPUT_OVERFLOW' })]);
    expect(link.ended).toBe(true);
  });

  it('cuts off a client whose queue stays over the bound after the flush', async () => {
    const link = new MemoryLink();
    const conn = new Connection('json', 'test', link, hostWithBuggyCore([]));
    link.buffered = 4096;
    conn.send({ type: 'pong' });
    await new Promise((r) => process.nextTick(r));
    expect(link.destroyed).toBe(true);
    expect(conn.isOpen).toBe(false);
  });
});
