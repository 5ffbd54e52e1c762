/**
 * csvChunks over a real store (PGlite and Postgres): both layouts name the same rooms, the long one
 * holds a row per snapshot and room plus a (total) row, restricted rooms are summed, and snapshots
 * stored by an older server come as their totals.
 */
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { suiteBackends } from '../../../../test/helpers/store-backends.js';
import { openDatabase, type Database } from '../store/database.js';
import { migrate } from '../store/migrator.js';
import { LONG_CSV_COLUMNS, LONG_CSV_HEADER } from './long-csv-rows.js';
import type { MetricSnapshot, RoomSnapshot } from './metric-snapshot.js';
import { csvChunks, type CsvOptions } from './metrics-csv-stream.js';
import { MetricsStore } from './metrics-store.js';

const backends = await suiteBackends('teamchat-metrics-csv-');

const T0 = Date.UTC(2026, 3, 1, 12, 0, 0);

function room(messages: number, members: number, overrides: Partial<RoomSnapshot> = {}): RoomSnapshot {
  return {
    mps: messages / 2,
    avgMps: messages / 2,
    messages,
    messagesTotal: messages,
    joins: 0,
    leaves: 0,
    joinsTotal: 1,
    leavesTotal: 0,
    members,
    ...overrides,
  };
}

function snapshot(i: number, rooms: Record<string, RoomSnapshot>, privateMessages = 0): MetricSnapshot {
  const messages = Object.values(rooms).reduce((n, r) => n + r.messages, 0);
  return {
    ts: T0 + i * 2000,
    intervalMs: 2000,
    v: 2,
    rooms,
    totals: {
      mps: messages / 2,
      avgMps: messages / 2,
      messages,
      messagesTotal: 100 + i,
      privateMessages,
      privateMessagesTotal: 10 + privateMessages,
      joins: 0,
      leaves: 0,
      connections: 5,
      rooms: Object.keys(rooms).length,
    },
  };
}

async function csv(store: MetricsStore, options: CsvOptions): Promise<string> {
  let out = '';
  for await (const chunk of csvChunks(store, { from: T0, to: T0 + 3_600_000 }, options)) out += chunk;
  return out;
}

const rowsOf = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((line) => Object.fromEntries(line.split(',').map((cell, i) => [LONG_CSV_COLUMNS[i], cell])));

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(`csvChunks on ${backend.name}`, () => {
    let database: Database;
    let store: MetricsStore;

    afterAll(async () => {
      await database?.close();
    });

    it('writes the long layout: a row per snapshot and room, then a (total) row with private messages', async () => {
      database = await openDatabase(backend.config());
      await migrate(database);
      await database.kysely.deleteFrom('metric_snapshots').execute();
      store = new MetricsStore(database);
      await store.insert(snapshot(0, { general: room(4, 3), dev: room(1, 1) }, 2));
      await store.insert(snapshot(1, { general: room(2, 3), staff: room(3, 2) }));
      // An older server's snapshot: no `v`, so its rooms are never read.
      await sql`INSERT INTO metric_snapshots (ts, data) VALUES (${new Date(T0 + 4000)}, ${JSON.stringify({
        intervalMs: 2000,
        rooms: { 'old-room': room(9, 9) },
        totals: {
          mps: 4.5,
          avgMps: 4.5,
          messages: 9,
          messagesTotal: 111,
          privateMessages: 0,
          privateMessagesTotal: 12,
          joins: 0,
          leaves: 0,
          connections: 2,
          rooms: 1,
        },
      })}::jsonb)`.execute(database.kysely);

      const text = await csv(store, { format: 'long', isRestricted: (r) => r === 'staff' });
      expect(text.startsWith(LONG_CSV_HEADER)).toBe(true);
      const rows = rowsOf(text);
      expect(rows.map((r) => `${r.ts.slice(17, 19)} ${r.room}`)).toEqual([
        '00 dev',
        '00 general',
        '00 (total)',
        '02 general',
        '02 (private)',
        '02 (total)',
        '04 (total)',
      ]);
      expect(rows[0]).toMatchObject({
        mps: '0.5',
        messages: '1',
        members: '1',
        joins_total: '1',
        rooms: '1',
        connections: '',
      });
      expect(rows[2]).toMatchObject({
        messages: '5',
        messages_total: '100',
        private_messages: '2',
        private_messages_total: '12',
        connections: '5',
        rooms_omitted: '0',
      });
      // A keyed room is never named: it is summed under (private), with how many rooms it sums.
      expect(rows[4]).toMatchObject({ messages: '3', members: '2', rooms: '1' });
      expect(text).not.toContain('staff');
      // The older server's snapshot: its totals, marked, and none of its rooms.
      expect(rows[6]).toMatchObject({ messages_total: '111', private_messages_total: '12', rooms_omitted: '1' });
      expect(text).not.toContain('old-room');
    });

    it('names the same rooms as the wide layout, and sums the rest under (other)', async () => {
      const wide = await csv(store, { maxRooms: 1 });
      expect(wide.split('\n')[0]).toBe(
        'timestamp,general_mps,general_avg_mps,general_joins,general_leaves,general_members,(other)_mps,(other)_avg_mps,(other)_joins,(other)_leaves,(other)_members,total_mps,total_avg_mps,total_messages,connections',
      );
      const long = rowsOf(await csv(store, { format: 'long', maxRooms: 1 }));
      expect(long.filter((r) => r.ts.endsWith(':00.000Z')).map((r) => r.room)).toEqual([
        'general',
        '(other)',
        '(total)',
      ]);
      expect(long.find((r) => r.room === '(other)')).toMatchObject({ messages: '1', rooms: '1' });
      // Every row of the wide layout is a snapshot; so is every (total) row of the long one.
      expect(long.filter((r) => r.room === '(total)')).toHaveLength(wide.trimEnd().split('\n').length - 1);
    });

    it('refuses a range that holds more snapshots than allowed, before the header', async () => {
      await expect(csv(store, { format: 'long', maxSnapshots: 2 })).rejects.toThrow(
        /holds 3 snapshots and one export streams at most 2/,
      );
    });
  });
}
