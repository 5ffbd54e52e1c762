/**
 * Storage benchmark: group-commit throughput of KyselyMessageStore.writeBatch (batches of 1, 100,
 * 1000 messages, one batch at a time as the batched writer does), the room-history query plan and
 * latency on a table of 1,000,000 messages, and (PGlite) how long queries block the event loop.
 *
 * Run: node --import tsx bench/store-bench.ts [pglite|postgres]...   (default: both)
 * Postgres: TEAMCHAT_TEST_DATABASE_URL, or a throwaway cluster from test/helpers/postgres-cluster.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import {
  KyselyMessageStore,
  migrate,
  openDatabase,
  type Database,
  type NewMessage,
  type StoreConfig,
} from '../packages/server/src/store/index.js';
import { LatencyHistogram } from '../packages/stress/src/latency-histogram.js';
import { startPostgres } from '../test/helpers/postgres-cluster.js';

const BATCHES: [size: number, count: number][] = [
  [1, 400],
  [100, 60],
  [1000, 15],
];
const BIG_TABLE = 1_000_000;
const ROOMS = 100;

function message(i: number): NewMessage {
  return {
    kind: 'room',
    room: `bench-${i % 10}`,
    nick: `user${i % 50}`,
    text: `benchmark message number ${i} with some words in it`,
    action: false,
    ts: Date.now(),
  };
}

async function throughput(store: KyselyMessageStore): Promise<void> {
  let n = 0;
  for (const [size, count] of BATCHES) {
    for (let w = 0; w < 3; w++)
      await store.writeBatch({ messages: Array.from({ length: size }, () => message(n++)), state: [] });
    const start = performance.now();
    for (let b = 0; b < count; b++) {
      await store.writeBatch({ messages: Array.from({ length: size }, () => message(n++)), state: [] });
    }
    const ms = performance.now() - start;
    const rows = size * count;
    console.log(
      `  batch ${String(size).padStart(4)}: ${Math.round((rows / ms) * 1000)
        .toLocaleString('en-US')
        .padStart(9)} rows/s  (${(ms / count).toFixed(2)} ms/batch, ${count} batches)`,
    );
  }
  // A join storm: 1000 memberships (and 100 new rooms) plus 10 messages in one batch.
  const joins = Array.from({ length: 1000 }, (_, i) => ({
    op: 'membership-add' as const,
    nick: `joiner${i}`,
    room: `storm-${i % 100}`,
    ts: Date.now(),
  }));
  const start = performance.now();
  await store.writeBatch({ messages: Array.from({ length: 10 }, () => message(n++)), state: joins });
  console.log(`  batch of 1000 joins + 10 messages: ${(performance.now() - start).toFixed(1)} ms`);
}

async function bigTable(database: Database, store: KyselyMessageStore): Promise<void> {
  const db = database.kysely;
  const start = performance.now();
  await sql`
    INSERT INTO messages (room, sender, recipient, text, action, created_at)
    SELECT 'big-' || (g % ${ROOMS}), 'user' || (g % 500), NULL, 'filler message ' || g, false, now()
    FROM generate_series(1, ${BIG_TABLE}) g`.execute(db);
  await sql`
    INSERT INTO messages (room, sender, recipient, text, action, created_at)
    SELECT NULL, 'user' || (g % 500), 'user' || ((g * 7) % 500), 'private filler ' || g, false, now()
    FROM generate_series(1, ${BIG_TABLE / 20}) g`.execute(db);
  await sql`INSERT INTO rooms (name, created_at) SELECT 'big-' || g, now() FROM generate_series(0, ${ROOMS - 1}) g`.execute(
    db,
  );
  await sql`ANALYZE messages`.execute(db);
  console.log(
    `  filled ${BIG_TABLE.toLocaleString('en-US')} room messages + ${(BIG_TABLE / 20).toLocaleString('en-US')} private messages in ${((performance.now() - start) / 1000).toFixed(1)} s`,
  );
  // The exact statement roomHistory(room, { limit: 50 }) sends (Kysely output).
  const plan = await sql<{ 'QUERY PLAN': string }>`
    EXPLAIN (ANALYZE, COSTS OFF)
    select "id", "room", "sender", "recipient", "text", "action", "created_at" from "messages"
    where "room" = ${'big-7'} order by "id" desc limit ${50}`.execute(db);
  console.log('  EXPLAIN latest 50 of one room:');
  for (const row of plan.rows) console.log(`    ${row['QUERY PLAN']}`);
  for (const [label, query] of [
    [
      'all private messages of one nick, latest 50',
      sql`select * from ((select "id", "room", "sender", "recipient", "text", "action", "created_at" from "messages" where "recipient" is not null and "sender_key" = ${'user7'} order by "id" desc limit ${50})
          union all (select "id", "room", "sender", "recipient", "text", "action", "created_at" from "messages" where "recipient" is not null and "recipient_key" = ${'user7'} and "sender_key" <> ${'user7'} order by "id" desc limit ${50})) pm
          order by id desc limit ${50}`,
    ],
    [
      'loadSnapshot(50) (LATERAL over rooms)',
      sql`SELECT m.id FROM rooms r CROSS JOIN LATERAL (SELECT id, room FROM messages WHERE messages.room = r.name ORDER BY id DESC LIMIT ${50}) m ORDER BY m.room, m.id`,
    ],
  ] as const) {
    const explained = await sql<{ 'QUERY PLAN': string }>`EXPLAIN (ANALYZE, COSTS OFF) ${query}`.execute(db);
    console.log(`  EXPLAIN ${label}:`);
    for (const row of explained.rows) console.log(`    ${row['QUERY PLAN']}`);
  }
  const times = new LatencyHistogram();
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    const page = await store.roomHistory(`big-${i % ROOMS}`, { limit: 50 });
    times.recordMs(performance.now() - t);
    if (page.length !== 50) throw new Error('expected a full page');
  }
  const { p50, max } = times.summaryMs(2);
  console.log(`  roomHistory latest 50 (1M rows): median ${p50.toFixed(2)} ms, max ${max.toFixed(2)} ms`);
  const t = performance.now();
  const snap = await store.loadSnapshot(50);
  console.log(
    `  loadSnapshot(50) over ${snap.rooms.length} rooms: ${snap.recent.length} messages in ${(performance.now() - t).toFixed(1)} ms`,
  );
}

/** The longest stall of the event loop while `work` runs: the biggest gap between two turns. */
async function blocking(label: string, work: () => Promise<unknown>): Promise<void> {
  let last = performance.now();
  let longest = 0;
  let running = true;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const start = performance.now();
  await work();
  const total = performance.now() - start;
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  running = false;
  console.log(`  ${label}: took ${total.toFixed(1)} ms, longest event-loop stall ${longest.toFixed(1)} ms`);
}

