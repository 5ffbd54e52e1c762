/**
 * Throttles password and room-key guessing across connections: failures are counted per subject
 * (an account, a room key) and per remote address, in one table shared by every connection, so
 * reconnecting does not start afresh. Pure: no timers, the clock is injected.
 *
 * The rule, per subject (defaults in brackets, see {@link DEFAULT_SUBJECT_RULE}):
 * - after `failures` [5] wrong attempts within `windowMs` [1 min] the subject is locked for
 *   `lockMs` [1 min]; each further lockout doubles that, up to `maxLockMs` [1 h];
 * - while locked, every attempt is refused at once (the caller runs no scrypt, so it costs no CPU);
 * - a success resets the subject; so does a quiet period of `maxLockMs` without failures (the
 *   lock level starts again at `lockMs`);
 * - an attempt counts from the moment it starts: `failures` minus the recent failures is also the
 *   number of checks that may run at once, so a burst from many connections cannot slip more
 *   guesses in while the first ones are still being checked, and every guess that was checked is
 *   counted (running checks plus recent failures never exceed `failures`, so none is still
 *   running when a lockout begins; should one be, its failure counts towards the next lockout).
 * Hence at most `failures` guesses per subject per lock period, however many connections and
 * addresses the attacker uses: 5 guesses, a 1 min lockout, 5 more, 2 min, 5 more, 4 min, ...
 * then 5 an hour.
 *
 * Per address (an IPv4 address; IPv6 by /64, the block one customer usually gets) the same rule
 * with a looser count ([20] failures per minute, {@link DEFAULT_ADDRESS_RULE}), against one address
 * trying many accounts or rooms. A success does not reset an address (an attacker would interleave
 * logins to an account of their own). Besides, at most `maxInFlightPerAddress` [2] checks run at
 * once per address, successes included, which bounds the scrypt work one address can cause.
 *
 * Bounded memory: each table (subjects, addresses) keeps at most `maxEntries` [10 000] entries
 * (about 200 bytes each), least recently used first out. Entries that remember nothing (no recent
 * failure, no lock, lock level forgotten) are dropped first; when the table is still full, the
 * least recently used entry with no check running (among the 64 least recently used) is dropped,
 * even if it is locked (an attacker must first make 10 000 other subjects fail, at 20 a minute
 * per address, to do that). Entries with a check running are never dropped, so a table may exceed
 * the bound by the checks running.
 *
 * @example
 * const throttle = new AuthThrottle({ now: () => performance.now() });
 * const attempt = throttle.begin('account:alice', '203.0.113.9');
 * if (attempt.refused) return lockedOut(attempt.retryAfterMs);
 * const ok = await verify();
 * ok ? attempt.succeeded() : attempt.failed();
 */
import { isIP } from 'node:net';

/** One lockout rule: `failures` within `windowMs` lock for `lockMs`, doubling per further lockout up to `maxLockMs`. */
export interface LockoutRule {
  failures: number;
  windowMs: number;
  lockMs: number;
  maxLockMs: number;
}

export const DEFAULT_SUBJECT_RULE: LockoutRule = {
  failures: 5,
  windowMs: 60_000,
  lockMs: 60_000,
  maxLockMs: 3_600_000,
};
export const DEFAULT_ADDRESS_RULE: LockoutRule = {
  failures: 20,
  windowMs: 60_000,
  lockMs: 60_000,
  maxLockMs: 3_600_000,
};
export const DEFAULT_MAX_IN_FLIGHT_PER_ADDRESS = 2;
export const DEFAULT_MAX_ENTRIES = 10_000;

export interface AuthThrottleOptions {
  /** Rule per subject; null: subjects are not locked. */
  subject?: LockoutRule | null;
  /** Rule per address; null: addresses are not locked. */
  address?: LockoutRule | null;
  /** Checks running at once per address (0: unlimited). */
  maxInFlightPerAddress?: number;
  /** Entries per table (subjects, addresses). */
  maxEntries?: number;
  /** Clock in milliseconds. */
  now: () => number;
  /** Told when a subject or an address gets locked. */
  onLockout?: (event: LockoutEvent) => void;
}

export interface LockoutEvent {
  scope: 'subject' | 'address';
  key: string;
  lockMs: number;
  /** Lockouts in a row (1 for the first). */
  level: number;
}

/**
 * Why an attempt was refused: `locked` (a lockout is running), `pending` (checks already running
 * would use up what is left before a lockout), `busy` (too many checks running from the address).
 */
export interface AuthRefusal {
  readonly refused: true;
  readonly reason: 'locked' | 'pending' | 'busy';
  readonly scope: 'subject' | 'address';
  /** When trying again may be answered (rounded up to whole seconds by callers). */
  readonly retryAfterMs: number;
}

