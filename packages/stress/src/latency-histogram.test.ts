import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latency-histogram.js';

describe('LatencyHistogram', () => {
  it('reports percentiles within a few percent of the exact values', () => {
    const h = new LatencyHistogram();
    const values: number[] = [];
    for (let i = 1; i <= 10_000; i++) {
      const v = i * 37; // 37 µs .. 370 ms
      values.push(v);
      h.record(v);
    }
    for (const q of [0.5, 0.9, 0.99]) {
      const exact = values[Math.ceil(q * values.length) - 1];
      expect(Math.abs(h.percentile(q) - exact) / exact).toBeLessThan(0.04);
    }
    expect(h.max).toBe(370_000);
    expect(h.count).toBe(10_000);
  });

  it('keeps small values exact', () => {
    const h = new LatencyHistogram();
    for (const v of [0, 1, 2, 3, 31]) h.record(v);
    expect(h.percentile(0)).toBe(0);
    expect(h.percentile(0.6)).toBe(2);
    expect(h.percentile(1)).toBe(31);
  });

  it('merges into the same histogram as recording everything in one', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    for (let i = 0; i < 5000; i++) {
      const v = Math.floor(Math.random() * 5_000_000);
      (i % 2 ? a : b).record(v);
      all.record(v);
    }
    const merged = a.clone().merge(b);
    expect(merged.count).toBe(all.count);
    expect(merged.max).toBe(all.max);
    expect(Array.from(merged.counts)).toEqual(Array.from(all.counts));
  });

  it('never reports a percentile above the largest value and is NaN when empty', () => {
    const h = new LatencyHistogram();
    expect(h.percentile(0.5)).toBeNaN();
    h.record(1_000_001);
    expect(h.percentile(0.99)).toBeLessThanOrEqual(1_000_001);
    h.record(10 * 3_600_000_000); // ten hours
    expect(h.percentile(1)).toBeLessThanOrEqual(10 * 3_600_000_000);
  });

  it('summarises milliseconds as the benchmarks report them, with the same rank as the microsecond percentile', () => {
    const samples = Array.from({ length: 200 }, (_, i) => (i + 1) * 0.25); // 0.25 .. 50 ms
    const summary = LatencyHistogram.ofMs(samples).summaryMs();
    expect(summary.count).toBe(200);
    expect(summary.max).toBe(50);
    for (const [q, value] of [
      [0.5, summary.p50],
      [0.9, summary.p90],
      [0.99, summary.p99],
    ] as const) {
      const exact = samples[Math.ceil(q * samples.length) - 1];
      expect(Math.abs(value - exact) / exact).toBeLessThan(0.04);
    }
    expect(new LatencyHistogram().summaryMs()).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });
});
