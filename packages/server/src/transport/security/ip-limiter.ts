/**
 * Counts open connections per remote address, shared by the TCP and WebSocket listeners.
 * `max` 0 means unlimited (for `teamchat stress` and benchmarks, which open many from 127.0.0.1).
 *
 * @example
 * if (!limiter.acquire(ip)) return refuse();
 * socket.once('close', () => limiter.release(ip));
 */
export class IpLimiter {
  readonly #counts = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Counts one more connection from `ip`; false (and nothing counted) when it is over the limit. */
  acquire(ip: string): boolean {
    const key = normalizeIp(ip);
    const n = this.#counts.get(key) ?? 0;
    if (this.max > 0 && n >= this.max) return false;
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

/** `::ffff:127.0.0.1` and `127.0.0.1` are one address. */
function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
