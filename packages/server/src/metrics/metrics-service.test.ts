import { describe, expect, it } from 'vitest';
import { suiteBackends } from '../../../../test/helpers/store-backends.js';
import { openDatabase, type Database } from '../store/database.js';
import type { StoreConfig } from '../store/message-store.js';
import { migrate } from '../store/migrator.js';
import type { ChatStats } from './chat-events.js';
import type { MetricSnapshot } from './metric-snapshot.js';
import { MetricsService } from './metrics-service.js';

const backends = await suiteBackends('teamchat-metrics-');

/** A clock the test moves by hand. */
function fakeClock(start: number) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const members = new Map<string, number>();
const stats: ChatStats = { roomMembers: () => new Map(members), connections: () => 7, isRestricted: () => false };

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(`MetricsService on ${backend.name}`, () => {
    let config: StoreConfig;
    let database: Database;

    async function open(): Promise<Database> {
      const db = await openDatabase(config);
      await migrate(db);
      return db;
    }

    it('stores each snapshot and reads a time range back, oldest first', async () => {
      config = backend.config();
      database = await open();
      await database.kysely.deleteFrom('metric_snapshots').execute();
      const clock = fakeClock(T0);
      const metrics = new MetricsService({ database, stats, intervalMs: 2000, now: clock.now });
      await metrics.start();
      await metrics.stop(); // nothing happened yet; stop still stores a (quiet) final snapshot
      const metricsB = new MetricsService({ database, stats, intervalMs: 2000, now: clock.now });
      await metricsB.start();
      members.set('general', 2);
      const seen: MetricSnapshot[] = [];
      metricsB.onSnapshot((s) => seen.push(s));
      for (let i = 1; i <= 5; i++) {
        for (let m = 0; m < i * 2; m++) metricsB.message('general');
        clock.advance(2000);
        await metricsB.tick();
      }
      expect(seen.map((s) => s.rooms.general.mps)).toEqual([1, 2, 3, 4, 5]);

      const result = await metricsB.query({ from: T0 + 1, to: T0 + 10_000, limit: 100 });
      expect(result.count).toBe(5);
      expect(result.step).toBe(1);
      expect(result.snapshots).toEqual(seen);
      expect(result.snapshots.map((s) => s.ts)).toEqual([2, 4, 6, 8, 10].map((k) => T0 + k * 1000));
      // Both ends are inclusive.
      const middle = await metricsB.query({ from: T0 + 4000, to: T0 + 6000, limit: 100 });
      expect(middle.snapshots.map((s) => s.totals.messages)).toEqual([4, 6]);
      await metricsB.stop();
    });

    it('merges snapshots so a long range fits the limit without losing counts', async () => {
      const clock = fakeClock(T0 + 60_000);
      const metrics = new MetricsService({ database, stats, now: clock.now });
      const from = clock.now();
      for (let i = 0; i < 9; i++) {
        metrics.message('general');
        metrics.join('general');
        clock.advance(1000);
        await metrics.tick();
      }
      const result = await metrics.query({ from, to: clock.now(), limit: 4 });
      expect(result.count).toBe(9);
      expect(result.step).toBe(3);
      expect(result.snapshots).toHaveLength(3);
      expect(result.snapshots.map((s) => s.totals.messages)).toEqual([3, 3, 3]);
      expect(result.snapshots.map((s) => s.rooms.general.joins)).toEqual([3, 3, 3]);
      expect(result.snapshots.every((s) => s.rooms.general.mps === 1 && s.merged === 3)).toBe(true);
    });

    it('writes a range as CSV with the header and one row per snapshot', async () => {
      const clock = fakeClock(T0 + 120_000);
      members.set('dev', 1);
      const metrics = new MetricsService({ database, stats, now: clock.now });
      metrics.message('dev');
      metrics.message('dev');
      clock.advance(2000);
      await metrics.tick();
      let csv = '';
      for await (const chunk of metrics.csv({ from: T0 + 120_000, to: T0 + 130_000 })) csv += chunk;
      const lines = csv.trimEnd().split('\n');
      expect(lines[0]).toBe(
        'timestamp,dev_mps,dev_avg_mps,dev_joins,dev_leaves,dev_members,general_mps,general_avg_mps,general_joins,general_leaves,general_members,total_mps,total_avg_mps,total_messages,connections',
      );
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/^2026-01-05T09:02:02\.000Z,1,1,0,0,1,0,0,0,0,2,1,1,\d+,7$/);
    });

    it('continues the cumulative totals after a restart', async () => {
      const clock = fakeClock(T0 + 200_000);
      const first = new MetricsService({ database, stats, now: clock.now });
      await first.start();
      const before = (await first.store.latest())!.totals.messagesTotal;
      first.message('general');
      first.message('general');
      clock.advance(500);
      await first.stop();
      await database.close();

      database = await open();
      clock.advance(10_000);
      const second = new MetricsService({ database, stats, now: clock.now });
      await second.start();
      second.message('general');
      clock.advance(2000);
      const snapshot = await second.tick();
      expect(snapshot.totals.messagesTotal).toBe(before + 3);
      expect(snapshot.rooms.general.messagesTotal).toBeGreaterThanOrEqual(3);
      await second.stop();
    });

    it('deletes snapshots older than the retention', async () => {
      const clock = fakeClock(T0 + 1_000_000_000);
      const metrics = new MetricsService({ database, stats, now: clock.now, retentionMs: 60_000 });
      const before = await metrics.store.count({ from: 0, to: clock.now() });
      expect(before).toBeGreaterThan(0);
      await metrics.start(); // prunes everything older than a minute
      expect(await metrics.store.count({ from: 0, to: clock.now() })).toBe(0);
      clock.advance(2000);
      await metrics.tick();
      clock.advance(61_000);
      await metrics.tick(); // due again: the first of the two is now too old
      const left = await metrics.query({ from: 0, to: clock.now(), limit: 10 });
      expect(left.snapshots.map((s) => s.ts)).toEqual([clock.now()]);
      await metrics.stop();
      await database.close();
    });

    it('keeps counting and reports an unhealthy store when the database fails', async () => {
      // The database of the previous test is closed now.
      const lines: string[] = [];
      const clock = fakeClock(T0);
      const metrics = new MetricsService({ database, stats, now: clock.now, log: (l) => lines.push(l) });
      metrics.message('general');
      clock.advance(2000);
      const snapshot = await metrics.tick();
      expect(snapshot.rooms.general.messages).toBe(1);
      expect(metrics.storeHealthy).toBe(false);
      expect(lines.some((l) => l.startsWith('error: storing a metrics snapshot failed'))).toBe(true);
    });
  });
}

describe('MetricsService', () => {
  it('rejects a non-positive interval', () => {
    const database = {} as Database;
    expect(() => new MetricsService({ database, stats, intervalMs: 0 })).toThrow(/interval/);
    expect(() => new MetricsService({ database, stats, window: -1 })).toThrow(/window/);
  });
});
