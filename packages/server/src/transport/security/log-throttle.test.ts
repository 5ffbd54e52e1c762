import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LogThrottle } from './log-throttle.js';

describe('LogThrottle', () => {
  let now = 0;
  let lines: string[] = [];
  const make = (options: { maxKeys?: number } = {}) =>
    new LogThrottle<string>((key, count, first) => lines.push(`${key} ${count}${first ? ' first' : ''}`), {
      intervalMs: 60_000,
      now: () => now,
      ...options,
    });
  /** Moves the fake clock and the timers together. */
  const advance = async (ms: number) => {
    now += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };

  beforeEach(() => {
    vi.useFakeTimers();
    now = 0;
    lines = [];
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs the first occurrence at once and the rest of the minute as one count when it is over', async () => {
    const throttle = make();
    throttle.note('10.0.0.1');
    for (let i = 0; i < 99; i++) {
      await advance(100);
      throttle.note('10.0.0.1');
    }
    expect(lines).toEqual(['10.0.0.1 1 first']);
    await advance(60_000 - 9_900);
    expect(lines).toEqual(['10.0.0.1 1 first', '10.0.0.1 99']);
  });

  it('writes at most one line per key per minute while occurrences go on, each with the count since the last', async () => {
    const throttle = make();
    for (let s = 0; s < 180; s++) {
      throttle.note('a');
      throttle.note('a');
      await advance(1_000);
    }
    await advance(60_000);
    expect(lines).toEqual(['a 1 first', 'a 119', 'a 120', 'a 120']);
    const total = lines.reduce((sum, l) => sum + Number(l.split(' ')[1]), 0);
    expect(total).toBe(360);
  });

  it('keeps keys apart and forgets a key after a quiet minute', async () => {
    const throttle = make();
    throttle.note('a');
    throttle.note('b');
    throttle.note('a');
    expect(lines).toEqual(['a 1 first', 'b 1 first']);
    await advance(60_000);
    expect(lines).toEqual(['a 1 first', 'b 1 first', 'a 1']);
    await advance(60_000);
    expect(throttle.size).toBe(0);
    throttle.note('a');
    expect(lines.at(-1)).toBe('a 1 first');
  });

  it('stays bounded in keys, and flush logs what is pending', () => {
    const throttle = make({ maxKeys: 100 });
    for (let i = 0; i < 1_000; i++) throttle.note(`10.0.${i >> 8}.${i & 255}`);
    expect(throttle.size).toBe(100);
    throttle.note('10.0.3.231');
    throttle.flush();
    expect(lines.at(-1)).toBe('10.0.3.231 1');
    expect(throttle.size).toBe(0);
  });
});
