import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  COLLECTIONS_PER_IDLE_PERIOD,
  collectGarbage,
  idleCollectorStep,
  startIdleCollector,
} from './idle-collector.js';

const limits = { idleBelow: 0.02, busyAbove: 0.2, regrowthBytes: 4_000_000 };

describe('idleCollectorStep', () => {
  it('takes one collection per idle window while collections are due', () => {
    expect(idleCollectorStep(2, 0.001, 0, limits)).toEqual({ due: 1, collect: true });
    expect(idleCollectorStep(1, 0.001, 0, limits)).toEqual({ due: 0, collect: true });
    expect(idleCollectorStep(0, 0.001, 0, limits)).toEqual({ due: 0, collect: false });
  });

  it('makes the collections due again after a busy window, and does not collect in it', () => {
    expect(idleCollectorStep(0, 0.9, 0, limits)).toEqual({ due: COLLECTIONS_PER_IDLE_PERIOD, collect: false });
    expect(idleCollectorStep(1, 0.5, 0, limits)).toEqual({ due: COLLECTIONS_PER_IDLE_PERIOD, collect: false });
  });

  it('collects an idle heap again once it has grown enough since the last collection', () => {
    expect(idleCollectorStep(0, 0.001, 3_999_999, limits)).toEqual({ due: 0, collect: false });
    expect(idleCollectorStep(0, 0.001, 4_000_000, limits)).toEqual({ due: 0, collect: true });
    // Not while the loop works, however much it grew.
    expect(idleCollectorStep(0, 0.1, 50_000_000, limits)).toEqual({ due: 0, collect: false });
  });

  it('leaves light steady traffic alone: neither idle nor busy changes nothing', () => {
    expect(idleCollectorStep(0, 0.1, 0, limits)).toEqual({ due: 0, collect: false });
    expect(idleCollectorStep(2, 0.1, 0, limits)).toEqual({ due: 2, collect: false });
  });
});

describe('startIdleCollector', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('collects in the idle windows after start-up and after each busy period, and stops when asked', () => {
    vi.useFakeTimers();
    // The first call starts the first window; then one value per window.
    const windows = [0, 0.5, 0.01, 0.01, 0.01, 0.1, 0.9, 0.3, 0.001, 0.05, 0.001, 0.001];
    let call = 0;
    const collected: number[] = [];
    const stop = startIdleCollector({
      windowMs: 1000,
      utilization: () => windows[call++] ?? 0,
      heapUsed: () => 0,
      collect: () => collected.push(call - 1),
    });
    vi.advanceTimersByTime(11_000);
    // Window 1 busy (re-arms), 2 and 3 idle: two collections, 4 idle but none due, 5 light,
    // 6 and 7 busy, 8 idle, 9 light, 10 idle.
    expect(collected).toEqual([2, 3, 8, 10]);
    stop();
    vi.advanceTimersByTime(5_000);
    expect(call).toBe(12);
  });

  it('collects an idle thread whose heap keeps growing, measured from the last collection', () => {
    vi.useFakeTimers();
    let used = 10_000_000;
    const collected: number[] = [];
    const stop = startIdleCollector({
      windowMs: 1000,
      utilization: () => 0,
      heapUsed: () => used,
      regrowthBytes: 4_000_000,
      collect: () => {
        collected.push(used);
        used = 10_000_000; // what a collection leaves
      },
    });
    vi.advanceTimersByTime(2_000); // the two collections due after start-up
    expect(collected).toHaveLength(2);
    for (let second = 0; second < 10; second++) {
      used += 1_000_000; // periodic work leaves 1 MB a window
      vi.advanceTimersByTime(1_000);
    }
    // Every fourth window the heap has grown 4 MB since the last collection.
    expect(collected).toEqual([10_000_000, 10_000_000, 14_000_000, 14_000_000]);
    stop();
  });
});

describe('collectGarbage', () => {
  it('frees an object nothing refers to any more', async () => {
    let ref: WeakRef<object> | undefined;
    (() => {
      ref = new WeakRef({ payload: new Array(1000).fill(1) });
    })();
    // A WeakRef keeps its target alive until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(ref.deref()).toBeUndefined();
  });
});
