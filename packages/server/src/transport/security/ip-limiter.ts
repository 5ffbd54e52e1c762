/**
 * Counts open connections per remote address, shared by the TCP and WebSocket listeners.
 * `max` 0 means unlimited. Loopback addresses (127.0.0.0/8, ::1, ::ffff:127.x.y.z) are counted but
 * never refused unless `exemptLoopback` is false, as ergo exempts `localhost` in `ip-limits.exempted`:
 * `teamchat stress`, benchmarks and local tools open many connections from this machine, and a
 * reverse proxy on the same host makes every user look like 127.0.0.1. Flood control still applies
 * to each of those connections.
 *
 * @example
 * if (!limiter.acquire(ip)) return refuse();
 * socket.once('close', () => limiter.release(ip));
 */
import net from 'node:net';

export interface IpLimiterOptions {
  /** Loopback connections are never refused (default true; `teamchat serve --no-exempt-loopback`). */
  exemptLoopback?: boolean;
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

export class IpLimiter {
  readonly #counts = new Map<string, number>();
  readonly exemptLoopback: boolean;

  constructor(
    readonly max: number,
    options: IpLimiterOptions = {},
  ) {
    this.exemptLoopback = options.exemptLoopback ?? true;
  }

  /** Counts one more connection from `ip`; false (and nothing counted) when it is over the limit. */
  acquire(ip: string): boolean {
    const key = normalizeIp(ip);
    const n = this.#counts.get(key) ?? 0;
    if (this.max > 0 && n >= this.max && !(this.exemptLoopback && isLoopback(key))) return false;
    this.#counts.set(key, n + 1);
    return true;
  }

  release(ip: string): void {
    const key = normalizeIp(ip);
    const n = this.#counts.get(key) ?? 0;
    if (n <= 1) this.#counts.delete(key);
    else this.#counts.set(key, n - 1);
  }

  count(ip: string): number {
    return this.#counts.get(normalizeIp(ip)) ?? 0;
  }
}

/** True for 127.0.0.0/8 and ::1, in any of their spellings (`::ffff:127.0.0.1`, `0:0:0:0:0:0:0:1`). */
export function isLoopback(ip: string): boolean {
  const key = normalizeIp(ip);
  const family = net.isIPv4(key) ? 'ipv4' : net.isIPv6(key) ? 'ipv6' : null;
  return family !== null && LOOPBACK.check(key, family);
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one address. */
function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
