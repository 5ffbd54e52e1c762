import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StreamEntry } from './batch-writer.js';
import { OrderedStream } from './ordered-stream.js';

const message = (id: number): StreamEntry => ({
  message: { kind: 'room', message: { id, ts: 1, room: 'r', nick: 'n', text: `m${id}` } },
});
const idsOf = (entries: StreamEntry[]) => entries.map((e) => ('message' in e ? e.message.message.id : -1));

function harness(start = 0, stored = new Map<number, StreamEntry[]>()) {
  const applied: string[] = [];
  const published: number[] = [];
  const fills: [number, number][] = [];
  const stream = new OrderedStream({
    start,
    gapMs: 100,
    fill: async (from, to) => {
      fills.push([from, to]);
      return new Map([...stored].filter(([n]) => n >= from && n <= to));
    },
    applyRemote: (entries) => applied.push(`remote ${idsOf(entries).join(',')}`),
    publish: (n) => published.push(n),
  });
  const local = (n: number, label: string) =>
    stream.committed({ number: n, runLocal: () => applied.push(`local ${label}`), entries: [] });
  return { stream, applied, published, fills, local };
}

describe('OrderedStream', () => {
  afterEach(() => vi.useRealTimers());

  it("runs a single node's batches at once, without numbers", () => {
    const { stream, applied, published } = harness();
    stream.committed({ number: null, runLocal: () => applied.push('now'), entries: [] });
    expect(applied).toEqual(['now']);
    expect(published).toEqual([]);
  });

  it('delivers local and remote batches in cluster order, whatever order they arrive in', () => {
    const { stream, applied, published, local } = harness(10);
    local(12, 'b12');
    expect(applied).toEqual([]);
    expect(published).toEqual([12]);
    stream.remote(13, [message(130)]);
    stream.remote(11, [message(110)]);
    expect(applied).toEqual(['remote 110', 'local b12', 'remote 130']);
    // Late duplicates (the bus delivering twice, or after a fill) are ignored.
    stream.remote(11, [message(110)]);
    expect(applied).toHaveLength(3);
    expect(stream.last).toBe(13);
    stream.stop();
  });

  it('reads a gap the bus never fills from the store, then goes on in order', async () => {
    vi.useFakeTimers();
    const stored = new Map([[6, [message(60), message(61)]]]);
    const { stream, applied, fills, local } = harness(5, stored);
    local(7, 'b7');
    expect(applied).toEqual([]);
    await vi.advanceTimersByTimeAsync(150);
    expect(fills).toEqual([[6, 6]]);
    expect(applied).toEqual(['remote 60,61', 'local b7']);
    expect(stream.fills).toBe(1);
    stream.stop();
  });

  it('notices a missing batch from the store head even when nothing comes after it', async () => {
    vi.useFakeTimers();
    const { stream, applied, fills } = harness(3, new Map([[4, [message(40)]]]));
    stream.head(4);
    await vi.advanceTimersByTimeAsync(150);
    expect(fills).toEqual([[4, 4]]);
    expect(applied).toEqual(['remote 40']);
    stream.stop();
  });

  it('does not read from the store what the bus brings in time', async () => {
    vi.useFakeTimers();
    const { stream, applied, fills, local } = harness(0);
    local(2, 'b2');
    await vi.advanceTimersByTimeAsync(50);
    stream.remote(1, [message(1)]);
    await vi.advanceTimersByTimeAsync(200);
    expect(fills).toEqual([]);
    expect(applied).toEqual(['remote 1', 'local b2']);
    stream.stop();
  });
});
