/**
 * The monotonic clock every stress thread shares: `process.hrtime` reads the same system clock in
 * the main thread and in workers, so a send time taken in one thread and a receive time taken in
 * another subtract correctly (unlike `performance.now()`, whose origin differs per thread).
 *
 * @example
 * const t0 = monotonicUs();
 * // ... later, maybe in another worker
 * const latencyUs = monotonicUs() - t0;
 */
export function monotonicUs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e6 + Math.floor(ns / 1e3);
}
