/**
 * The HTTP app in process, on a real node http.Server and a real PGlite, with a health report and
 * database state the test controls.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsService } from '../metrics/metrics-service.js';
import { openDatabase, type Database } from '../store/database.js';
import { migrate } from '../store/migrator.js';
import { createHttpApp, type HealthReport, type HttpApp } from './http-app.js';

let dir: string;
let database: Database;
let metrics: MetricsService;
let app: HttpApp;
let server: http.Server;
let base: string;
let health: HealthReport = { status: 'ok', db: 'ok', uptimeMs: 1, connections: 0, pendingWrites: 0 };
const logged: string[] = [];
const DEMO_ENDS_AT = Date.UTC(2030, 0, 1);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'teamchat-http-'));
  database = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'data') });
  await migrate(database);
  metrics = new MetricsService({
    database,
    stats: { roomMembers: () => new Map([['general', 1]]), connections: () => 1, isRestricted: () => false },
  });
  metrics.message('general');
  await metrics.tick();
  app = createHttpApp({
    metrics,
    health: () => health,
    info: { name: 'teamchat', version: '9.9.9', startedAt: 1, demoEndsAt: DEMO_ENDS_AT },
    log: (line) => logged.push(line),
  });
  server = http.createServer((req, res) => app.handle(req, res));
  server.on('upgrade', (req, socket, head) => {
    if (!app.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await database?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('createHttpApp', () => {
  it('exposes when the demo ends, for the dashboard countdown', async () => {
    const res = await fetch(`${base}/api/info`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      name: 'teamchat',
      version: '9.9.9',
      demoEndsAt: DEMO_ENDS_AT,
      metrics: { intervalMs: 2000, window: 5 },
    });
  });

  it('answers /healthz with 200 when healthy and 503 when the database is down', async () => {
    const ok = await fetch(`${base}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'ok', db: 'ok', metricsStore: 'ok' });

    health = { ...health, status: 'degraded', db: 'down', pendingWrites: 12 };
    const down = await fetch(`${base}/healthz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'degraded', db: 'down', pendingWrites: 12 });
    health = { ...health, status: 'ok', db: 'ok', pendingWrites: 0 };
  });

  it('answers HEAD for a page without a body', async () => {
    const res = await fetch(`${base}/`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await res.text()).toBe('');
  });

  it('names at most `rooms` rooms and sums the rest under (other)', async () => {
    const all = await (await fetch(`${base}/api/metrics`)).json();
    expect(all.rooms).toBe(20);
    expect(Object.keys(all.snapshots[0].rooms)).toEqual(['general']);
    const none = await (await fetch(`${base}/api/metrics?rooms=0`)).json();
    expect(none.rooms).toBe(0);
    expect(none.snapshots[0].rooms).toEqual({
      '(other)': expect.objectContaining({ messages: 1, members: 1, rooms: 1 }),
    });
    const csv = await (await fetch(`${base}/api/metrics.csv?rooms=0`)).text();
    expect(csv.split('\n')[0]).toBe(
      'timestamp,(other)_mps,(other)_avg_mps,(other)_joins,(other)_leaves,(other)_members,total_mps,total_avg_mps,total_messages,connections',
    );
  });

  it.each([
    ['rooms=abc', 'TC_HTTP_BAD_PARAM', 400, /rooms/],
    ['rooms=201', 'TC_HTTP_BAD_PARAM', 400, /rooms/],
    ['rooms=1&rooms=2', 'TC_HTTP_BAD_PARAM', 400, /more than once/],
    ['limit=10000&rooms=200', 'TC_HTTP_RANGE_TOO_LARGE', 400, /fewer points or rooms/],
  ])('answers %s with a coded error', async (query, code, status, message) => {
    const res = await fetch(`${base}/api/metrics?${query}`);
    expect(res.status).toBe(status);
    const body = await res.json();
    expect(body.error.code).toBe(code);
    expect(body.error.message).toMatch(message);
  });

  it('refuses a range that holds more snapshots than one answer may read, JSON and CSV alike', async () => {
    const small = new MetricsService({
      database,
      stats: { roomMembers: () => new Map(), connections: () => 0, isRestricted: () => false },
      queryLimits: { maxSnapshots: 1, maxCsvSnapshots: 1 },
    });
    await small.tick();
    const smallApp = createHttpApp({
      metrics: small,
      health: () => health,
      info: { name: 'teamchat', version: '9.9.9', startedAt: 1 },
      log: () => {},
    });
    const smallServer = http.createServer((req, res) => smallApp.handle(req, res));
    await new Promise<void>((resolve) => smallServer.listen(0, '127.0.0.1', resolve));
    const smallBase = `http://127.0.0.1:${(smallServer.address() as AddressInfo).port}`;
    try {
      for (const path of ['/api/metrics', '/api/metrics.csv']) {
        const res = await fetch(`${smallBase}${path}`);
        expect(res.status).toBe(400);
        const body = await res.json();
        expect(body.error.code).toBe('TC_HTTP_RANGE_TOO_LARGE');
        expect(body.error.message).toMatch(/holds 2 snapshots .* at most 1: ask for a shorter range/);
      }
      // A range that holds one is answered.
      const latest = small.latest()!.ts;
      expect((await fetch(`${smallBase}/api/metrics?from=${latest}`)).status).toBe(200);
    } finally {
      await smallApp.close();
      smallServer.closeAllConnections();
      await new Promise((resolve) => smallServer.close(resolve));
    }
  });

  it('answers 503 with a code, not 500, when the metrics database fails, and healthz turns 503', async () => {
    await database.close();
    const res = await fetch(`${base}/api/metrics`);
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe('TC_HTTP_DB_UNAVAILABLE');
    const csv = await fetch(`${base}/api/metrics.csv`);
    expect(csv.status).toBe(503);
    await metrics.tick(); // storing fails now
    const healthz = await fetch(`${base}/healthz`);
    expect(healthz.status).toBe(503);
    expect(await healthz.json()).toMatchObject({ status: 'degraded', metricsStore: 'failing' });
    // The counters still answer.
    const prom = await fetch(`${base}/metrics`);
    expect(prom.status).toBe(200);
    expect(await prom.text()).toContain('teamchat_room_messages_total{room="general"} 1');
    expect(logged.some((l) => l.includes('the metrics database failed'))).toBe(true);
  });
});
