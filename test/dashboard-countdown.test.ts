/**
 * The demo countdown on the dashboard, in real Chromium: `teamchat demo` sets `demoEndsAt`; the
 * page shows the time left and counts down.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../packages/server/src/http/http-app.js';
import { MetricsService } from '../packages/server/src/metrics/metrics-service.js';
import { openDatabase, type Database } from '../packages/server/src/store/database.js';
import { migrate } from '../packages/server/src/store/migrator.js';

const CHROMIUM = '/usr/bin/chromium';
let dir: string;
let database: Database;
let metrics: MetricsService;
let app: HttpApp;
let server: http.Server;
let browser: Browser;
let base: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt install chromium)`);
  dir = mkdtempSync(join(tmpdir(), 'teamchat-countdown-'));
  database = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'data') });
  await migrate(database);
  metrics = new MetricsService({
    database,
    stats: { roomMembers: () => new Map(), connections: () => 0, isRestricted: () => false },
    intervalMs: 500,
  });
  app = createHttpApp({
    metrics,
    health: () => ({ status: 'ok', db: 'ok', uptimeMs: 0, connections: 0, pendingWrites: 0 }),
    // 2 minutes 30 seconds from now.
    info: { name: 'teamchat', version: 'test', startedAt: Date.now(), demoEndsAt: Date.now() + 150_000 },
    log: () => {},
  });
  server = http.createServer((req, res) => app.handle(req, res));
  server.on('upgrade', (req, socket, head) => {
    if (!app.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await metrics.start();
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await metrics?.stop();
  await app?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await database?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard during a demo', () => {
  it('shows the time left and counts it down', async () => {
    const page = await browser.newPage();
    await page.goto(base + '/');
    await page.waitForFunction(() => !document.querySelector<HTMLElement>('#demo')!.hidden, null, { timeout: 15_000 });
    const first = (await page.textContent('#demo-left'))!;
    expect(first).toMatch(/^02:(2\d|30)$/);
    const seconds = (t: string) => Number(t.split(':')[0]) * 60 + Number(t.split(':')[1]);
    await page.waitForFunction(
      (start) => {
        const t = document.querySelector('#demo-left')?.textContent ?? '';
        const left = Number(t.split(':')[0]) * 60 + Number(t.split(':')[1]);
        return left < start;
      },
      seconds(first),
      { timeout: 10_000 },
    );
    expect(seconds((await page.textContent('#demo-left'))!)).toBeLessThan(seconds(first));
    await page.close();
  });
});