/** An attempt under way: settle it exactly once (further calls are ignored). */
export interface AuthAttempt {
  readonly refused: false;
  succeeded(): void;
  failed(): void;
  /** The check itself broke (not a wrong secret): count nothing. */
  abandoned(): void;
}

/** How long to wait when only running checks stand in the way: they take well under a second. */
const PENDING_RETRY_MS = 1_000;
/** Forgettable entries looked at (from the least recently used end) per new entry. */
const SWEEP = 4;
/** Entries looked at (from the least recently used end) to make room in a full table. */
const EVICT_SCAN = 64;

interface Entry {
  /** Times of the failures in the current window, oldest first (at most rule.failures). */
  failures: number[];
  inFlight: number;
  lockedUntil: number;
  /** Lockouts in a row; the next lasts lockMs * 2^level. */
  level: number;
  /** The last failure or lock end: the quiet period counts from here. */
  lastEvent: number;
}

class Table {
  readonly #entries = new Map<string, Entry>();
  constructor(
    readonly rule: LockoutRule | null,
    readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The entry of `key`, brought up to date and marked as most recently used. */
  touch(key: string, now: number): Entry {
    let entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
    } else {
      this.#sweep(now);
      if (this.#entries.size >= this.maxEntries) this.#evict(now);
      entry = { failures: [], inFlight: 0, lockedUntil: 0, level: 0, lastEvent: now };
    }
    this.#entries.set(key, entry);
    this.#refresh(entry, now);
    return entry;
  }

  #refresh(entry: Entry, now: number): void {
    const rule = this.rule;
    if (!rule) return;
    while (entry.failures.length > 0 && entry.failures[0] <= now - rule.windowMs) entry.failures.shift();
    if (entry.lockedUntil !== 0 && entry.lockedUntil <= now) entry.lockedUntil = 0; // lastEvent is already its end
    if (entry.level > 0 && entry.lockedUntil === 0 && now - entry.lastEvent >= rule.maxLockMs) entry.level = 0;
  }

  #forgettable(entry: Entry, now: number): boolean {
    this.#refresh(entry, now);
    return entry.inFlight === 0 && entry.failures.length === 0 && entry.lockedUntil === 0 && entry.level === 0;
  }

  /** Drops the forgettable ones among the few least recently used entries. */
  #sweep(now: number): void {
    let looked = 0;
    for (const [key, entry] of this.#entries) {
      if (looked++ >= SWEEP) return;
      if (this.#forgettable(entry, now)) this.#entries.delete(key);
    }
  }

  /**
   * Makes room for one entry, looking at the EVICT_SCAN least recently used: the first
   * forgettable one, else the first without a running check (else none: the table grows by one).
   */
  #evict(now: number): void {
    let victim: string | undefined;
    let looked = 0;
    for (const [key, entry] of this.#entries) {
      if (looked++ >= EVICT_SCAN) break;
      if (this.#forgettable(entry, now)) {
        victim = key;
        break;
      }
      if (victim === undefined && entry.inFlight === 0) victim = key;
    }
    if (victim !== undefined) this.#entries.delete(victim);
  }

  /** Why a new attempt must wait, or null. */
  refusal(entry: Entry, now: number, scope: 'subject' | 'address'): AuthRefusal | null {
    if (!this.rule) return null;
    if (entry.lockedUntil > now)
      return { refused: true, reason: 'locked', scope, retryAfterMs: entry.lockedUntil - now };
    if (entry.failures.length + entry.inFlight >= this.rule.failures) {
      // Running checks may still succeed; if they fail, a lockout starts.
      return { refused: true, reason: 'pending', scope, retryAfterMs: PENDING_RETRY_MS };
    }
    return null;
  }

  /** Records a failure; returns the lock it started, if any. */
  fail(entry: Entry, now: number): { lockMs: number; level: number } | null {
    const rule = this.rule;
    if (!rule) return null;
    this.#refresh(entry, now);
    entry.lastEvent = Math.max(entry.lastEvent, now);
    entry.failures.push(now);
    // A check that was running when the lockout began: counted towards the next one.
    if (entry.lockedUntil > now || entry.failures.length < rule.failures) return null;
    const lockMs = Math.min(rule.lockMs * 2 ** entry.level, rule.maxLockMs);
    entry.level++;
    entry.lockedUntil = now + lockMs;
    entry.lastEvent = entry.lockedUntil;
    entry.failures = [];
    return { lockMs, level: entry.level };
  }

  reset(entry: Entry): void {
    entry.failures = [];
    entry.lockedUntil = 0;
    entry.level = 0;
  }
}

export class AuthThrottle {
  readonly #subjects: Table;
  readonly #addresses: Table;
  readonly #maxInFlight: number;
  readonly #now: () => number;
  readonly #onLockout: ((event: LockoutEvent) => void) | undefined;