async function run(kind: 'pglite' | 'postgres'): Promise<void> {
  let config: StoreConfig;
  let cleanup: () => Promise<void>;
  if (kind === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'teamchat-bench-'));
    config = { kind: 'pglite', dataDir: join(dir, 'data') };
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const pg = await startPostgres();
    if ('skip' in pg) {
      console.log(`postgres: skipped (${pg.skip})`);
      return;
    }
    config = { kind: 'postgres', url: pg.url };
    cleanup = () => pg.stop();
  }
  const database = await openDatabase(config);
  try {
    await migrate(database);
    const store = new KyselyMessageStore(database);
    console.log(`${database.description}`);
    await throughput(store);
    if (kind === 'pglite') {
      const batch = { messages: Array.from({ length: 1000 }, (_, i) => message(i)), state: [] };
      await blocking('writeBatch of 1000 (event loop)', () => store.writeBatch(batch));
      await blocking('roomHistory latest 50 (event loop)', () => store.roomHistory('bench-3', { limit: 50 }));
    }
    await bigTable(database, store);
    if (kind === 'pglite') {
      await blocking('roomHistory latest 50 on 1M rows (event loop)', () => store.roomHistory('big-3', { limit: 50 }));
      await blocking('loadSnapshot(50) on 1M rows (event loop)', () => store.loadSnapshot(50));
    }
  } finally {
    await database.close();
    await cleanup();
  }
}

const which = process.argv.slice(2).filter((a): a is 'pglite' | 'postgres' => a === 'pglite' || a === 'postgres');
for (const kind of which.length ? which : (['pglite', 'postgres'] as const)) await run(kind);
