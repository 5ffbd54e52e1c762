import { describe, expect, it } from 'vitest';
import {
  addressKey,
  AuthThrottle,
  type AuthAttempt,
  type AuthRefusal,
  type AuthThrottleOptions,
  type LockoutEvent,
} from './auth-throttle.js';

const MIN = 60_000;

function setup(options: Partial<AuthThrottleOptions> = {}) {
  const clock = { now: 0 };
  const lockouts: LockoutEvent[] = [];
  const throttle = new AuthThrottle({ now: () => clock.now, onLockout: (e) => lockouts.push(e), ...options });
  /** One complete wrong guess; returns the refusal when it was not even checked. */
  const fail = (subject: string, address = '198.51.100.1'): AuthRefusal | null => {
    const attempt = throttle.begin(subject, address);
    if (attempt.refused) return attempt;
    attempt.failed();
    return null;
  };
  const started = (subject: string, address = '198.51.100.1'): AuthAttempt => {
    const attempt = throttle.begin(subject, address);
    if (attempt.refused) throw new Error(`refused: ${attempt.reason}`);
    return attempt;
  };
  return { clock, throttle, lockouts, fail, started };
}

describe('AuthThrottle', () => {
  it('locks an account for a minute after five wrong passwords within a minute, then lets the owner in', () => {
    const { clock, throttle, fail, lockouts } = setup();
    for (let i = 0; i < 5; i++) {
      clock.now += 1_000;
      expect(fail('account:alice')).toBeNull();
    }
    expect(lockouts).toEqual([{ scope: 'subject', key: 'account:alice', lockMs: MIN, level: 1 }]);
    clock.now += 3_000;
    expect(fail('account:alice')).toEqual({ refused: true, reason: 'locked', scope: 'subject', retryAfterMs: 57_000 });
    // Other accounts are not affected.
    expect(fail('account:bob')).toBeNull();
    clock.now += 57_000;
    const owner = throttle.begin('account:alice', '203.0.113.7');
    expect(owner.refused).toBe(false);
    (owner as AuthAttempt).succeeded();
    // The success reset the account: five more wrong passwords are needed for the next lockout.
    for (let i = 0; i < 4; i++) expect(fail('account:alice')).toBeNull();
    expect(throttle.begin('account:alice', '203.0.113.7').refused).toBe(false);
  });

  it('holds the lock however many addresses the guesses come from', () => {
    const { fail } = setup();
    for (let i = 0; i < 5; i++) expect(fail('room-key:vault', `192.0.2.${i}`)).toBeNull();
    for (let i = 5; i < 200; i++)
      expect(fail('room-key:vault', `192.0.2.${i}`)).toMatchObject({ reason: 'locked', scope: 'subject' });
  });

  it('does not lock when the failures are spread wider than the window', () => {
    const { clock, fail } = setup();
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 4; i++) expect(fail('account:alice')).toBeNull();
      clock.now += MIN;
    }
  });

  it('doubles each further lockout up to an hour, and forgets the level after an hour without failures', () => {
    const { clock, fail, lockouts } = setup();
    const lockNow = () => {
      for (let i = 0; i < 5; i++) expect(fail('account:alice')).toBeNull();
      const last = lockouts.at(-1)!;
      clock.now += last.lockMs;
      return last.lockMs / MIN;
    };
    expect([lockNow(), lockNow(), lockNow(), lockNow(), lockNow(), lockNow(), lockNow(), lockNow()]).toEqual([
      1, 2, 4, 8, 16, 32, 60, 60,
    ]);
    clock.now += 60 * MIN;
    expect(lockNow()).toBe(1);
  });

  it('counts a check from its start, so a burst on many connections gets five guesses, not more', () => {
    const { throttle, lockouts } = setup({ maxInFlightPerAddress: 0 });
    const results = Array.from({ length: 20 }, (_, i) => throttle.begin('account:alice', `192.0.2.${i}`));
    const running = results.filter((r): r is AuthAttempt => !r.refused);
    expect(running).toHaveLength(5);
    for (const r of results.filter((r): r is AuthRefusal => r.refused))
      expect(r).toMatchObject({ reason: 'pending', retryAfterMs: 1_000 });
    for (const r of running) r.failed();
    expect(lockouts).toHaveLength(1);
    expect(throttle.begin('account:alice', '192.0.2.99')).toMatchObject({ reason: 'locked' });
  });

  it('locks an address that tries many accounts, with a looser count, and a success does not unlock it', () => {
    const { throttle, fail, started, lockouts } = setup();
    const mine = started('account:mallory', '203.0.113.5');
    mine.succeeded();
    for (let i = 0; i < 20; i++) expect(fail(`account:user${i}`, '203.0.113.5')).toBeNull();
    expect(lockouts).toEqual([{ scope: 'address', key: '203.0.113.5', lockMs: MIN, level: 1 }]);
    expect(fail('account:user99', '203.0.113.5')).toMatchObject({
      reason: 'locked',
      scope: 'address',
      retryAfterMs: MIN,
    });
    // Even the attacker's own account, known password and all, is refused from there.
    expect(throttle.begin('account:mallory', '203.0.113.5')).toMatchObject({ reason: 'locked', scope: 'address' });
    // Another address can still try those accounts.
    expect(fail('account:user99', '203.0.113.6')).toBeNull();
  });

  it('lets at most two checks run at once per address, successes included', () => {
    const { throttle, started } = setup();
    const first = started('account:a');
    started('account:b');
    expect(throttle.begin('account:c', '198.51.100.1')).toEqual({
      refused: true,
      reason: 'busy',
      scope: 'address',
      retryAfterMs: 1_000,
    });
    expect(throttle.begin('account:c', '198.51.100.2').refused).toBe(false);
    first.succeeded();
    expect(throttle.begin('account:c', '198.51.100.1').refused).toBe(false);
  });

  it('settles an attempt once, whatever is called after', () => {
    const { fail, started, lockouts } = setup();
    const attempt = started('account:alice');
    attempt.failed();
    attempt.failed();
    attempt.succeeded();
    for (let i = 0; i < 3; i++) expect(fail('account:alice')).toBeNull();
    expect(lockouts).toHaveLength(0);
    expect(fail('account:alice')).toBeNull();
    expect(lockouts).toHaveLength(1);
  });

  it('keeps its tables bounded against a flood of distinct nicks, dropping forgettable entries before locked ones', () => {
    const { clock, throttle, fail } = setup({ maxEntries: 1_000, address: null, maxInFlightPerAddress: 0 });
    for (let i = 0; i < 5; i++) fail('account:alice');
    for (let i = 0; i < 200_000; i++) {
      if (i % 1_000 === 0) clock.now += 100;
      const attempt = throttle.begin(`account:nick${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      if (!attempt.refused) attempt.abandoned();
    }
    expect(throttle.size.subjects).toBeLessThanOrEqual(1_000);
    expect(throttle.size.addresses).toBeLessThanOrEqual(1_000);
    // Alice is still locked: entries that remembered nothing went first.
    expect(throttle.begin('account:alice', '10.9.9.9')).toMatchObject({ reason: 'locked' });
  });

  it('drops the least recently used entries when every entry remembers failures', () => {
    const { throttle, fail } = setup({ maxEntries: 100, address: null, maxInFlightPerAddress: 0 });
    for (let i = 0; i < 10_000; i++) fail(`account:nick${i}`);
    expect(throttle.size.subjects).toBeLessThanOrEqual(100);
  });

  it('refuses rules that would never lock or never unlock', () => {
    expect(
      () => new AuthThrottle({ now: () => 0, subject: { failures: 0, windowMs: 1, lockMs: 1, maxLockMs: 1 } }),
    ).toThrow(RangeError);
    expect(
      () => new AuthThrottle({ now: () => 0, address: { failures: 1, windowMs: 1, lockMs: 10, maxLockMs: 5 } }),
    ).toThrow(RangeError);
    expect(() => new AuthThrottle({ now: () => 0, maxEntries: 0 })).toThrow(RangeError);
  });
});

describe('addressKey', () => {
  it('takes the IP out of the remote the listeners write, and groups IPv6 by /64', () => {
    expect(addressKey('127.0.0.1:5555')).toBe('127.0.0.1');
    expect(addressKey('::ffff:127.0.0.1:40000')).toBe('127.0.0.1');
    expect(addressKey('[::ffff:10.1.2.3]:40000')).toBe('10.1.2.3');
    expect(addressKey('::1:54321')).toBe('0:0:0:0::/64');
    expect(addressKey('[::1]:54321')).toBe('0:0:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('2001:db8:aa:bb:1:2:3:4:443')).toBe('2001:db8:aa:bb::/64');
    expect(addressKey('2001:DB8:AA:BB::99:443')).toBe('2001:db8:aa:bb::/64');
    expect(addressKey('2001:db8:aa:bb::1')).toBe('2001:db8:aa:bb::/64');
    expect(addressKey('fe80::1%eth0:9000')).toBe('fe80:0:0:0::/64');
    expect(addressKey('64:ff9b::192.0.2.33:80')).toBe('64:ff9b:0:0::/64');
    expect(addressKey('test')).toBe('test');
  });
});
