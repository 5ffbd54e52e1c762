import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then refills at the rate', () => {
    let now = 0;
    const bucket = new TokenBucket({ burst: 5, ratePerSecond: 2, now: () => now });
    for (let i = 0; i < 5; i++) expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    expect(bucket.msUntilNext()).toBe(500);
    now = 499;
    expect(bucket.take()).toBe(false);
    now = 500;
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
  });

  it('never holds more than the burst, however long it was idle', () => {
    let now = 0;
    const bucket = new TokenBucket({ burst: 3, ratePerSecond: 10, now: () => now });
    now = 3_600_000;
    let taken = 0;
    while (bucket.take()) taken++;
    expect(taken).toBe(3);
  });

  it('refuses a burst below one or a rate that is not positive', () => {
    expect(() => new TokenBucket({ burst: 0, ratePerSecond: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ burst: 1, ratePerSecond: 0 })).toThrow(RangeError);
  });
});
