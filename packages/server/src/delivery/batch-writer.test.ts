import { describe, expect, it } from 'vitest';
import type { PersistResult } from '../core/core-effects.js';
import type { NewMessage, StateWrite, WriteBatch } from '../core/records.js';
import type { BatchResult } from '../store/message-store.js';
import { BatchWriter, type BatchStore } from './batch-writer.js';

/** A store in memory whose writes take a while, and can be made to fail like a lost database. */
class SlowStore implements BatchStore {
  batches: WriteBatch[] = [];
  down = false;
  badInput = false;
  writing = 0;
  maxConcurrentWrites = 0;
  #next = 1;
  /** `delayMs`: how long each write takes (the latency of a database, not a wait for anything). */
  constructor(readonly delayMs = 5) {}
  async reserveIds(count: number): Promise<number[]> {
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    return Array.from({ length: count }, () => this.#next++);
  }
  async writeBatch(batch: WriteBatch): Promise<BatchResult> {
    this.writing++;
    this.maxConcurrentWrites = Math.max(this.maxConcurrentWrites, this.writing);
    try {
      await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.down)
        throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
      if (this.badInput) throw Object.assign(new Error('TC_STORE_BAD_INPUT: NUL'), { code: 'TC_STORE_BAD_INPUT' });
      this.batches.push(structuredClone(batch));
      return { ids: batch.messages.map((m) => m.id!), repeated: [], batch: null };
    } finally {
      this.writing--;
    }
  }
  stored(): NewMessage[] {
    return this.batches.flatMap((b) => b.messages);
  }
}

const msg = (text: string): NewMessage => ({ kind: 'room', room: 'r', nick: 'n', text, action: false, ts: 1 });

function recorder() {
  const log: string[] = [];
  const results = new Map<string, PersistResult>();
  const callbacks = (text: string) => ({
    deliver: (id: number) => log.push(`deliver ${text} #${id}`),
    committed: (r: PersistResult) => {
      results.set(text, r);
      log.push(`commit ${text}`);
    },
  });
  return { log, results, callbacks };
}

