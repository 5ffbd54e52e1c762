/**
 * Metrics stay bounded with many rooms, against a real `teamchat serve` process: a client creates
 * 2,000 rooms, one room is keyed, and the database already holds what an older server stored (15
 * minutes of snapshots carrying 10,000 rooms each, and 120,000 small snapshots from two days ago).
 * Snapshots, the live feed, `/metrics`, `/api/metrics` and the CSV stay bounded, the keyed room is
 * never named, and a range too large to read is refused with a code. Measured figures are printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { MetricSnapshot } from '@teamchat/server';
import { openDatabase } from '../packages/server/src/store/database.js';
import { migrate } from '../packages/server/src/store/migrator.js';
import { JsonClient } from './helpers/chat-clients.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';
import { until } from './helpers/waits.js';
import { wsText } from './helpers/ws-text.js';

const ROOMS = 2_000;
const SPAMMERS = 4;
const KEYED = 'hushvault';
const OLD_ROOMS = 10_000;
const DAY = 86_400_000;

let server: SpawnedServer;
let dataDir: string;
let seededAt: number;
const clients: JsonClient[] = [];

/** Everything the live feed sent after the key was set. */
const live: { bytes: number; snapshot?: MetricSnapshot; raw: string }[] = [];
let liveSocket: WebSocket | undefined;
let liveOpenedAt = 0;

function figure(line: string): void {
  console.log(`[metrics-many-rooms] ${line}`);
}

async function timed(url: string): Promise<{ status: number; ms: number; bytes: number; text: string }> {
  const started = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, ms: Math.round(performance.now() - started), bytes: Buffer.byteLength(text), text };
}

/** The request the dashboard makes first: the last 15 minutes, 3000 points, 20 rooms. */
function dashboardFirstRequest(): string {
  const now = Date.now();
  return `${server.url}/api/metrics?from=${now - 15 * 60_000}&to=${now + 60_000}&limit=3000&rooms=20`;
}

/** Waits until `done` holds for what the live feed sent (woken by each message, no fixed sleeps). */
function untilLive(done: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (done()) return resolve();
    const timer = setTimeout(() => {
      liveSocket?.off('message', check);
      reject(new Error(`timed out waiting for ${what}; last: ${live.at(-1)?.raw.slice(0, 300)}`));
    }, timeoutMs);
    const check = () => {
      if (!done()) return;
      clearTimeout(timer);
      liveSocket?.off('message', check);
      resolve();
    };
    liveSocket!.on('message', check);
  });
}

