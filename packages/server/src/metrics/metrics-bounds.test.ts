/**
 * MetricsService with 10,000 rooms, on PGlite and Postgres: what it stores, answers, exports and
 * exposes stays bounded, restricted rooms are never named, and snapshots stored by an older server
 * (every room ever created in each) are answered from their totals without reading their rooms.
 */
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { suiteBackends } from '../../../../test/helpers/store-backends.js';
import { openDatabase, type Database } from '../store/database.js';
import { migrate } from '../store/migrator.js';
import type { ChatStats } from './chat-events.js';
import { DEFAULT_MAX_ROOMS } from './metrics-counters.js';
import { MetricsQueryError } from './metrics-query.js';
import { MetricsService } from './metrics-service.js';
import { OTHER_ROOMS, PRIVATE_ROOMS } from './room-labels.js';

const backends = await suiteBackends('teamchat-metrics-bounds-');

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const ROOMS = 10_000;
/** One keyed room in 200: 50 of them. */
const KEYED = (i: number) => i % 200 === 0;
const roomName = (i: number) => (KEYED(i) ? `keyed-${i}` : `room-${i}`);

/** A server that holds 10,000 rooms: nobody in them, except three busy ones. */
function manyRooms(): { stats: ChatStats; members: Map<string, number>; restricted: Set<string> } {
  const members = new Map<string, number>();
  const restricted = new Set<string>();
  for (let i = 0; i < ROOMS; i++) {
    members.set(roomName(i), 0);
    if (KEYED(i)) restricted.add(roomName(i));
  }
  for (const room of ['general', 'dev', 'random']) members.set(room, 3);
  return {
    members,
    restricted,
    stats: {
      roomMembers: () => new Map(members),
      connections: () => 12,
      isRestricted: (room) => members.has(room) && restricted.has(room),
    },
  };
}