  constructor(options: AuthThrottleOptions) {
    const subject = options.subject === undefined ? DEFAULT_SUBJECT_RULE : options.subject;
    const address = options.address === undefined ? DEFAULT_ADDRESS_RULE : options.address;
    for (const rule of [subject, address]) {
      if (rule && !(rule.failures >= 1 && rule.windowMs > 0 && rule.lockMs > 0 && rule.maxLockMs >= rule.lockMs)) {
        throw new RangeError(
          'a lockout rule needs failures >= 1, positive windowMs and lockMs, and maxLockMs >= lockMs',
        );
      }
    }
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (!(maxEntries >= 1)) throw new RangeError('maxEntries must be at least 1');
    this.#subjects = new Table(subject, maxEntries);
    this.#addresses = new Table(address, maxEntries);
    this.#maxInFlight = options.maxInFlightPerAddress ?? DEFAULT_MAX_IN_FLIGHT_PER_ADDRESS;
    this.#now = options.now;
    this.#onLockout = options.onLockout;
  }

  /** Entries held now, per table (for tests and metrics). */
  get size(): { subjects: number; addresses: number } {
    return { subjects: this.#subjects.size, addresses: this.#addresses.size };
  }

  /**
   * Asks to check a secret for `subject` (e.g. `account:alice`) from `address` (see
   * {@link addressKey}). Refused: do not check it, answer the refusal. Otherwise check it and
   * settle the attempt.
   */
  begin(subject: string, address: string): AuthAttempt | AuthRefusal {
    const now = this.#now();
    const s = this.#subjects.touch(subject, now);
    const a = this.#addresses.touch(address, now);
    const refusal =
      this.#subjects.refusal(s, now, 'subject') ??
      this.#addresses.refusal(a, now, 'address') ??
      (this.#maxInFlight > 0 && a.inFlight >= this.#maxInFlight ? busy() : null);
    if (refusal) return refusal;
    s.inFlight++;
    a.inFlight++;
    let settled = false;
    const settle = (outcome: 'succeeded' | 'failed' | 'abandoned') => {
      if (settled) return;
      settled = true;
      s.inFlight--;
      a.inFlight--;
      if (outcome === 'succeeded') return this.#subjects.reset(s);
      if (outcome === 'abandoned') return;
      const at = this.#now();
      const lockedSubject = this.#subjects.fail(s, at);
      if (lockedSubject) this.#onLockout?.({ scope: 'subject', key: subject, ...lockedSubject });
      const lockedAddress = this.#addresses.fail(a, at);
      if (lockedAddress) this.#onLockout?.({ scope: 'address', key: address, ...lockedAddress });
    };
    return {
      refused: false,
      succeeded: () => settle('succeeded'),
      failed: () => settle('failed'),
      abandoned: () => settle('abandoned'),
    };
  }
}

function busy(): AuthRefusal {
  return { refused: true, reason: 'busy', scope: 'address', retryAfterMs: PENDING_RETRY_MS };
}

/**
 * The address a connection's `remote` (`ip:port`, `[v6]:port` or `v6:port`, as the listeners
 * write it) is counted under: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64 (an attacker
 * usually holds a whole /64). Anything else is returned unchanged.
 *
 * @example
 * addressKey('[2001:db8::1]:5555'); // '2001:db8:0:0::/64'
 * addressKey('::ffff:127.0.0.1:40000'); // '127.0.0.1'
 */
export function addressKey(remote: string): string {
  let host = remote;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    host = end === -1 ? host.slice(1) : host.slice(1, end);
  } else {
    const colon = host.lastIndexOf(':');
    // Strip a port, but only when what is left is an address (`::1` alone has no port).
    if (colon !== -1 && /^\d+$/.test(host.slice(colon + 1)) && isIP(stripZone(host.slice(0, colon))) !== 0)
      host = host.slice(0, colon);
  }
  host = stripZone(host);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped) return mapped[1];
  if (isIP(host) !== 6) return host;
  return `${expandIpv6(host).slice(0, 4).join(':')}::/64`;
}

function stripZone(host: string): string {
  const pct = host.indexOf('%');
  return pct === -1 ? host : host.slice(0, pct);
}

/** The eight groups of a valid IPv6 address, as lowercase hex without leading zeros. */
function expandIpv6(address: string): string[] {
  const groups = (part: string): string[] => {
    if (part === '') return [];
    const out: string[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
        out.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
      } else {
        out.push(parseInt(g, 16).toString(16));
      }
    }
    return out;
  };
  const [head = '', tail] = address.toLowerCase().split('::') as [string, string | undefined];
  const left = groups(head);
  if (tail === undefined) return left;
  const right = groups(tail);
  return [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
}
