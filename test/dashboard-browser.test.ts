/**
 * The metrics dashboard in real Chromium (Debian's /usr/bin/chromium driven by playwright-core)
 * against a real `teamchat serve`, with chat traffic from real TCP clients.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import type { MetricSnapshot } from '@teamchat/server';
import { waitForSnapshots } from './helpers/metrics.js';
import { REPO_ROOT, spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO_ROOT, 'test/artifacts');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

let server: SpawnedServer;
let browser: Browser;
let page: Page;
const clients: JsonClient[] = [];
const problems: string[] = [];
let traffic: NodeJS.Timeout | undefined;
let historyUntil = 0;

async function client(nick: string, rooms: string[]): Promise<JsonClient> {
  const c = await JsonClient.connect(server.tcpPort);
  clients.push(c);
  await c.hello(nick);
  for (const room of rooms) await c.join(room);
  return c;
}

/** Points (x = time, y = msg/s) of a room's instant line in the messages-per-second chart. */
function roomPoints(room: string): Promise<{ x: number; y: number | null }[] | null> {
  return page.evaluate((name) => {
    const chart = (window as any).Chart.getChart('chart-mps');
    const ds = chart?.data.datasets.find((d: any) => d.label === name);
    return ds ? ds.data : null;
  }, room);
}

function localInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

beforeAll(async () => {
  // CI installs chromium; a missing browser is a failure, never a silent skip.
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt install chromium)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await spawnServer({ args: ['--metrics-interval', '250ms', '--metrics-window', '4'] });

  // Stored history from before the page opens.
  const alice = await client('alice', ['general', 'dev']);
  const bob = await client('bob', ['general', 'random']);
  const carol = await client('carol', ['general', 'dev', 'random']);
  for (let i = 0; i < 12; i++) alice.send({ type: 'msg', room: 'general', text: `warm-up ${i}`, ref: `w${i}` });
  await alice.next('ack', (f) => f.ref === 'w11');
  const warm = (s: MetricSnapshot) => s.totals.messagesTotal >= 12;
  historyUntil = (await waitForSnapshots(server.url, (snapshots) => snapshots.some(warm))).find(warm)!.ts;
  // Gentle background chatter so the charts move (about 12 messages/s over three rooms).
  let n = 0;
  traffic = setInterval(() => {
    n++;
    alice.send({ type: 'msg', room: n % 3 === 0 ? 'dev' : 'general', text: `a${n}` });
    bob.send({ type: 'msg', room: n % 2 === 0 ? 'random' : 'general', text: `b${n}` });
    if (n % 2 === 0) carol.send({ type: 'msg', room: 'dev', text: `c${n}` });
  }, 250);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, acceptDownloads: true });
  page = await context.newPage();
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  await page.goto(server.url + '/');
});

afterAll(async () => {
  if (traffic) clearInterval(traffic);
  for (const c of clients) c.close();
  await browser?.close();
  await server?.cleanup();
});

