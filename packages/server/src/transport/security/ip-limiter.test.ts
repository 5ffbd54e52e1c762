import { describe, expect, it } from 'vitest';
import { IpLimiter } from './ip-limiter.js';

describe('IpLimiter', () => {
  it('counts connections per address, IPv4-mapped IPv6 included, and frees them on release', () => {
    const limiter = new IpLimiter(2);
    expect(limiter.acquire('127.0.0.1')).toBe(true);
    expect(limiter.acquire('::ffff:127.0.0.1')).toBe(true);
    expect(limiter.acquire('127.0.0.1')).toBe(false);
    expect(limiter.acquire('10.0.0.2')).toBe(true);
    limiter.release('127.0.0.1');
    expect(limiter.acquire('127.0.0.1')).toBe(true);
  });

  it('treats 0 as unlimited', () => {
    const limiter = new IpLimiter(0);
    for (let i = 0; i < 1000; i++) expect(limiter.acquire('127.0.0.1')).toBe(true);
  });
});
