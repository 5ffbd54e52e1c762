import { describe, expect, it } from 'vitest';
import { IpLimiter, isLoopback } from './ip-limiter.js';

describe('IpLimiter', () => {
  it('counts connections per address, IPv4-mapped IPv6 included, and frees them on release', () => {
    const limiter = new IpLimiter(2);
    expect(limiter.acquire('10.0.0.1')).toBe(true);
    expect(limiter.acquire('::ffff:10.0.0.1')).toBe(true);
    expect(limiter.acquire('10.0.0.1')).toBe(false);
    expect(limiter.acquire('10.0.0.2')).toBe(true);
    limiter.release('10.0.0.1');
    expect(limiter.acquire('10.0.0.1')).toBe(true);
  });

  it('treats 0 as unlimited', () => {
    const limiter = new IpLimiter(0, { exemptLoopback: false });
    for (let i = 0; i < 1000; i++) expect(limiter.acquire('10.0.0.1')).toBe(true);
  });

  it('never refuses loopback connections by default, but still counts them', () => {
    const limiter = new IpLimiter(2);
    for (const ip of ['127.0.0.1', '::ffff:127.0.0.1', '127.1.2.3', '::1', '::1']) {
      for (let i = 0; i < 50; i++) expect(limiter.acquire(ip)).toBe(true);
    }
    expect(limiter.count('127.0.0.1')).toBe(100);
    expect(limiter.count('::1')).toBe(100);
    limiter.release('::ffff:127.0.0.1');
    expect(limiter.count('127.0.0.1')).toBe(99);
  });

  it('limits loopback like any address when the exemption is off', () => {
    const limiter = new IpLimiter(16, { exemptLoopback: false });
    const accepted = Array.from({ length: 20 }, () => limiter.acquire('127.0.0.1')).filter(Boolean).length;
    expect(accepted).toBe(16);
    expect(limiter.acquire('::1')).toBe(true);
  });
});

describe('isLoopback', () => {
  it('knows 127.0.0.0/8 and ::1 in their usual spellings, and nothing else', () => {
    for (const ip of ['127.0.0.1', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])
      expect(isLoopback(ip), ip).toBe(true);
    for (const ip of ['128.0.0.1', '10.0.0.1', '::2', '::ffff:10.0.0.1', 'fe80::1', '', 'localhost'])
      expect(isLoopback(ip), ip).toBe(false);
  });
});