describe('the dashboard in Chromium', () => {
  it('loads every asset from the server with no failed request', async () => {
    await page.waitForFunction(() => document.querySelector('#status-text')?.textContent === 'live', null, {
      timeout: 20_000,
    });
    expect(await page.title()).toBe('teamchat · live metrics');
    expect(await page.evaluate(() => typeof (window as any).Chart)).toBe('function');
    expect(problems).toEqual([]);
  });

  it('shows the stored history from before the page opened', async () => {
    await page.waitForFunction(
      () => (window as any).Chart.getChart('chart-mps')?.data.datasets.some((d: any) => d.label === 'general'),
      null,
      {
        timeout: 15_000,
      },
    );
    const general = (await roomPoints('general'))!;
    const old = general.filter((p) => p.x <= historyUntil && (p.y ?? 0) > 0);
    expect(old.length).toBeGreaterThan(0);
    const total = Number((await page.textContent('#total-messages'))!.replace(/,/g, ''));
    expect(total).toBeGreaterThanOrEqual(12);
  });

  it('shows a message sent through TCP in the live chart, in a room created after the page loaded', async () => {
    const dave = await client('dave', ['late-room']);
    for (let i = 0; i < 5; i++) dave.send({ type: 'msg', room: 'late-room', text: `late ${i}`, ref: `l${i}` });
    await dave.next('ack', (f) => f.ref === 'l4');
    await page.waitForFunction(
      () => {
        const chart = (window as any).Chart.getChart('chart-mps');
        const ds = chart?.data.datasets.find((d: any) => d.label === 'late-room');
        return ds?.data.some((p: any) => p.y > 0);
      },
      null,
      { timeout: 15_000 },
    );
    // The room has its legend entry, its row in the room table and its bar.
    expect(await page.textContent('#room-table')).toContain('late-room');
    const barRooms = await page.evaluate(() => (window as any).Chart.getChart('chart-joins').data.labels);
    expect(barRooms).toContain('late-room');
    // Instant (solid) and moving average (dashed) lines share the room's colour.
    const styles = await page.evaluate(() =>
      (window as any).Chart.getChart('chart-mps')
        .data.datasets.filter((d: any) => d.room === 'late-room')
        .map((d: any) => ({ dash: d.borderDash ?? [], color: d.borderColor })),
    );
    expect(styles).toHaveLength(2);
    expect(styles[0].dash).toEqual([]);
    expect(styles[1].dash.length).toBeGreaterThan(0);
    await page.waitForTimeout(1500); // a few more live points for the picture
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png') });
  });

  it('downloads what is on screen as CSV with the agreed header', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    expect(download.suggestedFilename()).toMatch(/^teamchat-metrics-.*\.csv$/);
    const file = await download.path();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const header = lines[0].split(',');
    expect(header[0]).toBe('timestamp');
    expect(header.slice(-4)).toEqual(['total_mps', 'total_avg_mps', 'total_messages', 'connections']);
    for (const room of ['dev', 'general', 'late-room', 'random']) {
      const i = header.indexOf(`${room}_mps`);
      expect(header.slice(i, i + 5)).toEqual([
        `${room}_mps`,
        `${room}_avg_mps`,
        `${room}_joins`,
        `${room}_leaves`,
        `${room}_members`,
      ]);
    }
    // Rooms are sorted; every row has every column.
    const rooms = header
      .filter((h) => h.endsWith('_avg_mps') && h !== 'total_avg_mps')
      .map((h) => h.slice(0, -'_avg_mps'.length));
    expect(rooms).toEqual([...rooms].sort());
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines.slice(1)) expect(line.split(',')).toHaveLength(header.length);
    // The same header as the server's CSV of the same snapshots.
    const serverCsv = await (
      await fetch(`${server.url}/api/metrics.csv?from=${Date.parse(lines[1].split(',')[0])}`)
    ).text();
    expect(serverCsv.split('\n')[0]).toBe(lines[0]);
  });

  it('replays a stored time range as an animation, with pause and speed', async () => {
    const to = Date.now();
    const from = to - 8_000;
    await page.fill('#replay-from', localInput(from));
    await page.fill('#replay-to', localInput(to));
    await page.selectOption('#replay-speed', '1');
    await page.click('#replay-play');
    // Frames appear one by one: wait until a few are on screen.
    await page.waitForFunction(
      () =>
        /^Playing · 1× · .* · ([3-9]|\d\d+)\/\d+ snapshots/.test(
          document.querySelector('#replay-status')?.textContent ?? '',
        ),
      null,
      {
        timeout: 15_000,
      },
    );
    expect(await page.textContent('#status-text')).toBe('replay');
    await page.click('#replay-play'); // pause
    const paused = (await page.textContent('#replay-status'))!;
    expect(paused).toMatch(/^Paused/);
    const [shown, loaded] = /(\d+)\/(\d+) snapshots/.exec(paused)!.slice(1).map(Number) as [number, number];
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThan(loaded);
    await page.waitForTimeout(600);
    expect(await page.textContent('#replay-status')).toBe(paused); // nothing moves while paused
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-replay.png') });

    await page.selectOption('#replay-speed', '60');
    await page.click('#replay-play'); // resume, faster
    await page.waitForFunction(
      () => /^Finished/.test(document.querySelector('#replay-status')?.textContent ?? ''),
      null,
      { timeout: 15_000 },
    );
    const x = await page.evaluate(() => {
      const scale = (window as any).Chart.getChart('chart-mps').scales.x;
      return { min: scale.min, max: scale.max };
    });
    expect(x.min).toBeGreaterThanOrEqual(from - 1000);
    expect(x.max).toBeLessThanOrEqual(to + 1000);
    const general = (await roomPoints('general'))!;
    expect(general.filter((p) => p.y !== null).length).toBeGreaterThan(3);

    await page.click('#replay-stop');
    expect(await page.textContent('#status-text')).toBe('live');
  });

  it('zooms, and resets the zoom', async () => {
    const before = await page.evaluate(() => (window as any).Chart.getChart('chart-mps').scales.x.min);
    await page.evaluate(() => (window as any).Chart.getChart('chart-mps').zoom(2));
    const zoomed = await page.evaluate(() => {
      const c = (window as any).Chart.getChart('chart-mps');
      return { zoomed: c.isZoomedOrPanned(), min: c.scales.x.min };
    });
    expect(zoomed.zoomed).toBe(true);
    expect(zoomed.min).toBeGreaterThan(before);
    await page.click('#reset-zoom');
    expect(await page.evaluate(() => (window as any).Chart.getChart('chart-mps').isZoomedOrPanned())).toBe(false);
  });

  it('reconnects after the server restarts and keeps updating', async () => {
    const requestProblems = problems.length;
    for (const c of clients.splice(0)) c.close();
    if (traffic) clearInterval(traffic);
    await server.restart();
    await page.waitForFunction(() => document.querySelector('#status-text')?.textContent === 'live', null, {
      timeout: 60_000,
    });
    const erin = await client('erin', ['after-restart']);
    erin.send({ type: 'msg', room: 'after-restart', text: 'back', ref: 'e1' });
    await erin.next('ack', (f) => f.ref === 'e1');
    await page.waitForFunction(
      () =>
        (window as any).Chart.getChart('chart-mps')
          ?.data.datasets.find((d: any) => d.label === 'after-restart')
          ?.data.some((p: any) => p.y > 0),
      null,
      { timeout: 15_000 },
    );
    // While the server was down the page's reconnect attempts fail; nothing else may.
    expect(
      problems.slice(requestProblems).filter((p) => !/api\/live|ERR_CONNECTION_REFUSED|WebSocket/.test(p)),
    ).toEqual([]);
  });
});
