/**
 * The metrics HTTP endpoints of a real `teamchat serve` process, fed by real TCP clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { MetricSnapshot } from '@teamchat/server';
import { JsonClient } from './helpers/chat-clients.js';
import { waitForSnapshots as waitForStoredSnapshots } from './helpers/metrics.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';
import { until } from './helpers/waits.js';
import { wsText } from './helpers/ws-text.js';

let server: SpawnedServer;
const clients: JsonClient[] = [];

type Snapshot = MetricSnapshot;

async function getJson(path: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** Polls /api/metrics until `done` accepts the snapshots (snapshots come every 200 ms). */
function waitForSnapshots(done: (snapshots: Snapshot[]) => boolean, query = ''): Promise<Snapshot[]> {
  return waitForStoredSnapshots(server.url, done, query);
}

beforeAll(async () => {
  server = await spawnServer({ args: ['--metrics-interval', '200ms', '--metrics-window', '3'] });
  const alice = await JsonClient.connect(server.tcpPort);
  const bob = await JsonClient.connect(server.tcpPort);
  clients.push(alice, bob);
  await alice.hello('alice');
  await bob.hello('bob');
  await alice.join('general');
  await bob.join('general');
  await alice.join('ops');
  for (let i = 0; i < 5; i++) alice.send({ type: 'msg', room: 'general', text: `hello ${i}`, ref: `g${i}` });
  bob.send({ type: 'msg', room: 'general', text: 'hi alice', ref: 'b1' });
  alice.send({ type: 'msg', room: 'ops', text: 'deploy at 5', ref: 'o1' });
  bob.send({ type: 'pm', to: 'alice', text: 'a secret', ref: 'p1' });
  await alice.next('ack', (f) => f.ref === 'g4');
  await alice.next('ack', (f) => f.ref === 'o1');
  await bob.next('ack', (f) => f.ref === 'p1');
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.cleanup();
});

describe('GET /api/metrics', () => {
  it('returns stored snapshots with per-room counts of the messages sent over TCP', async () => {
    const snapshots = await waitForSnapshots((s) => s.some((x) => x.totals.messagesTotal >= 7));
    const latest = snapshots[snapshots.length - 1];
    expect(latest.rooms.general).toMatchObject({ messagesTotal: 6, joinsTotal: 2, members: 2 });
    expect(latest.rooms.ops).toMatchObject({ messagesTotal: 1, joinsTotal: 1, members: 1 });
    expect(latest.totals).toMatchObject({ messagesTotal: 7, connections: 2, rooms: 2 });
    // The interval with the burst shows a positive instant rate; counts add up across intervals.
    const sent = snapshots.reduce((sum, s) => sum + (s.rooms.general?.messages ?? 0), 0);
    expect(sent).toBe(6);
    const burst = snapshots.find((s) => (s.rooms.general?.messages ?? 0) > 0)!;
    expect(burst.rooms.general.mps).toBeCloseTo((burst.rooms.general.messages * 1000) / burst.intervalMs, 2);
    expect(snapshots.reduce((sum, s) => sum + s.totals.privateMessages, 0)).toBe(1);
    // Oldest first, one snapshot per interval.
    for (let i = 1; i < snapshots.length; i++) expect(snapshots[i].ts).toBeGreaterThan(snapshots[i - 1].ts);
  });

  it('never stores message text', async () => {
    const res = await fetch(`${server.url}/api/metrics`);
    const text = await res.text();
    expect(text).toContain('general');
    expect(text).not.toContain('hello 0');
    expect(text).not.toContain('a secret');
  });

  it('limits the answer to a time range and a number of points', async () => {
    const all = await waitForSnapshots((s) => s.length >= 6);
    const middle = all[Math.floor(all.length / 2)];
    const { body } = await getJson(`/api/metrics?from=${new Date(middle.ts).toISOString()}&to=${middle.ts}`);
    expect(body.snapshots.map((s: Snapshot) => s.ts)).toEqual([middle.ts]);

    const limited = await getJson(`/api/metrics?limit=2&to=${all[all.length - 1].ts}`);
    expect(limited.status).toBe(200);
    expect(limited.body.snapshots).toHaveLength(2);
    expect(limited.body.step).toBeGreaterThan(1);
    const merged = limited.body.snapshots as Snapshot[];
    // Merging keeps the counts: the two points still hold all 7 room messages.
    expect(merged.reduce((sum, s) => sum + s.totals.messages, 0)).toBe(7);
  });

  it.each([
    ['from=yesterday', 'TC_HTTP_BAD_PARAM', /from/],
    ['to=2026-13-45', 'TC_HTTP_BAD_PARAM', /to/],
    ['from=2026-11-24T10:00:00Z&to=2026-11-24T09:00:00Z', 'TC_HTTP_BAD_RANGE', /after/],
    ['limit=0', 'TC_HTTP_BAD_PARAM', /limit/],
    ['limit=abc', 'TC_HTTP_BAD_PARAM', /limit/],
    ['limit=100001', 'TC_HTTP_BAD_PARAM', /limit/],
    ['from=1&from=2', 'TC_HTTP_BAD_PARAM', /more than once/],
    ['rooms=-1', 'TC_HTTP_BAD_PARAM', /rooms/],
    ['limit=10000&rooms=200', 'TC_HTTP_RANGE_TOO_LARGE', /fewer points or rooms/],
  ])('answers 400 with a coded message for %s', async (query, code, message) => {
    const { status, body } = await getJson(`/api/metrics?${query}`);
    expect(status).toBe(400);
    expect(body.error.code).toBe(code);
    expect(body.error.message).toMatch(message);
  });
});