/** Polls `/metrics` (one request per snapshot interval at most) until `done` accepts the text. */
async function untilPrometheus(done: (text: string) => boolean, timeoutMs = 30_000): Promise<string> {
  let last = '';
  return until(
    async () => {
      last = await (await fetch(`${server.url}/metrics`)).text();
      return done(last) ? last : undefined;
    },
    '/metrics to match',
    { timeoutMs, everyMs: 250, describe: () => last.slice(0, 2000) },
  );
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'teamchat-many-rooms-'));
  seededAt = Date.now();
  const database = await openDatabase({ kind: 'pglite', dataDir });
  try {
    await migrate(database);
    const started = performance.now();
    // 15 minutes of 2 s snapshots as an older server stored them: every room ever created (10,000),
    // keyed ones by name, in each. One is built, the others copy it.
    await sql`
      INSERT INTO metric_snapshots (ts, data)
      SELECT ${new Date(seededAt - 15 * 60_000)}::timestamptz,
        jsonb_build_object('intervalMs', 2000,
          'totals', jsonb_build_object('mps', 0, 'avgMps', 0, 'messages', 0, 'messagesTotal', 500, 'privateMessages', 0,
            'privateMessagesTotal', 0, 'joins', 0, 'leaves', 0, 'connections', 1, 'rooms', ${OLD_ROOMS}::int),
          'rooms', (SELECT jsonb_object_agg(CASE WHEN i = 0 THEN ${KEYED}::text ELSE 'old-room-' || i END,
            jsonb_build_object('mps', 0, 'avgMps', 0, 'messages', 0, 'messagesTotal', i % 7, 'joins', 0, 'leaves', 0,
              'joinsTotal', 1, 'leavesTotal', 1, 'members', 0))
            FROM generate_series(0, ${OLD_ROOMS - 1}::int) i))`.execute(database.kysely);
    await sql`
      INSERT INTO metric_snapshots (ts, data)
      SELECT ${new Date(seededAt - 15 * 60_000)}::timestamptz + g * interval '2 seconds', (SELECT data FROM metric_snapshots ORDER BY id LIMIT 1)
      FROM generate_series(1, 449) g`.execute(database.kysely);
    // 120,000 small snapshots two days ago: more than one answer may read.
    await sql`
      INSERT INTO metric_snapshots (ts, data)
      SELECT ${new Date(seededAt - 2 * DAY)}::timestamptz + g * interval '100 milliseconds',
        jsonb_build_object('intervalMs', 100, 'v', 2,
          'totals', jsonb_build_object('mps', 10, 'avgMps', 10, 'messages', 1, 'messagesTotal', g, 'privateMessages', 0,
            'privateMessagesTotal', 0, 'joins', 0, 'leaves', 0, 'connections', 1, 'rooms', 1),
          'rooms', jsonb_build_object('general', jsonb_build_object('mps', 10, 'avgMps', 10, 'messages', 1, 'messagesTotal', g,
            'joins', 0, 'leaves', 0, 'joinsTotal', 1, 'leavesTotal', 0, 'members', 1)))
      FROM generate_series(1, 120000) g`.execute(database.kysely);
    const size = await sql<{
      n: string;
      bytes: string;
    }>`SELECT count(*) AS n, sum(pg_column_size(data)) AS bytes FROM metric_snapshots`.execute(database.kysely);
    figure(
      `seeded an old database: ${size.rows[0].n} snapshots, ${Math.round(Number(size.rows[0].bytes) / 1e6)} MB stored, 450 of them with ${OLD_ROOMS} rooms (${Math.round(performance.now() - started)} ms)`,
    );
  } finally {
    await database.close();
  }
  server = await spawnServer({ dataDir, args: ['--metrics-interval', '250ms'] });
}, 180_000);