const bytes = (value: unknown) => Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value));

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(
    `MetricsService with ${ROOMS.toLocaleString('en')} rooms on ${backend.name}`,
    () => {
      let database: Database;

      afterAll(async () => {
        await database?.close();
      });

      it('stores, answers, exports and exposes bounded snapshots that never name a keyed room', async () => {
        database = await openDatabase(backend.config());
        await migrate(database);
        await database.kysely.deleteFrom('metric_snapshots').execute();
        const { stats } = manyRooms();
        let now = T0;
        const metrics = new MetricsService({
          database,
          stats,
          intervalMs: 2000,
          activeWindowMs: 20_000,
          now: () => now,
        });
        // Every room is created (join, leave) in the first interval; then only three rooms chat.
        for (let i = 0; i < ROOMS; i++) {
          metrics.join(roomName(i));
          metrics.leave(roomName(i));
        }
        const stored = [];
        for (let tick = 0; tick < 30; tick++) {
          for (const room of ['general', 'dev', 'random']) for (let m = 0; m <= tick % 4; m++) metrics.message(room);
          if (tick % 10 === 0) metrics.message(roomName(200)); // a keyed room, active now and then
          now += 2000;
          stored.push(await metrics.tick());
        }
        const first = stored[0];
        const sizes = stored.map(bytes);
        console.log(
          `${backend.name}: snapshot with ${ROOMS} rooms active: ${sizes[0]} bytes; quiet afterwards: ${sizes[sizes.length - 1]} bytes`,
        );
        expect(Object.keys(first.rooms)).toHaveLength(DEFAULT_MAX_ROOMS + 2);
        expect(sizes[0]).toBeLessThan(64 * 1024);
        expect(first.rooms[PRIVATE_ROOMS]).toMatchObject({ rooms: 50, joins: 50, leaves: 50 });
        expect(first.totals).toMatchObject({ joins: ROOMS, leaves: ROOMS, rooms: ROOMS + 3 });
        for (const s of stored) expect(JSON.stringify(s)).not.toMatch(/keyed-/);

        const started = performance.now();
        const answer = await metrics.query({ from: T0, to: now, limit: 2000 });
        const queryMs = performance.now() - started;
        console.log(
          `${backend.name}: /api/metrics of ${answer.count} snapshots: ${bytes(answer)} bytes in ${queryMs.toFixed(0)} ms`,
        );
        expect(answer.count).toBe(30);
        // 20 rooms by default: the three busy ones first, and the rest summed.
        for (const s of answer.snapshots) expect(Object.keys(s.rooms).length).toBeLessThanOrEqual(22);
        // 20 s after they were made, the quiet rooms are gone; the keyed one was active 18 s ago.
        expect(Object.keys(stored[stored.length - 1].rooms)).toEqual(['dev', 'general', 'random', PRIVATE_ROOMS]);
        expect(Object.keys(answer.snapshots[answer.snapshots.length - 1].rooms)).toEqual([
          'dev',
          'general',
          'random',
          PRIVATE_ROOMS,
        ]);
        // The first snapshot named 200 of the new rooms (2 joins and leaves each beat 1 message): the
        // busy three were inside its (other), and stay there in this point.
        expect(answer.snapshots[0].rooms[OTHER_ROOMS]).toMatchObject({
          joins: ROOMS - 50 - 17,
          rooms: ROOMS - 50 - 17 + 3,
        });
        expect(JSON.stringify(answer)).not.toMatch(/keyed-/);
        // Counts are never lost: per point, rooms and aggregates add up to the totals.
        for (const s of answer.snapshots) {
          expect(Object.values(s.rooms).reduce((n, r) => n + r.messages, 0)).toBe(s.totals.messages);
          expect(Object.values(s.rooms).reduce((n, r) => n + r.joins, 0)).toBe(s.totals.joins);
        }
        const merged = await metrics.query({ from: T0, to: now, limit: 4, rooms: 1 });
        expect(merged.snapshots).toHaveLength(4);
        expect(merged.snapshots.reduce((n, s) => n + s.totals.messages, 0)).toBe(
          stored.reduce((n, s) => n + s.totals.messages, 0),
        );
        expect(Object.keys(merged.snapshots[3].rooms)).toEqual(expect.arrayContaining([OTHER_ROOMS, PRIVATE_ROOMS]));

        let csv = '';
        for await (const chunk of metrics.csv({ from: T0, to: now })) csv += chunk;
        const header = csv.slice(0, csv.indexOf('\n')).split(',');
        console.log(`${backend.name}: CSV of 30 snapshots: ${bytes(csv)} bytes, ${header.length} columns`);
        expect(header.length).toBeLessThanOrEqual(1 + (DEFAULT_MAX_ROOMS + 2) * 5 + 4);
        expect(header).toContain(`${OTHER_ROOMS}_mps`);
        expect(header).toContain(`${PRIVATE_ROOMS}_mps`);
        expect(csv).not.toMatch(/keyed-/);

        const text = metrics.prometheus();
        console.log(`${backend.name}: /metrics: ${bytes(text)} bytes`);
        expect(bytes(text)).toBeLessThan(128 * 1024);
        expect(text).not.toMatch(/keyed-/);
      });

      it('refuses a range that holds more than its limits, before reading it', async () => {
        const { stats } = manyRooms();
        const metrics = new MetricsService({ database, stats, queryLimits: { maxSnapshots: 10 } });
        const refused = await metrics.query({ from: T0, to: T0 + 3_600_000, limit: 100 }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(MetricsQueryError);
        expect(refused).toMatchObject({
          code: 'TC_METRICS_TOO_LARGE',
          message: expect.stringMatching(/holds 30 snapshots .* at most 10/),
        });
        const small = new MetricsService({ database, stats, queryLimits: { maxScanBytes: 1000 } });
        await expect(small.query({ from: T0, to: T0 + 3_600_000, limit: 100 })).rejects.toThrow(/MiB of snapshots/);
        const csv = new MetricsService({ database, stats, queryLimits: { maxCsvSnapshots: 10 } }).csv({
          from: T0,
          to: T0 + 3_600_000,
        });
        await expect(csv.next()).rejects.toThrow(/one export streams at most 10/);
        // A range within the limits is answered.
        expect((await metrics.query({ from: T0, to: T0 + 10_000, limit: 100 })).count).toBe(5);
      });

      it('answers snapshots stored by an older server from their totals, without reading their rooms', async () => {
        const { stats } = manyRooms();
        const from = T0 + 86_400_000;
        // 40 snapshots as an older server stored them: all 10,000 rooms in each, keyed ones by name.
        await sql`
        INSERT INTO metric_snapshots (ts, data)
        SELECT ${new Date(from)}::timestamptz + g * interval '2 seconds',
          jsonb_build_object('intervalMs', 2000,
            'totals', jsonb_build_object('mps', 0.5, 'avgMps', 0.5, 'messages', 1, 'messagesTotal', 100 + g, 'privateMessages', 0,
              'privateMessagesTotal', 0, 'joins', 0, 'leaves', 0, 'connections', 1, 'rooms', ${ROOMS}::int),
            'rooms', t.rooms)
        FROM generate_series(1, 40) g,
          (SELECT jsonb_object_agg(CASE WHEN i % 200 = 0 THEN 'keyed-' ELSE 'room-' END || i,
             jsonb_build_object('mps', 0, 'avgMps', 0, 'messages', 0, 'messagesTotal', i % 7, 'joins', 0, 'leaves', 0,
               'joinsTotal', 1, 'leavesTotal', 1, 'members', 0)) AS rooms
           FROM generate_series(0, ${ROOMS - 1}::int) i) t`.execute(database.kysely);
        // And one small one that names a keyed room.
        await sql`INSERT INTO metric_snapshots (ts, data) VALUES (${new Date(from + 90_000)},
        ${JSON.stringify({ intervalMs: 2000, rooms: { 'keyed-0': { mps: 1, avgMps: 1, messages: 2, messagesTotal: 2, joins: 0, leaves: 0, joinsTotal: 0, leavesTotal: 0, members: 1 } }, totals: { mps: 1, avgMps: 1, messages: 2, messagesTotal: 142, privateMessages: 0, privateMessagesTotal: 0, joins: 0, leaves: 0, connections: 1, rooms: 1 } })}::jsonb)`.execute(
          database.kysely,
        );
        const metrics = new MetricsService({ database, stats });
        const started = performance.now();
        const answer = await metrics.query({ from, to: from + 100_000, limit: 3000 });
        const ms = performance.now() - started;
        console.log(
          `${backend.name}: 41 old snapshots (${ROOMS} rooms each): ${bytes(answer)} bytes in ${ms.toFixed(0)} ms`,
        );
        expect(answer.count).toBe(41);
        expect(answer.snapshots).toHaveLength(41);
        expect(answer.snapshots.every((s) => s.roomsOmitted === true && Object.keys(s.rooms).length === 0)).toBe(true);
        expect(answer.snapshots.map((s) => s.totals.messagesTotal).slice(-2)).toEqual([140, 142]);
        expect(bytes(answer)).toBeLessThan(64 * 1024);
        expect(ms).toBeLessThan(5_000);

        let csv = '';
        for await (const chunk of metrics.csv({ from, to: from + 100_000 })) csv += chunk;
        expect(csv.split('\n')[0]).toBe('timestamp,total_mps,total_avg_mps,total_messages,connections');
        expect(csv).not.toMatch(/keyed-|room-/);
        // Restarting on such a database seeds the totals but publishes nothing of the old snapshot.
        const restarted = new MetricsService({ database, stats, now: () => from + 100_000 });
        await restarted.start();
        expect(restarted.latest()).toBeUndefined();
        expect(restarted.prometheus()).not.toMatch(/keyed-|room-/);
        expect(restarted.prometheus()).toMatch(/^teamchat_messages_total 142$/m);
        await restarted.stop();
        await database.kysely
          .deleteFrom('metric_snapshots')
          .where('ts', '>', new Date(from + 50_000))
          .execute();
      });
    },
  );
}
