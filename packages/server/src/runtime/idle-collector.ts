/**
 * Gives a thread's memory back once it goes quiet after being busy (start-up, a burst of load).
 *
 * V8 grows a heap's new space (up to 16 MB per thread) while allocation is heavy, and shrinks it
 * only in a collection that finds allocation slow. An idle server allocates almost nothing, so that
 * collection never comes: the new space start-up grew stays resident for as long as the server is
 * idle (issue 10: 12-13 MB of the main thread's, 3 MB of the PGlite thread's, RSS 160 -> 150 MB).
 * One full collection once the event loop has been idle for a whole window gives it back. It costs
 * ~10 ms once per busy period, taken when nothing was waiting on the loop.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { performance } from 'node:perf_hooks';

export interface IdleCollectorOptions {
  /** Length of one observation window (default 5 s). */
  windowMs?: number;
  /** A window with a smaller share of busy loop time counts as idle (default 2 %). */
  idleBelow?: number;
  /** A window with a larger share makes the collections due again (default 20 %). */
  busyAbove?: number;
  /** Share of the window the loop spent working; default: this thread's event-loop utilization. */
  utilization?: () => number;
  /** Default: a full V8 collection of this thread's heap. */
  collect?: () => void;
}

/**
 * Collections an idle period gets. V8 shrinks the new space in a collection only when allocation
 * over the last ~5 s was slow, and the first collection's view of that still includes the busy
 * period's allocations (everything since the busy period's last collection): a second one, a
 * window later, sees only the idle window (measured: the first alone shrank the main thread's new
 * space in some starts, not others).
 */
export const COLLECTIONS_PER_IDLE_PERIOD = 2;

export interface IdleCollectorStep {
  /** Collections still due in this idle period. */
  due: number;
  collect: boolean;
}

/**
 * One window's decision. While collections are due, each idle window takes one; a busy window
 * makes them due again. Light steady traffic (neither idle nor busy) changes nothing, so such a
 * server is not collected every other window.
 *
 * @example
 * idleCollectorStep(2, 0.001, { idleBelow: 0.02, busyAbove: 0.2 }) // { due: 1, collect: true }
 */
export function idleCollectorStep(
  due: number,
  utilization: number,
  limits: { idleBelow: number; busyAbove: number },
): IdleCollectorStep {
  if (utilization > limits.busyAbove) return { due: COLLECTIONS_PER_IDLE_PERIOD, collect: false };
  if (due > 0 && utilization < limits.idleBelow) return { due: due - 1, collect: true };
  return { due, collect: false };
}

/**
 * Starts watching this thread's event loop, with the collections due from the start, since
 * start-up is a busy period. The timer does not keep the process alive.
 *
 * @example
 * const stop = startIdleCollector();
 * // ... on shutdown:
 * stop();
 */
export function startIdleCollector(options: IdleCollectorOptions = {}): () => void {
  const limits = { idleBelow: options.idleBelow ?? 0.02, busyAbove: options.busyAbove ?? 0.2 };
  const utilization = options.utilization ?? eventLoopUtilizationSinceLastCall();
  const collect = options.collect ?? collectGarbage;
  let due = COLLECTIONS_PER_IDLE_PERIOD;
  utilization(); // starts the first window now
  const timer = setInterval(() => {
    const step = idleCollectorStep(due, utilization(), limits);
    due = step.due;
    if (step.collect) collect();
  }, options.windowMs ?? 5000);
  timer.unref();
  return () => clearInterval(timer);
}

function eventLoopUtilizationSinceLastCall(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const window = performance.eventLoopUtilization(now, last);
    last = now;
    return window.utilization;
  };
}

/**
 * A full, synchronous collection of this thread's heap. A fresh context each time: keeping one
 * (and its globals) alive for a call every few minutes at most would cost more than making it.
 */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  // The flag gives `gc` to contexts made from now on, not to this one.
  (runInNewContext('gc') as () => void)();
}
