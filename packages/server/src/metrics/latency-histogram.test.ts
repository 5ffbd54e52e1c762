import { describe, expect, it } from 'vitest';
import { LatencyHistogram, quantileBetween } from './latency-histogram.js';

describe('LatencyHistogram', () => {
  it('counts each recording in the first bucket whose bound it does not exceed, cumulatively', () => {
    const h = new LatencyHistogram([1, 10, 100]);
    for (const ms of [0, 1, 1.5, 10, 99, 100, 101, 5_000]) h.record(ms);
    const s = h.snapshot();
    expect(s.cumulative).toEqual([2, 4, 6]);
    expect(s.count).toBe(8);
    expect(s.sumMs).toBeCloseTo(0 + 1 + 1.5 + 10 + 99 + 100 + 101 + 5_000);
  });

  it('ignores what is not a duration', () => {
    const h = new LatencyHistogram([1]);
    h.record(Number.NaN);
    h.record(-3);
    expect(h.snapshot().count).toBe(0);
  });
});

describe('quantileBetween', () => {
  it('answers the upper bound of the bucket holding the quantile, for the recordings between two snapshots', () => {
    const h = new LatencyHistogram([10, 20, 50, 100]);
    for (let i = 0; i < 100; i++) h.record(500); // before: all above the last bound
    const before = h.snapshot();
    for (let i = 0; i < 90; i++) h.record(5);
    for (let i = 0; i < 9; i++) h.record(15);
    h.record(70);
    const after = h.snapshot();
    expect(quantileBetween(after, 0.5, before)).toBe(10);
    expect(quantileBetween(after, 0.9, before)).toBe(10);
    expect(quantileBetween(after, 0.95, before)).toBe(20);
    expect(quantileBetween(after, 0.99, before)).toBe(20);
    expect(quantileBetween(after, 1, before)).toBe(100);
    // Since the start, the 100 slow ones dominate the upper half.
    expect(quantileBetween(after, 0.99)).toBe(Infinity);
    expect(quantileBetween(after, 0.5, after)).toBeNull();
  });
});