describe('BatchWriter', () => {
  it('gives ids in acceptance order and delivers after commit, in order, across pipelined batches', async () => {
    const store = new SlowStore(3);
    const writer = new BatchWriter(store, { maxBatch: 10, idBlock: 100 });
    await writer.start();
    const { log, callbacks } = recorder();
    const accepted: NewMessage[] = [];
    for (let i = 0; i < 35; i++) {
      const m = msg(`m${i}`);
      expect(writer.appendMessage(m, callbacks(`m${i}`))).toBe(true);
      accepted.push(m);
    }
    // Ids are given when accepted (from the reserved pool), in acceptance order.
    const ids = accepted.map((m) => m.id!);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(log).toEqual([]);
    await writer.drain();
    const delivered = log.filter((l) => l.startsWith('deliver')).map((l) => l.split(' ')[1]);
    expect(delivered).toEqual(Array.from({ length: 35 }, (_, i) => `m${i}`));
    expect(store.stored().map((m) => m.id)).toEqual(ids);
    expect(store.batches.length).toBeGreaterThanOrEqual(4);
    expect(store.maxConcurrentWrites).toBe(1);
    expect(writer.pending).toBe(0);
  });

  it('reports, per delivered message, how long it was held since it was accepted', async () => {
    const store = new SlowStore(20);
    const held: number[] = [];
    const writer = new BatchWriter(store, { idBlock: 100, onDelivered: (ms) => held.push(ms) });
    await writer.start();
    const { callbacks } = recorder();
    for (let i = 0; i < 3; i++) writer.appendMessage(msg(`m${i}`), callbacks(`m${i}`));
    expect(held).toEqual([]); // nothing is delivered before its commit
    await writer.drain();
    expect(held).toHaveLength(3);
    // Each waited at least for its commit (a 20 ms write; timers may fire a little early).
    for (const ms of held) expect(ms).toBeGreaterThanOrEqual(15);
  });

  it('keeps events in order with the messages queued around them', async () => {
    const store = new SlowStore(2);
    const writer = new BatchWriter(store, { maxBatch: 3 });
    await writer.start();
    const { log, callbacks } = recorder();
    writer.appendMessage(msg('a'), callbacks('a'));
    writer.appendEvent(() => log.push('event 1'));
    for (const t of ['b', 'c', 'd', 'e']) writer.appendMessage(msg(t), callbacks(t));
    writer.appendEvent(() => log.push('event 2'));
    await writer.drain();
    expect(log.filter((l) => !l.startsWith('commit'))).toEqual([
      'deliver a #1',
      'event 1',
      'deliver b #2',
      'deliver c #3',
      'deliver d #4',
      'deliver e #5',
      'event 2',
    ]);
  });

  it('runs an event at once when nothing is queued', async () => {
    const writer = new BatchWriter(new SlowStore());
    await writer.start();
    let ran = false;
    writer.appendEvent(() => (ran = true));
    expect(ran).toBe(true);
  });

  it('refuses messages past its bound instead of queueing them', async () => {
    const writer = new BatchWriter(new SlowStore(), { maxPending: 3 });
    await writer.start();
    const { callbacks } = recorder();
    const accepted = ['a', 'b', 'c', 'd'].map((t) => writer.appendMessage(msg(t), callbacks(t)));
    expect(accepted).toEqual([true, true, true, false]);
    await writer.drain();
    expect(writer.appendMessage(msg('e'), callbacks('e'))).toBe(true);
  });

  it('writes state changes in order with the batch, and bounds them', async () => {
    const store = new SlowStore(1);
    const errors: string[] = [];
    const writer = new BatchWriter(store, { maxPendingState: 2, onError: (e) => errors.push(e.message) });
    await writer.start();
    const writes: StateWrite[] = [
      { op: 'membership-add', nick: 'a', room: 'r', ts: 1 },
      { op: 'membership-remove', nick: 'a', room: 'r' },
      { op: 'membership-add', nick: 'b', room: 'r', ts: 1 },
    ];
    for (const w of writes) writer.appendState(w);
    await writer.drain();
    expect(store.batches.flatMap((b) => b.state)).toEqual(writes.slice(0, 2));
    expect(writer.stats.droppedState).toBe(1);
    expect(errors[0]).toMatch(/state change dropped/);
  });

  it('while the database is away, delivers at once, holds messages, and acknowledges them once stored', async () => {
    const store = new SlowStore(2);
    const events: string[] = [];
    let wentDegraded!: () => void;
    const degraded = new Promise<void>((resolve) => (wentDegraded = resolve));
    const writer = new BatchWriter(store, {
      retryDelayMs: () => 5,
      onDegraded: () => {
        events.push('degraded');
        wentDegraded();
      },
      onRecovered: () => events.push('recovered'),
    });
    await writer.start();
    const { log, results, callbacks } = recorder();
    writer.appendMessage(msg('before'), callbacks('before'));
    await writer.drain();
    store.down = true;
    writer.appendMessage(msg('first'), callbacks('first'));
    // The first failed write makes it degraded; it delivers what it holds in the same turn.
    await degraded;
    expect(events).toEqual(['degraded']);
    expect(writer.degraded).toBe(true);
    expect(log).toContain('deliver first #2');
    writer.appendMessage(msg('second'), callbacks('second'));
    writer.appendEvent(() => log.push('event while degraded'));
    expect(log.slice(-2)).toEqual(['deliver second #3', 'event while degraded']);
    expect(results.has('first')).toBe(false);
    store.down = false;
    await writer.drain();
    expect(events).toEqual(['degraded', 'recovered']);
    expect(results.get('first')).toEqual({ ok: true, id: 2 });
    expect(results.get('second')).toEqual({ ok: true, id: 3 });
    expect(store.stored().map((m) => m.text)).toEqual(['before', 'first', 'second']);
    // Delivered once each, never twice.
    expect(log.filter((l) => l.startsWith('deliver first'))).toHaveLength(1);
  });

  it('fails a batch the store refuses as bad input at once, without retrying, and carries on', async () => {
    const store = new SlowStore(1);
    const attempts: boolean[] = [];
    const writer = new BatchWriter(store, { onError: (_e, _a, willRetry) => attempts.push(willRetry) });
    await writer.start();
    const { log, results, callbacks } = recorder();
    store.badInput = true;
    writer.appendMessage(msg('bad'), callbacks('bad'));
    await writer.drain();
    expect(attempts).toEqual([false]);
    expect(results.get('bad')).toMatchObject({ ok: false, error: { code: 'TC_ERR_STORE_FAILED' } });
    expect(log).not.toContain('deliver bad #1');
    store.badInput = false;
    writer.appendMessage(msg('good'), callbacks('good'));
    await writer.drain();
    expect(results.get('good')).toEqual({ ok: true, id: 2 });
  });

  it('keeps one failing callback from stopping the deliveries after it', async () => {
    const writer = new BatchWriter(new SlowStore());
    await writer.start();
    const { log, callbacks } = recorder();
    writer.appendMessage(msg('boom'), {
      deliver: () => {
        throw new Error('a bug in one delivery');
      },
      committed: () => {},
    });
    writer.appendMessage(msg('fine'), callbacks('fine'));
    await writer.drain();
    expect(log).toContain('deliver fine #2');
  });

  it('in cluster order, takes ids from the commit and hands every batch to the sink with what other nodes need', async () => {
    let next = 100;
    let batch = 0;
    const writes: WriteBatch[] = [];
    const store: BatchStore = {
      reserveIds: async () => {
        throw new Error('a cluster writer reserves no ids');
      },
      writeBatch: async (b, options) => {
        expect(options).toEqual({ ordered: true });
        writes.push(b);
        return { ids: b.messages.map(() => next++), repeated: [], batch: ++batch };
      },
    };
    const committed: { number: number | null; entries: unknown[] }[] = [];
    const writer = new BatchWriter(store, {
      ordered: true,
      sink: {
        committed: (c) => {
          committed.push({ number: c.number, entries: c.entries });
          c.runLocal();
        },
      },
    });
    await writer.start();
    const { log, callbacks } = recorder();
    const m = msg('a');
    expect(writer.appendMessage(m, callbacks('a'))).toBe(true);
    expect(m.id).toBeUndefined();
    writer.appendEvent(() => log.push('event'), { kind: 'room', room: 'r' });
    await writer.drain();
    expect(log).toEqual(['deliver a #100', 'commit a', 'event']);
    expect(committed).toEqual([
      {
        number: 1,
        entries: [
          { message: { kind: 'room', message: { id: 100, ts: 1, room: 'r', nick: 'n', text: 'a' } } },
          { event: { kind: 'room', room: 'r' } },
        ],
      },
    ]);
    // An event alone still takes its place in the cluster order (a batch of its own).
    writer.appendEvent(() => log.push('alone'), { kind: 'room', room: 'q' });
    await writer.drain();
    expect(committed.at(-1)).toMatchObject({ number: 2, entries: [{ event: { kind: 'room', room: 'q' } }] });
    expect(log.at(-1)).toBe('alone');
  });

  it('acknowledges a repeated client id with the stored id and delivers it no second time', async () => {
    const store: BatchStore = {
      reserveIds: async (count) => Array.from({ length: count }, (_, i) => i + 1),
      writeBatch: async (b) => ({
        ids: b.messages.map((m, i) => (i === 1 ? 1 : m.id!)),
        repeated: b.messages.length > 1 ? [1] : [],
        batch: null,
      }),
    };
    const writer = new BatchWriter(store);
    await writer.start();
    const { log, results, callbacks } = recorder();
    const once = (): NewMessage => ({
      kind: 'room',
      room: 'r',
      nick: 'n',
      text: 'once',
      action: false,
      ts: 1,
      cid: 'c1',
      owner: 'ann',
    });
    writer.appendMessage(once(), callbacks('first'));
    writer.appendMessage(once(), callbacks('again'));
    await writer.drain();
    expect(log.filter((l) => l.startsWith('deliver'))).toEqual(['deliver first #1']);
    expect(results.get('again')).toEqual({ ok: true, id: 1, repeated: true });
  });
});
