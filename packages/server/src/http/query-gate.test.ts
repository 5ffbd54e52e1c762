import { describe, expect, it } from 'vitest';
import { GateBusyError, QueryGate } from './query-gate.js';

/** A piece of work the test finishes by hand. */
function pending<T>(value: T) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { work: async () => (await done, value), finish };
}

describe('QueryGate', () => {
  it('runs at most `running` at once, queues `waiting` more and refuses the rest', async () => {
    const gate = new QueryGate({ running: 2, waiting: 1 });
    const a = pending('a');
    const b = pending('b');
    const c = pending('c');
    const ra = gate.run(a.work);
    const rb = gate.run(b.work);
    const rc = gate.run(c.work);
    expect(gate.active).toBe(2);
    expect(gate.waiting).toBe(1);
    await expect(gate.run(async () => 'd')).rejects.toBeInstanceOf(GateBusyError);

    a.finish();
    expect(await ra).toBe('a');
    // c took a's slot.
    expect(gate.waiting).toBe(0);
    expect(gate.active).toBe(2);
    c.finish();
    b.finish();
    expect(await Promise.all([rb, rc])).toEqual(['b', 'c']);
    expect(gate.active).toBe(0);
  });

  it('frees the slot when the work fails', async () => {
    const gate = new QueryGate({ running: 1, waiting: 0 });
    await expect(gate.run(async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await gate.run(async () => 'next')).toBe('next');
  });
});