afterAll(async () => {
  liveSocket?.terminate();
  for (const c of clients) c.close();
  await server?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('metrics with many rooms', () => {
  it("answers the dashboard's first request within 2 s on a database of old 10,000-room snapshots", async () => {
    const first = await timed(dashboardFirstRequest());
    figure(
      `dashboard's first /api/metrics on the old database: HTTP ${first.status}, ${first.bytes} bytes, ${first.ms} ms`,
    );
    expect(first.status).toBe(200);
    expect(first.ms).toBeLessThan(2_000);
    const body = JSON.parse(first.text) as { count: number; snapshots: MetricSnapshot[] };
    // Nearly all 450 old snapshots are in the last 15 minutes (seeding took a few seconds).
    expect(body.count).toBeGreaterThanOrEqual(400);
    // The old snapshots are answered from their totals; their rooms are not read.
    expect(body.snapshots.filter((s) => s.roomsOmitted).length).toBeGreaterThanOrEqual(400);
    expect(first.text.includes('old-room-')).toBe(false);
    expect(first.text.includes(KEYED)).toBe(false);
    expect(first.bytes).toBeLessThan(1_000_000);
  });

  it('keeps every snapshot and the live feed bounded while 2,000 rooms are created, and never names the keyed room', async () => {
    // A keyed room: it is named nowhere once its key is set; its counts go to (private).
    const owner = await JsonClient.connect(server.tcpPort);
    clients.push(owner);
    await owner.hello('owner');
    // Room modes need a registered nick.
    owner.send({ type: 'register', password: 'correct horse battery staple', ref: 'r1' });
    await owner.next('registered', (f) => f.ref === 'r1');
    await owner.join(KEYED);
    owner.send({ type: 'mode', room: KEYED, key: 'sesame', ref: 'k1' });
    await owner.next('mode', (f) => f.ref === 'k1');
    for (let i = 0; i < 5; i++) owner.send({ type: 'msg', room: KEYED, text: `secret ${i}`, ref: `s${i}` });
    await owner.next('ack', (f) => f.ref === 's4');
    // A snapshot taken after the key was set sums the room under (private).
    await untilPrometheus((text) => /^teamchat_room_messages_total\{room="\(private\)"\} 5$/m.test(text));

    liveSocket = new WebSocket(`ws://127.0.0.1:${server.httpPort}/api/live`);
    liveSocket.on('message', (data) => {
      const raw = wsText(data);
      const msg = JSON.parse(raw) as { type: string; snapshot?: MetricSnapshot };
      live.push({
        bytes: Buffer.byteLength(raw),
        raw,
        ...(msg.type === 'snapshot' ? { snapshot: msg.snapshot! } : {}),
      });
    });
    await new Promise((resolve, reject) => {
      liveSocket!.once('open', resolve);
      liveSocket!.once('error', reject);
    });
    liveOpenedAt = Date.now();

    // Clients create 2,000 rooms (join, then part: a hostile client's pattern), pipelined.
    const started = performance.now();
    const spammers = await Promise.all(Array.from({ length: SPAMMERS }, () => JsonClient.connect(server.tcpPort)));
    clients.push(...spammers);
    await Promise.all(spammers.map((c, i) => c.hello(`spammer${i}`)));
    await Promise.all(
      spammers.map(async (c, s) => {
        const per = ROOMS / SPAMMERS;
        for (let i = 0; i < per; i++) {
          const room = `spam-${s}-${i}`;
          c.send({ type: 'join', room });
          c.send({ type: 'part', room, ref: `p${i}` });
        }
        await c.next('parted', (f) => f.ref === `p${per - 1}`, 45_000);
      }),
    );
    figure(`created ${ROOMS} rooms over ${SPAMMERS} connections in ${Math.round(performance.now() - started)} ms`);

    await untilLive(() => live.some((m) => (m.snapshot?.totals.rooms ?? 0) >= ROOMS), `a snapshot with ${ROOMS} rooms`);
    // And one more interval, so the feed has carried a few full snapshots.
    const seen = live.length;
    await untilLive(() => live.length >= seen + 4, 'four more snapshots');

    const snapshots = live.filter((m) => m.snapshot);
    const largest = Math.max(...snapshots.map((m) => m.bytes));
    const seconds = (Date.now() - liveOpenedAt) / 1000;
    const total = live.reduce((n, m) => n + m.bytes, 0);
    const busiest = snapshots.reduce((a, b) =>
      (b.snapshot!.totals.rooms ?? 0) > (a.snapshot!.totals.rooms ?? 0) ? b : a,
    );
    figure(
      `live feed: ${snapshots.length} snapshots, largest ${largest} bytes (${busiest.snapshot!.totals.rooms} rooms, ${Object.keys(busiest.snapshot!.rooms).length} keys), ${Math.round(total / seconds)} bytes/s to one dashboard`,
    );
    expect(largest).toBeLessThan(64 * 1024);
    for (const m of snapshots) expect(Object.keys(m.snapshot!.rooms).length).toBeLessThanOrEqual(202);
    expect(busiest.snapshot!.rooms['(other)'].rooms).toBeGreaterThanOrEqual(ROOMS - 200);
    for (const m of live) expect(m.raw.includes(KEYED)).toBe(false);
    // The keyed room is counted: its 5 messages and its owner are in (private).
    expect(busiest.snapshot!.rooms['(private)']).toMatchObject({ members: 1, messagesTotal: 5 });
  });

  it('keeps /api/metrics, the CSV and /metrics bounded, fast and free of the keyed name', async () => {
    // Creating 2,000 rooms queued as many writes (rooms, memberships) for the one database; a
    // message is acknowledged once stored, with every state write queued before it. The dashboard's
    // request is measured after them, not behind them.
    const settle = performance.now();
    const chatter = clients[clients.length - 1];
    await chatter.join('lobby');
    chatter.send({ type: 'msg', room: 'lobby', text: 'hello', ref: 'settle' });
    await chatter.next('ack', (f) => f.ref === 'settle', 60_000);
    figure(`the server stored the writes of the room creations in ${Math.round(performance.now() - settle)} ms more`);
    const first = await timed(dashboardFirstRequest());
    figure(
      `dashboard's first /api/metrics with ${ROOMS} rooms created: HTTP ${first.status}, ${first.bytes} bytes, ${first.ms} ms`,
    );
    expect(first.status).toBe(200);
    expect(first.ms).toBeLessThan(2_000);
    expect(first.bytes).toBeLessThan(5_000_000);
    expect(first.text.includes(KEYED)).toBe(false);
    const body = JSON.parse(first.text) as { snapshots: MetricSnapshot[] };
    for (const s of body.snapshots) expect(Object.keys(s.rooms).length).toBeLessThanOrEqual(22);
    expect(body.snapshots.some((s) => (s.rooms['(private)']?.messages ?? 0) > 0)).toBe(true);

    const from = liveOpenedAt - 60_000;
    const wide = await timed(`${server.url}/api/metrics?from=${from}&rooms=200&limit=400`);
    figure(`/api/metrics, 200 rooms, 400 points: HTTP ${wide.status}, ${wide.bytes} bytes, ${wide.ms} ms`);
    expect(wide.status).toBe(200);
    expect(wide.bytes).toBeLessThan(20_000_000);
    expect(wide.text.includes(KEYED)).toBe(false);

    const csv = await timed(`${server.url}/api/metrics.csv?from=${seededAt - 15 * 60_000}`);
    const header = csv.text.slice(0, csv.text.indexOf('\n')).split(',');
    figure(
      `/api/metrics.csv of the last minutes: HTTP ${csv.status}, ${csv.bytes} bytes, ${header.length} columns, ${csv.ms} ms`,
    );
    expect(csv.status).toBe(200);
    expect(header.length).toBeLessThanOrEqual(1 + 202 * 5 + 4);
    expect(header).toContain('(private)_mps');
    expect(csv.text.includes(KEYED)).toBe(false);

    const prometheus = await timed(`${server.url}/metrics`);
    figure(`/metrics: ${prometheus.bytes} bytes, ${prometheus.ms} ms`);
    expect(prometheus.status).toBe(200);
    expect(prometheus.bytes).toBeLessThan(128 * 1024);
    expect(prometheus.text.includes(KEYED)).toBe(false);
    expect(prometheus.text).toMatch(/^teamchat_room_messages_total\{room="\(private\)"\} 5$/m);
  });

  it('refuses too large a range with a coded 400, quickly', async () => {
    const twoDaysAgo = seededAt - 2 * DAY;
    const tooLarge = await timed(
      `${server.url}/api/metrics?from=${twoDaysAgo - 3_600_000}&to=${twoDaysAgo + 4 * 3_600_000}`,
    );
    figure(
      `/api/metrics over 120,000 stored snapshots: HTTP ${tooLarge.status} in ${tooLarge.ms} ms: ${tooLarge.text}`,
    );
    expect(tooLarge.status).toBe(400);
    expect(JSON.parse(tooLarge.text).error).toMatchObject({
      code: 'TC_HTTP_RANGE_TOO_LARGE',
      message: expect.stringMatching(/shorter range/),
    });
    expect(tooLarge.ms).toBeLessThan(5_000);

    const everything = await timed(`${server.url}/api/metrics`);
    expect(everything.status).toBe(400);
    expect(JSON.parse(everything.text).error.code).toBe('TC_HTTP_RANGE_TOO_LARGE');

    const tooMany = await timed(`${server.url}/api/metrics?limit=10000&rooms=200`);
    expect(tooMany.status).toBe(400);
    expect(JSON.parse(tooMany.text).error.code).toBe('TC_HTTP_RANGE_TOO_LARGE');
    // A part of that range is answered.
    const part = await timed(`${server.url}/api/metrics?from=${twoDaysAgo}&to=${twoDaysAgo + 600_000}&limit=500`);
    figure(`/api/metrics over 6,000 of them: HTTP ${part.status}, ${part.bytes} bytes, ${part.ms} ms`);
    expect(part.status).toBe(200);
    expect(JSON.parse(part.text).step).toBe(12);
  });
});
