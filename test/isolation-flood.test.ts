/**
 * Isolation under floods (issue: one client must never slow or starve another). A real
 * `teamchat serve` with its production flood control; a canary client measures its ping round
 * trip while another connection writes thousands of commands in one write: `/join` of the current
 * room, `rooms` (TCP and WebSocket), `users`, `/help`, `history`, the team features' `search`,
 * `mark`, `highlights` and `react`, and a `hello` naming 100 rooms with history. Each test prints the canary's figures against its baseline, the flooder's
 * received bytes and the server's RSS.
 *
 * Timing assertions are generous (a slow, shared CI machine): before this change the same floods
 * stalled everyone for 1.8 to 8.7 s and grew the server by gigabytes. Tight figures:
 * `npm run bench -- isolation`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildScene, Canary, FLOODS, latencyStats, rssMb, type Flood, type RawFlooder } from './helpers/flood-kit.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';
import { until } from './helpers/waits.js';

/** How long each flood is watched. */
const WINDOW_MS = 2_000;
/** Canary ping bound while flooded: far above a healthy round trip, far below the old stalls. */
const MAX_CANARY_MS = 1_000;
/** Server growth allowed over all floods (the attacks grew it by 0.4 to 3 GB). */
const MAX_RSS_GROWTH_MB = 96;
/** Bytes per message page of `general` (40 messages of ~8 KB). */
const PAGE = 420 * 1024;

let server: SpawnedServer;
let canary: Canary;
let baseline: number[];
let rssBefore: number;
const keep: { close(): void }[] = [];

async function flood(name: string): Promise<Flood> {
  const start = FLOODS.find((f) => f.name === name)!;
  const flooder = await start.start({ tcp: server.tcpPort, http: server.httpPort });
  keep.push(flooder);
  const figures = latencyStats(await canary.pingFor(WINDOW_MS));
  const base = latencyStats(baseline);
  console.log(
    `[isolation] ${name}: canary ping p50 ${figures.p50} ms, p99 ${figures.p99} ms, max ${figures.max} ms ` +
      `(baseline p50 ${base.p50}, p99 ${base.p99}); flooder received ${(flooder.received / 1024).toFixed(0)} KiB in ${WINDOW_MS} ms; ` +
      `server RSS ${(await rssMb(server.process.pid!)).toFixed(0)} MiB`,
  );
  expect(figures.max).toBeLessThan(MAX_CANARY_MS);
  return flooder;
}

beforeAll(async () => {
  // Production flood control; room creation and connections per address lifted only to build the scene fast.
  server = await spawnServer({
    productionLimits: true,
    args: ['--max-connections-per-ip', '0', '--new-rooms-per-minute', '0', '--new-rooms-per-minute-per-ip', '0'],
  });
  keep.push(...(await buildScene(server.tcpPort)));
  canary = await Canary.connect(server.tcpPort);
  keep.push(canary);
  baseline = await canary.pingFor(1_000);
  rssBefore = await rssMb(server.process.pid!);
  console.log(
    `[isolation] baseline: canary ping ${JSON.stringify(latencyStats(baseline))} ms; server RSS ${rssBefore.toFixed(0)} MiB`,
  );
}, 120_000);

afterAll(async () => {
  for (const k of keep) k.close();
  await server?.cleanup();
});

describe('isolation: one flooding connection does not slow anyone else', () => {
  it('4,000 plain-text /join of the current room in one write (56 KB)', async () => {
    const flooder = await flood('plain /join current x4000');
    // Paid per line: the burst (5) and 2 a second, each a page of ~320 KB, not 4,000 pages (1.6 GB).
    expect(flooder.received).toBeLessThan(12 * PAGE);
  });

  it('2,000 rooms requests in one write', async () => {
    const flooder = await flood('json rooms x2000');
    // 0.5 each: 10 in the burst, then 4 a second; each answer is one page of at most 100 rooms.
    expect(flooder.received).toBeLessThan(30 * 12 * 1024);
  });

  it('1,000 rooms requests over WebSocket, as fast as it can send them', async () => {
    const flooder = await flood('websocket rooms x1000');
    expect(flooder.received).toBeGreaterThan(0);
    expect(flooder.received).toBeLessThan(30 * 12 * 1024);
  });

  it('2,000 users requests in one write', async () => {
    const flooder = await flood('json users x2000');
    expect(flooder.received).toBeLessThan(30 * 2 * 1024);
  });

  it('4,000 plain-text /help in one write', async () => {
    const flooder = await flood('plain /help x4000');
    // 0.25 each: 20 in the burst, then 8 a second; a help text is ~1.5 KB (plus the room's page).
    expect(flooder.received).toBeLessThan(40 * 2 * 1024 + PAGE);
  });

  it('2,000 history requests in one write', async () => {
    const flooder = await flood('json history x2000');
    expect(flooder.received).toBeLessThan(12 * PAGE);
  });

  it('2,000 searches in one write', async () => {
    const flooder = await flood('json search x2000');
    // 2 each: 2 in the burst, then 1 a second; each answer is a page of at most 20 snippets.
    expect(flooder.received).toBeLessThan(6 * 20 * 1024 + PAGE);
  });

  it('4,000 read markers in one write', async () => {
    const flooder = await flood('json mark x4000');
    expect(flooder.received).toBeLessThan(12 * 1024 + PAGE);
  });

  it('2,000 highlight-word changes in one write', async () => {
    const flooder = await flood('json highlights x2000');
    expect(flooder.received).toBeLessThan(12 * 1024);
  });

  it('2,000 reactions in one write, each announced to the room', async () => {
    const flooder = await flood('json react x2000');
    expect(flooder.received).toBeLessThan(12 * 1024 + PAGE);
  });

  it('a hello naming 100 rooms with history, from a client that does not read, then reads', async () => {
    const flooder = (await flood('hello with 100 busy rooms, not reading')) as RawFlooder;
    // It was never cut off as a slow consumer: the server waited for it instead of queueing.
    expect(flooder.socket.destroyed).toBe(false);
    // Once it reads, every room arrives: nothing was dropped to protect the others.
    const lines: string[] = [];
    let rest = '';
    flooder.socket.removeAllListeners('data');
    flooder.socket.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop()!;
      lines.push(...parts);
    });
    flooder.socket.resume();
    const joined = () => lines.filter((l) => l.includes('"type":"joined"')).length;
    await until(() => joined() >= 100, '100 joined frames', {
      timeoutMs: 30_000,
      describe: () => `${joined()} joined`,
    });
    expect(joined()).toBe(100);
  });

  it('kept the server small through every flood', async () => {
    const growth = (await rssMb(server.process.pid!)) - rssBefore;
    console.log(`[isolation] server RSS grew by ${growth.toFixed(0)} MiB over all floods`);
    expect(growth).toBeLessThan(MAX_RSS_GROWTH_MB);
  });
});
