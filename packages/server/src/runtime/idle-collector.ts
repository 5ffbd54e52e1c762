/**
 * Gives a thread's memory back while the server is idle.
 *
 * - After a busy period (start-up, a burst of load). V8 grows a heap's new space (up to 16 MB per
 *   thread) while allocation is heavy, and shrinks it only in a collection that finds allocation
 *   slow. An idle server allocates almost nothing, so that collection never comes: the new space
 *   start-up grew stayed resident (issue 10: 12-13 MB of the main thread's, 3 MB of the PGlite
 *   thread's). Two full collections in the first two quiet windows give it back.
 * - While idle for long. The periodic work of an idle server (a metrics snapshot every 2 s, the
 *   search indexer's look every second) leaves garbage that V8 promotes and collects only when its
 *   old generation reaches a limit: RSS crept from 141 to 152 MB in 10 idle minutes. An idle
 *   window in which the heap has grown by REGROWTH_BYTES since the last collection takes another.
 *
 * A collection costs ~10 ms of the thread, taken in a window when the loop was nearly idle.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { performance } from 'node:perf_hooks';

export interface IdleCollectorOptions {
  /** Length of one observation window (default 5 s). */
  windowMs?: number;
  /** A window with a smaller share of busy loop time counts as idle (default 2 %). */
  idleBelow?: number;
  /** A window with a larger share makes the collections due again (default 20 %). */
  busyAbove?: number;
  /** Heap growth since the last collection that an idle window collects (default REGROWTH_BYTES). */
  regrowthBytes?: number;
  /** Share of the window the loop spent working; default: this thread's event-loop utilization. */
  utilization?: () => number;
  /** Bytes in use in this thread's heap; default: V8's figure. */
  heapUsed?: () => number;
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

/** Growth of an idle heap that is worth a collection (the PGlite thread's grew ~1 MB a minute). */
export const REGROWTH_BYTES = 4 * 1024 * 1024;

export interface IdleCollectorStep {
  /** Collections still due in this idle period. */
  due: number;
  collect: boolean;
}

/**
 * One window's decision. While collections are due, each idle window takes one; a busy window
 * makes them due again. Light steady traffic (neither idle nor busy) changes nothing, so such a
 * server is not collected every other window. With none due, an idle window collects when the
 * heap has grown by `regrowthBytes` since the last collection.
 *
 * @example
 * idleCollectorStep(2, 0.001, 0, { idleBelow: 0.02, busyAbove: 0.2, regrowthBytes: 4 << 20 }) // { due: 1, collect: true }
 */
export function idleCollectorStep(
  due: number,
  utilization: number,
  grownBytes: number,
  limits: { idleBelow: number; busyAbove: number; regrowthBytes: number },
): IdleCollectorStep {
  if (utilization > limits.busyAbove) return { due: COLLECTIONS_PER_IDLE_PERIOD, collect: false };
  if (utilization >= limits.idleBelow) return { due, collect: false };
  if (due > 0) return { due: due - 1, collect: true };
  return { due: 0, collect: grownBytes >= limits.regrowthBytes };
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
  const limits = {
    idleBelow: options.idleBelow ?? 0.02,
    busyAbove: options.busyAbove ?? 0.2,
    regrowthBytes: options.regrowthBytes ?? REGROWTH_BYTES,
  };
  const utilization = options.utilization ?? eventLoopUtilizationSinceLastCall();
  const heapUsed = options.heapUsed ?? (() => getHeapStatistics().used_heap_size);
  const collect = options.collect ?? collectGarbage;
  let due = COLLECTIONS_PER_IDLE_PERIOD;
  let usedAfterCollection = heapUsed();
  utilization(); // starts the first window now
  const timer = setInterval(() => {
    const step = idleCollectorStep(due, utilization(), heapUsed() - usedAfterCollection, limits);
    due = step.due;
    if (step.collect) {
      collect();
      usedAfterCollection = heapUsed();
    }
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
