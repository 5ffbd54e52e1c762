import { describe, expect, it } from 'vitest';
import { ClientError } from './client-error.js';
import { Outbox, type OutgoingMessage } from './outbox.js';

const msg = (cid: string): OutgoingMessage => ({ type: 'msg', room: 'g', text: cid, cid });
const noop = { resolve: () => {}, reject: () => {} };

describe('Outbox', () => {
  it('keeps messages oldest first, up to its capacity', () => {
    const outbox = new Outbox(2);
    expect(outbox.add(msg('a'), noop)).not.toBeNull();
    expect(outbox.add(msg('b'), noop)).not.toBeNull();
    expect(outbox.full).toBe(true);
    expect(outbox.add(msg('c'), noop)).toBeNull();
    expect(outbox.items.map((i) => i.cid)).toEqual(['a', 'b']);
  });

  it('finds a message by cid and removes it once', () => {
    const outbox = new Outbox(5);
    outbox.add(msg('a'), noop);
    const b = outbox.add(msg('b'), noop)!;
    expect(outbox.byCid('b')).toBe(b);
    expect(outbox.remove(b)).toBe(true);
    expect(outbox.remove(b)).toBe(false);
    expect(outbox.byCid('b')).toBeUndefined();
    expect(outbox.size).toBe(1);
    expect(outbox.full).toBe(false);
  });

  it('rejects everything left when failed', () => {
    const outbox = new Outbox(5);
    const codes: string[] = [];
    for (const cid of ['a', 'b'])
      outbox.add(msg(cid), { resolve: () => {}, reject: (e) => codes.push(`${cid}:${e.code}`) });
    outbox.failAll(new ClientError('TC_CLIENT_CLOSED', 'closed'));
    expect(codes).toEqual(['a:TC_CLIENT_CLOSED', 'b:TC_CLIENT_CLOSED']);
    expect(outbox.size).toBe(0);
  });
});