describe('GET /api/metrics.csv', () => {
  it('returns the same snapshots as CSV with the agreed header', async () => {
    await waitForSnapshots((s) => s.some((x) => x.totals.messagesTotal >= 7));
    const res = await fetch(`${server.url}/api/metrics.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).trimEnd().split('\n');
    expect(lines[0]).toBe(
      'timestamp,general_mps,general_avg_mps,general_joins,general_leaves,general_members,ops_mps,ops_avg_mps,ops_joins,ops_leaves,ops_members,total_mps,total_avg_mps,total_messages,connections',
    );
    expect(lines.length).toBeGreaterThan(2);
    const last = lines[lines.length - 1].split(',');
    expect(last[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(last[5]).toBe('2'); // general_members
    expect(last[13]).toBe('7'); // total_messages
    expect(last[14]).toBe('2'); // connections
  });

  it('rejects a bad range with 400, not a half-sent file', async () => {
    const res = await fetch(`${server.url}/api/metrics.csv?from=soon`);
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('TC_HTTP_BAD_PARAM');
  });
});

describe('GET /metrics', () => {
  it('exposes the current counters in the Prometheus text format', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE teamchat_room_messages_total counter');
    expect(text).toMatch(/^teamchat_room_messages_total\{room="general"\} 6$/m);
    expect(text).toMatch(/^teamchat_room_messages_total\{room="ops"\} 1$/m);
    expect(text).toMatch(/^teamchat_room_members\{room="general"\} 2$/m);
    expect(text).toMatch(/^teamchat_private_messages_total 1$/m);
    expect(text).toMatch(/^teamchat_connections 2$/m);
    expect(text).toMatch(/^teamchat_rooms 2$/m);
    // The 8 messages (6 + 1 in rooms, 1 private), each acknowledged after its delivery: all timed.
    expect(text).toContain('# TYPE teamchat_message_delivery_seconds histogram');
    expect(text).toMatch(/^teamchat_message_delivery_seconds_count 8$/m);
    expect(text).toMatch(/^teamchat_message_delivery_seconds_bucket\{le="\+Inf"\} 8$/m);
    // Every sample line is `name{labels} number`.
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-z_]+(\{(room|le)="[^"]*"\})? -?[0-9.e+]+$/);
    }
  });
});

describe('GET /healthz and /api/info', () => {
  it('reports liveness and the database state', async () => {
    const { status, body } = await getJson('/healthz');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', db: 'ok', metricsStore: 'ok', connections: 2 });
    expect(typeof body.lastSnapshotAt).toBe('string');
  });

  it('describes the server and its metrics settings', async () => {
    const { status, body } = await getJson('/api/info');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      name: 'teamchat',
      metrics: { intervalMs: 200, window: 3, retentionMs: 7 * 86_400_000 },
    });
    expect(body.demoEndsAt).toBeUndefined();
    expect(Math.abs(body.now - Date.now())).toBeLessThan(60_000);
  });
});

describe('other requests', () => {
  it('answers an unknown path with 404 and a code', async () => {
    const { status, body } = await getJson('/api/nope');
    expect(status).toBe(404);
    expect(body.error.code).toBe('TC_HTTP_NOT_FOUND');
  });

  it('answers a POST with 405', async () => {
    const res = await fetch(`${server.url}/api/metrics`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect((await res.json()).error.code).toBe('TC_HTTP_METHOD');
  });

  it('serves the dashboard page and its chart libraries from the server itself', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('vendor/chart.umd.min.js');
    expect(html).not.toMatch(/https?:\/\//);
    const chart = await fetch(`${server.url}/vendor/chart.umd.min.js`);
    expect(chart.status).toBe(200);
    expect(await chart.text()).toContain('Chart');
  });
});

describe('the live feed on /api/live', () => {
  it('pushes each new snapshot as it is taken, with the new room', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/api/live`);
    const messages: any[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(wsText(data))));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    try {
      await until(() => messages.some((m) => m.type === 'hello'), "the live feed's hello");
      expect(messages[0]).toMatchObject({ type: 'hello', metrics: { intervalMs: 200 } });

      const carol = await JsonClient.connect(server.tcpPort);
      clients.push(carol);
      await carol.hello('carol');
      await carol.join('live-room');
      carol.send({ type: 'msg', room: 'live-room', text: 'ping', ref: 'l1' });
      await carol.next('ack', (f) => f.ref === 'l1');
      await until(
        () => messages.some((m) => m.type === 'snapshot' && m.snapshot.rooms['live-room']?.messagesTotal === 1),
        'a snapshot with live-room',
        {
          describe: () => `${messages.length} messages`,
        },
      );
      const snapshots = messages.filter((m) => m.type === 'snapshot').map((m) => m.snapshot as Snapshot);
      expect(snapshots.length).toBeGreaterThan(0);
      for (let i = 1; i < snapshots.length; i++) expect(snapshots[i].ts).toBeGreaterThan(snapshots[i - 1].ts);
    } finally {
      ws.close();
    }
  });

  it('refuses a WebSocket upgrade on another path', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/api/nope`);
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('error', () => resolve('error'));
    });
    expect(outcome).toBe('error');
  });
});

describe('across a restart', () => {
  it('keeps the stored snapshots and continues the totals', async () => {
    const before = await waitForSnapshots((s) => s.some((x) => x.rooms['live-room'] !== undefined));
    const lastBefore = before[before.length - 1];
    for (const c of clients.splice(0)) c.close();
    await server.restart();
    const dave = await JsonClient.connect(server.tcpPort);
    clients.push(dave);
    await dave.hello('dave');
    await dave.join('general');
    dave.send({ type: 'msg', room: 'general', text: 'back again', ref: 'd1' });
    await dave.next('ack', (f) => f.ref === 'd1');
    const after = await waitForSnapshots((s) =>
      s.some((x) => x.ts > lastBefore.ts && x.rooms.general?.messagesTotal === 7),
    );
    expect(after.some((s) => s.ts === lastBefore.ts)).toBe(true);
    expect(after[after.length - 1].totals.messagesTotal).toBe(9); // 7 + live-room's 1 + dave's 1
  });
});
