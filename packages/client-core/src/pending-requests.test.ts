import type { ServerFrame } from '@teamchat/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientError } from './client-error.js';
import { PendingRequests, type PendingEntry } from './pending-requests.js';

function entry(expects: PendingEntry['expects']) {
  const replies: ServerFrame[] = [];
  const failures: ClientError[] = [];
  const e: PendingEntry = { expects, reply: (f) => replies.push(f), fail: (err) => failures.push(err) };
  return { e, replies, failures };
}

const history = (ref: string): ServerFrame => ({ type: 'history', room: 'g', messages: [], more: false, ref });

afterEach(() => {
  vi.useRealTimers();
});

describe('PendingRequests', () => {
  it('hands each answer to the request with its ref, whatever the order', () => {
    const pending = new PendingRequests();
    const a = entry(['history']);
    const b = entry(['history']);
    pending.add('a', a.e);
    pending.add('b', b.e);
    pending.take(history('b'))!.reply(history('b'));
    pending.take(history('a'))!.reply(history('a'));
    expect(a.replies).toEqual([history('a')]);
    expect(b.replies).toEqual([history('b')]);
    expect(pending.size).toBe(0);
  });

  it('does not take a frame of another type that carries a known ref (a broadcast echoing a ref)', () => {
    const pending = new PendingRequests();
    pending.add('r1', entry(['history']).e);
    expect(pending.take({ type: 'topic', room: 'g', topic: 'x', by: 'bob', ts: 1, ref: 'r1' })).toBeUndefined();
    expect(pending.has('r1')).toBe(true);
    // An error with the ref answers any request.
    expect(pending.take({ type: 'error', code: 'TC_ERR_NOT_IN_ROOM', message: 'no', ref: 'r1' })).toBeDefined();
    expect(pending.size).toBe(0);
  });

  it('ignores frames without a ref or with an unknown one', () => {
    const pending = new PendingRequests();
    pending.add('r1', entry(['pong']).e);
    expect(pending.take({ type: 'pong' })).toBeUndefined();
    expect(pending.take({ type: 'pong', ref: 'r2' })).toBeUndefined();
    expect(pending.size).toBe(1);
  });

  it('fails a request that gets no answer in time, and forgets it', () => {
    vi.useFakeTimers();
    const pending = new PendingRequests();
    const r = entry(['history']);
    pending.add('r1', r.e, 1_000);
    vi.advanceTimersByTime(999);
    expect(r.failures).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(r.failures.map((f) => f.code)).toEqual(['TC_CLIENT_TIMEOUT']);
    expect(pending.take(history('r1'))).toBeUndefined();
  });

  it('cancels the timeout of an answered request', () => {
    vi.useFakeTimers();
    const pending = new PendingRequests();
    const r = entry(['history']);
    pending.add('r1', r.e, 1_000);
    pending.take(history('r1'));
    vi.advanceTimersByTime(5_000);
    expect(r.failures).toEqual([]);
  });

  it('fails every request at once when the connection is gone', () => {
    const pending = new PendingRequests();
    const a = entry(['history']);
    const b = entry(['pong']);
    pending.add('a', a.e, 1_000);
    pending.add('b', b.e);
    pending.failAll(new ClientError('TC_CLIENT_DISCONNECTED', 'gone'));
    expect([...a.failures, ...b.failures].map((f) => f.code)).toEqual([
      'TC_CLIENT_DISCONNECTED',
      'TC_CLIENT_DISCONNECTED',
    ]);
    expect(pending.size).toBe(0);
  });

  it('refuses a ref that is already waiting', () => {
    const pending = new PendingRequests();
    pending.add('a', entry(['pong']).e);
    expect(() => pending.add('a', entry(['pong']).e)).toThrow(/already waiting/);
  });
});
