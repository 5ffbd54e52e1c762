/**
 * `npm run bench`: measures teamchat with a fresh `teamchat serve` process per scenario and the
 * stress tool as the client, and writes each result as JSON under bench/results/.
 *
 *   npm run bench -- [fanout] [connections] [history] [persistence] [isolation] [footprint] [report] [--profile] [--quick] [--idle-minutes=N]
 *   npm run bench -- fanout-vs-inspircd [--clients=N] [--duration=S] [--rates=8,12]   (not in the default set)
 *   npm run bench -- search [--search-rows=N] [--search-big=N] [--search-stores=pglite,postgres]   (not in the default set)
 *
 * - fanout: 1,000 clients in 10 rooms of 100, each sending 1, 4 and 8 msgs/s for 10 s.
 * - fanout-vs-inspircd: the same shape at 8 and 12 msgs/s, driven by ../shared/bench/chatload.mjs,
 *   against InspIRCd and teamchat (PGlite, Postgres); see bench/fanout-vs-inspircd.ts.
 * - cluster (not in the default set): 3 nodes, one Postgres, one NATS; same-node and cross-node
 *   delivery latency (bench/cluster-bench.ts).
 * - search (not in the default set): MessageSearch latency on 1,000,000 messages (PGlite and
 *   Postgres) and 10,000,000 (Postgres), and the search indexes' insert cost (bench/search-bench.ts).
 * - connections: 10,000 idle registered connections; server RSS per connection.
 * - history: latest page and deep pages of one room in a table of 1,000,000 messages, over the
 *   protocol, on PGlite and on a real Postgres server (throwaway cluster or TEAMCHAT_TEST_DATABASE_URL).
 * - persistence: 1,000 clients in 500 rooms of 2 sending 8 msgs/s: the store's sustained rate.
 * - footprint: `teamchat --help` time; `serve` on a fresh data folder and again on it (restart),
 *   each until its ready line, and its RSS then and after an idle period
 *   default 10 (`--idle-minutes=N`); `--quick` 1); PGlite and, when a Postgres server can be started, Postgres.
 * - isolation: with production flood control, a canary's ping round trip while one connection
 *   floods (`/join` of the current room, rooms, users, `/help`, history, a hello naming 100 rooms),
 *   against its baseline; and the server's RSS growth.
 * `--profile` runs the server of the 8 msgs/s fan-out under `node --cpu-prof` and prints the
 * functions that dominate. `--quick` shrinks everything (for trying the script, not for figures;
 * it leaves BENCHMARKS.md alone). `report` only rewrites the BENCHMARKS.md tables from bench/results/.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { ChatClient } from '@teamchat/client-core';
import { encodeFrame, PROTOCOL_VERSION } from '@teamchat/protocol';
import { LatencyHistogram, runStress, type StressReport } from '../packages/stress/src/index.js';
import { migrate, openDatabase, type StoreConfig } from '../packages/server/src/store/index.js';
import { buildScene, Canary, FLOODS } from '../test/helpers/flood-kit.js';
import { startPostgres } from '../test/helpers/postgres-cluster.js';
import { spawnServer } from '../test/helpers/spawn-server.js';
import { tmuxInstalled } from '../test/helpers/tmux.js';
import { timeTuiStart, type TuiStartTimes } from '../test/helpers/tui-start.js';
import { clusterBench } from './cluster-bench.js';
import { fanoutVsInspircd } from './fanout-vs-inspircd.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results');
const BIN = path.join(ROOT, 'bin', 'teamchat');

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const PROFILE = argv.includes('--profile');
const chosen = argv.filter((a) => !a.startsWith('--'));
const IDLE_MINUTES = Number(argv.find((a) => a.startsWith('--idle-minutes='))?.split('=')[1] ?? 10);
const SCENARIOS = chosen.length
  ? chosen
  : ['fanout', 'connections', 'history', 'persistence', 'isolation', 'footprint'];

const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  memoryGb: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
};

// ---------- the server under test ----------

/** Benchmarks measure the server, not its abuse limits: one address opens every connection and sends at full rate. */
const BENCH_LIMITS = ['--no-flood-control', '--max-connections-per-ip', '0'];

interface ServerProcess {
  pid: number;
  tcpPort: number;
  httpPort: number;
  ircPort?: number;
  stop(): Promise<void>;
}

/**
 * `teamchat serve` through the tests' one spawner (test/helpers/spawn-server.ts), with the server's
 * own limits and then `limits` on top; `cpuProfDir` runs it under `node --cpu-prof`.
 */
async function startServer(
  store: { dataDir?: string; databaseUrl?: string },
  cpuProfDir?: string,
  limits: string[] = BENCH_LIMITS,
): Promise<ServerProcess> {
  const server = await spawnServer({
    ...store,
    productionLimits: true,
    // The IRC gateway on a free port: the fan-out comparison drives it with chatload too.
    args: [...limits, '--irc-port', '0'],
    nodeFlags: cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [],
    // A load run logs every connection: keep the tail, enough to say why a server failed.
    maxOutputChars: 64 * 1024,
  });
  return {
    pid: server.process.pid!,
    tcpPort: server.tcpPort,
    httpPort: server.httpPort,
    ...(server.ircPort !== undefined ? { ircPort: server.ircPort } : {}),
    stop: async () => void (await server.stop()),
  };
}

/** RSS, peak RSS (MB) and CPU seconds of a process, from /proc. */
function procStats(pid: number): { rssMb: number; hwmMb: number; cpuSec: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, cpuSec: ticks / 100 };
}

function save(name: string, result: object): void {
  mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${name}.json`);
  // Load average at the end: other work on the machine skews every figure, so it is recorded.
  const loadavg = os.loadavg().map((l) => Math.round(l * 100) / 100);
  writeFileSync(
    file,
    JSON.stringify({ date: new Date().toISOString(), machine: { ...machine, loadavg }, ...result }, null, 2) + '\n',
  );
  console.log(`  -> ${path.relative(ROOT, file)}`);
}

function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `teamchat-bench-${prefix}-`));
}

// ---------- footprint ----------

/** Median wall time (ms) of `teamchat <args>` run `n` times. */
async function timeCommand(args: string[], n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: 'ignore' });
    await new Promise((r) => child.once('exit', r));
    times.push(performance.now() - t0);
  }
  return Math.round(LatencyHistogram.ofMs(times).summaryMs().p50);
}

/**
 * How long a server is left alone before its memory counts as idle: the server gives back what
 * start-up grew after two quiet 5 s windows (packages/server/src/runtime/idle-collector.ts).
 */
const SETTLE_MS = 30_000;

/**
 * Starts `serve` and measures until its ready line; RSS at ready + 5 s, settled (ready + 30 s) and
 * after a further `idleMs`.
 */
async function serveFootprint(
  store: { dataDir?: string; databaseUrl?: string },
  idleMs: number,
): Promise<{ readyMs: number; rssMb: number; settledRssMb: number; idleRssMb: number }> {
  const t0 = performance.now();
  const server = await startServer(store, undefined, []);
  const readyMs = Math.round(performance.now() - t0);
  try {
    await sleep(5_000);
    const rssMb = Math.round(procStats(server.pid).rssMb);
    await sleep(SETTLE_MS - 5_000);
    const settledRssMb = Math.round(procStats(server.pid).rssMb);
    await sleep(idleMs);
    return { readyMs, rssMb, settledRssMb, idleRssMb: Math.round(procStats(server.pid).rssMb) };
  } finally {
    await server.stop();
  }
}

/**
 * `teamchat connect` from the command to a connected screen (test/helpers/tui-start.ts), median of
 * 5, against a server on `dataDir`; skipped without tmux.
 */
async function tuiStart(dataDir: string, home: string): Promise<TuiStartTimes | { skipped: string }> {
  if (!tmuxInstalled()) {
    console.log('  TUI start: skipped (no tmux)');
    return { skipped: 'tmux is not installed' };
  }
  mkdirSync(home, { recursive: true });
  const server = await startServer({ dataDir }, undefined, []);
  try {
    const times = await timeTuiStart({ tcpPort: server.tcpPort, home, runs: 5 });
    console.log(
      `  TUI start: connected status ${times.connectedMs} ms, full UI ${times.fullMs} ms (median of 5: ${times.runs.map((r) => `${r.connectedMs}/${r.fullMs}`).join(', ')} ms)`,
    );
    return times;
  } finally {
    await server.stop();
  }
}

/** Starts (and restarts) measured by `footprint`, each on a fresh folder. */
const FOOTPRINT_RUNS = 3;

async function footprint(idleMs: number): Promise<void> {
  const help = await timeCommand(['--help'], 5);
  console.log(`  teamchat --help: ${help} ms (median of 5)`);
  const dir = tempDir('footprint');
  const results: Record<string, unknown> = {};
  try {
    // Three fresh folders, each started and restarted: one start is too noisy a figure on a shared
    // machine (0.3-0.6 s apart here). The medians are reported; the idle period runs on the first.
    const firsts: Awaited<ReturnType<typeof serveFootprint>>[] = [];
    const restarts: Awaited<ReturnType<typeof serveFootprint>>[] = [];
    for (let run = 0; run < FOOTPRINT_RUNS; run++) {
      const dataDir = path.join(dir, `data${run}`);
      firsts.push(await serveFootprint({ dataDir }, run === 0 ? idleMs : 0));
      restarts.push(await serveFootprint({ dataDir }, 0));
    }
    const median = (xs: number[]) => Math.round(LatencyHistogram.ofMs(xs).summaryMs().p50);
    const summary = (runs: typeof firsts) => ({
      readyMs: median(runs.map((r) => r.readyMs)),
      rssMb: median(runs.map((r) => r.rssMb)),
      settledRssMb: median(runs.map((r) => r.settledRssMb)),
      runs: runs.map(({ readyMs, rssMb, settledRssMb }) => ({ readyMs, rssMb, settledRssMb })),
    });
    const first = { ...summary(firsts), idleRssMb: firsts[0].idleRssMb };
    const restart = summary(restarts);
    console.log(
      `  pglite first start: ready in ${first.readyMs} ms, RSS ${first.rssMb} MB at 5 s, ${first.settledRssMb} MB at 30 s (medians of ${FOOTPRINT_RUNS}: ${firsts.map((r) => `${r.readyMs} ms/${r.rssMb}/${r.settledRssMb} MB`).join(', ')}), after ${idleMs / 60_000} min idle ${first.idleRssMb} MB; restart: ready in ${restart.readyMs} ms, RSS ${restart.rssMb} MB at 5 s, ${restart.settledRssMb} MB at 30 s`,
    );
    results.pglite = { first, restart };
    results.tui = await tuiStart(path.join(dir, 'data0'), path.join(dir, 'tui-home'));
    const pg = await startPostgres();
    if ('skip' in pg) results.postgres = { skipped: pg.skip };
    else {
      try {
        const onPostgres = await serveFootprint({ databaseUrl: pg.url }, 0);
        console.log(
          `  postgres: ready in ${onPostgres.readyMs} ms, RSS ${onPostgres.rssMb} MB at 5 s, ${onPostgres.settledRssMb} MB at 30 s`,
        );
        results.postgres = onPostgres;
      } finally {
        await pg.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  save('footprint', {
    scenario: 'footprint',
    command: 'npm run bench -- footprint',
    idleMinutes: idleMs / 60_000,
    helpMs: help,
    results,
  });
}

// ---------- isolation ----------

/**
 * One server with its production flood control (only the connection and room-creation limits
 * lifted to build the scene); each flood on a new connection, watched for `windowMs` by the canary.
 */
async function isolation(windowMs: number): Promise<void> {
  const dataDir = tempDir('isolation');
  const server = await startServer({ dataDir }, undefined, [
    '--max-connections-per-ip',
    '0',
    '--new-rooms-per-minute',
    '0',
    '--new-rooms-per-minute-per-ip',
    '0',
  ]);
  const open: { close(): void }[] = [];
  try {
    open.push(...(await buildScene(server.tcpPort)));
    const canary = await Canary.connect(server.tcpPort);
    open.push(canary);
    const latencyStats = (samples: number[]) => LatencyHistogram.ofMs(samples).summaryMs(1);
    const baseline = latencyStats(await canary.pingFor(windowMs));
    const rssBefore = procStats(server.pid).rssMb;
    console.log(
      `  baseline: canary ping p50 ${baseline.p50} ms, p99 ${baseline.p99} ms; server RSS ${rssBefore.toFixed(0)} MB`,
    );
    const floods: Array<{
      name: string;
      canary: ReturnType<typeof latencyStats>;
      p50DeltaMs: number;
      p99DeltaMs: number;
      flooderKb: number;
      rssMb: number;
    }> = [];
    for (const flood of FLOODS) {
      const flooder = await flood.start({ tcp: server.tcpPort, http: server.httpPort });
      open.push(flooder);
      const figures = latencyStats(await canary.pingFor(windowMs));
      const row = {
        name: flood.name,
        canary: figures,
        p50DeltaMs: Math.round((figures.p50 - baseline.p50) * 10) / 10,
        p99DeltaMs: Math.round((figures.p99 - baseline.p99) * 10) / 10,
        flooderKb: Math.round(flooder.received / 1024),
        rssMb: Math.round(procStats(server.pid).rssMb),
      };
      floods.push(row);
      console.log(
        `  ${flood.name}: canary p50 ${figures.p50} ms (${row.p50DeltaMs >= 0 ? '+' : ''}${row.p50DeltaMs}), p99 ${figures.p99} ms (${row.p99DeltaMs >= 0 ? '+' : ''}${row.p99DeltaMs}), max ${figures.max} ms; flooder got ${row.flooderKb} KB`,
      );
      flooder.close();
    }
    const rssAfter = procStats(server.pid).rssMb;
    save('isolation', {
      scenario: 'isolation',
      command: 'npm run bench -- isolation',
      windowMs,
      baseline,
      floods,
      server: {
        rssBeforeMb: Math.round(rssBefore),
        rssAfterMb: Math.round(rssAfter),
        rssGrowthMb: Math.round(rssAfter - rssBefore),
        peakRssMb: Math.round(procStats(server.pid).hwmMb),
      },
    });
  } finally {
    for (const c of open) c.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------- fan-out and persistence ----------

async function loadRun(
  name: string,
  shape: { clients: number; rooms: number; rate: number; durationMs: number; profile?: boolean },
): Promise<void> {
  const dir = tempDir(name);
  const profDir = shape.profile ? path.join(ROOT, 'bench', 'results', 'profiles') : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const before = profDir ? new Set(readdirSync(profDir)) : new Set<string>();
  const server = await startServer({ dataDir: path.join(dir, 'data') }, profDir);
  try {
    const cpu0 = procStats(server.pid).cpuSec;
    const clientCpu0 = process.cpuUsage();
    const t0 = Date.now();
    // Joins are slow on this server (see BENCHMARKS.md, finding 2): a long quiet ramp lets all clients in.
    const rampMs = Math.max(2_000, shape.clients * 20);
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, procStats(server.pid).rssMb)), 500);
    const report: StressReport = await runStress(
      {
        host: '127.0.0.1',
        port: server.tcpPort,
        clients: shape.clients,
        rooms: Array.from({ length: shape.rooms }, (_, i) => `room${i + 1}`),
        intervalMs: 1000 / shape.rate,
        durationMs: shape.durationMs,
        rampMs,
        quietRamp: true,
        switchChance: 0,
        pmChance: 0,
        drainMs: 15_000,
      },
      {
        onTick: (t) =>
          process.stdout.write(
            `    ${t.phase} ${Math.round(t.elapsedMs / 1000)}s: ${Math.round(t.deliveriesPerSec)} deliveries/s, p99 ${t.p99Ms.toFixed(1)} ms\n`,
          ),
      },
    );
    clearInterval(sampler);
    const cpuSec = procStats(server.pid).cpuSec - cpu0;
    const wallSec = (Date.now() - t0) / 1000;
    const clientUsage = process.cpuUsage(clientCpu0);
    const clientCpuSec = (clientUsage.user + clientUsage.system) / 1e6;
    const r = report;
    // Every client has gone: what the server keeps once it settles (issue 10 asks for RSS after a
    // 1,000-client fan-out run).
    await sleep(SETTLE_MS);
    const rssAfterMb = Math.round(procStats(server.pid).rssMb);
    console.log(
      `  ${name}: ${r.rates.deliveriesPerSec.toLocaleString('en-US')} deliveries/s, delivered ${r.deliveries.deliveredPct}%, ` +
        `p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, stored ${r.rates.storedPerSec}/s, server CPU ${((cpuSec / wallSec) * 100).toFixed(0)}% of one core, stress client CPU ${((clientCpuSec / wallSec) * 100).toFixed(0)}%, ` +
        `RSS peak ${Math.round(peakRss)} MB, ${rssAfterMb} MB ${SETTLE_MS / 1000} s after the clients left`,
    );
    await server.stop();
    let profile: ReturnType<typeof summarizeProfile> | undefined;
    if (profDir) {
      const fresh = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
      if (fresh.length) {
        const file = path.join(profDir, fresh[0]);
        profile = summarizeProfile(file);
        console.log(`  profile: ${path.relative(ROOT, file)}`);
        for (const f of profile.top.slice(0, 15)) console.log(`    ${f.selfPct.toFixed(1).padStart(5)}%  ${f.name}`);
      }
    }
    save(name, {
      scenario: name,
      command: `npm run bench -- ${name.split('-')[0]}`,
      shape,
      server: {
        peakRssMb: Math.round(peakRss),
        rssAfterMb,
        cpuSec,
        wallSec,
        cpuCoresUsed: Math.round((cpuSec / wallSec) * 100) / 100,
      },
      // The load generator's own cost (this process and its worker threads), over the same time.
      client: { cpuSec: clientCpuSec, cpuCoresUsed: Math.round((clientCpuSec / wallSec) * 100) / 100 },
      report,
      ...(profile ? { profile } : {}),
    });
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Self time per function of a .cpuprofile, largest first. */
function summarizeProfile(file: string): {
  totalMs: number;
  top: Array<{ name: string; selfPct: number }>;
  byArea: Record<string, number>;
} {
  interface Node {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const areas: Record<string, number> = {};
  let total = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    const n = byId.get(id)!;
    const url = n.callFrame.url.replace(`file://${ROOT}/`, '');
    const name =
      `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
    self.set(name, (self.get(name) ?? 0) + dt);
    const area =
      n.callFrame.functionName === '(idle)'
        ? 'idle'
        : n.callFrame.functionName === '(garbage collector)'
          ? 'gc'
          : url.startsWith('packages/server/')
            ? url.split('/').slice(0, 4).join('/')
            : url.startsWith('packages/')
              ? url.split('/').slice(0, 2).join('/')
              : url.includes('node_modules/')
                ? `node_modules/${url.split('node_modules/')[1].split('/')[0]}`
                : url.startsWith('wasm://') || n.callFrame.functionName.startsWith('wasm-')
                  ? 'PGlite wasm'
                  : !url && /^(writev|writeBuffer|writeUtf8String|writeLatin1String)$/.test(n.callFrame.functionName)
                    ? 'socket writes (native)'
                    : url.startsWith('node:')
                      ? 'node internals'
                      : n.callFrame.functionName.startsWith('(')
                        ? n.callFrame.functionName
                        : 'native/other';
    areas[area] = (areas[area] ?? 0) + dt;
    total += dt;
  });
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30)
    .map(([name, us]) => ({ name, selfPct: (us / total) * 100 }));
  const byArea = Object.fromEntries(
    Object.entries(areas)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, Math.round((v / total) * 1000) / 10]),
  );
  return { totalMs: Math.round(total / 1000), top, byArea };
}

// ---------- connections ----------

async function connections(count: number): Promise<void> {
  const dir = tempDir('conn');
  // PGlite lives inside the server process and its memory (hundreds of MB of wasm heap, released
  // by the kernel at its own pace) swamps the per-connection figure; on Postgres the server's RSS
  // is teamchat's own. PGlite is the fallback when no Postgres can be started.
  const pg = await startPostgres();
  const store = 'skip' in pg ? { dataDir: path.join(dir, 'data') } : { databaseUrl: pg.url };
  const server = await startServer(store);
  const sockets: net.Socket[] = [];
  try {
    await sleep(3_000);
    const idle = procStats(server.pid);
    let welcomed = 0;
    let failed = 0;
    let prompted = 0;
    const prefix = `idle${Math.random().toString(36).slice(2, 6)}_`;
    const connectOne = (i: number) =>
      new Promise<void>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: server.tcpPort });
        sockets.push(s);
        let buf = '';
        s.setEncoding('utf8');
        s.on('connect', () => s.write(encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: `${prefix}${i}` })));
        // A hello that reaches a busy server after its plain-text prompt delay gets the prompt
        // instead of a welcome: counted as failed, like a refused or silent connection.
        const timer = setTimeout(() => {
          failed++;
          if (buf.startsWith('Enter nickname')) prompted++;
          s.removeAllListeners('data');
          resolve();
        }, 15_000);
        s.on('data', (d: string) => {
          buf += d;
          if (buf.includes('"welcome"')) {
            clearTimeout(timer);
            welcomed++;
            buf = '';
            s.removeAllListeners('data');
            resolve();
          }
        });
        s.on('error', () => {
          clearTimeout(timer);
          failed++;
          resolve();
        });
      });
    const connectRange = async (from: number, to: number) => {
      for (let i = from; i < to; i += 100)
        await Promise.all(Array.from({ length: Math.min(100, to - i) }, (_, j) => connectOne(i + j)));
    };
    // RSS right after start-up still holds PGlite's start-up garbage (it can shrink later), so the
    // baseline is taken with a tenth of the connections open, and the slope measured from there.
    const warm = Math.round(count / 10);
    const t0 = Date.now();
    await connectRange(0, warm);
    await sleep(5_000);
    const base = procStats(server.pid);
    const warmWelcomed = welcomed;
    await connectRange(warm, count);
    const connectSec = (Date.now() - t0) / 1000;
    await sleep(5_000);
    const after = procStats(server.pid);
    const perConnKb = ((after.rssMb - base.rssMb) * 1024) / Math.max(1, welcomed - warmWelcomed);
    console.log(
      `  connections: ${welcomed} registered (${failed} failed, ${prompted} of them got the plain-text prompt) in ${connectSec.toFixed(1)} s; ` +
        `server RSS idle ${idle.rssMb.toFixed(0)} MB, with ${warmWelcomed} ${base.rssMb.toFixed(0)} MB, with ${welcomed} ${after.rssMb.toFixed(0)} MB: ${perConnKb.toFixed(1)} KB per connection`,
    );
    save('connections', {
      scenario: 'connections',
      command: 'npm run bench -- connections',
      store: 'databaseUrl' in store ? 'postgres' : 'pglite',
      connections: { requested: count, registered: welcomed, failed, promptedAsPlainText: prompted, connectSec },
      server: {
        rssIdleMb: idle.rssMb,
        warmConnections: warmWelcomed,
        rssBeforeMb: base.rssMb,
        rssAfterMb: after.rssMb,
        perConnectionKb: Math.round(perConnKb * 10) / 10,
      },
    });
  } finally {
    for (const s of sockets) s.destroy();
    await server.stop();
    if (!('skip' in pg)) await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------- history ----------

const HISTORY_ROWS = QUICK ? 100_000 : 1_000_000;
const HISTORY_ROOMS = 10;

async function seed(store: StoreConfig): Promise<number> {
  const db = await openDatabase(store);
  try {
    await migrate(db);
    const k = db.kysely;
    const t0 = Date.now();
    for (let r = 0; r < HISTORY_ROOMS; r++)
      await sql`INSERT INTO rooms (name, created_at) VALUES (${`hist${r}`}, now()) ON CONFLICT DO NOTHING`.execute(k);
    const chunk = 100_000;
    for (let from = 1; from <= HISTORY_ROWS; from += chunk) {
      const to = Math.min(HISTORY_ROWS, from + chunk - 1);
      await sql`INSERT INTO messages (room, sender, text, created_at)
        SELECT 'hist' || (g % ${HISTORY_ROOMS}), 'seed' || (g % 50), 'seeded message number ' || g || ' with a few words of text', now()
        FROM generate_series(${from}::int, ${to}::int) AS g`.execute(k);
    }
    await sql`ANALYZE messages`.execute(k);
    const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM messages`.execute(k);
    console.log(
      `  seeded ${Number(rows[0].n).toLocaleString('en-US')} messages in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );
    return Number(rows[0].n);
  } finally {
    await db.close();
  }
}

/** Sends `history` requests one at a time, on a client-core client, and times each answer. */
async function historyLatencies(
  port: number,
  requests: Array<{ before?: number }>,
): Promise<{ p50: number; p99: number; max: number; messages: number }> {
  // Ready once it is in hist3 (its `joined` came): the requests start on a settled session.
  const client = await ChatClient.connect({
    addresses: [{ host: '127.0.0.1', port }],
    nick: `hist${Math.random().toString(36).slice(2, 6)}`,
    rooms: ['hist3'],
    client: 'teamchat-bench',
    giveUpAfterMs: 30_000,
  });
  const times = new LatencyHistogram();
  let messages = 0;
  try {
    for (const q of requests) {
      const t = performance.now();
      const page = await client.history('hist3', { limit: 50, ...q });
      times.recordMs(performance.now() - t);
      messages += page.messages.length;
    }
  } finally {
    await client.quit();
  }
  const { p50, p99, max } = times.summaryMs();
  return { p50, p99, max, messages };
}

async function history(): Promise<void> {
  const results: Record<string, object> = {};
  const stores: Array<{
    name: string;
    prepare: () => Promise<{
      store: StoreConfig;
      serve: { dataDir?: string; databaseUrl?: string };
      cleanup: () => Promise<void>;
    }>;
  }> = [
    {
      name: 'pglite',
      prepare: async () => {
        const dir = tempDir('hist');
        const dataDir = path.join(dir, 'data');
        return {
          store: { kind: 'pglite', dataDir },
          serve: { dataDir },
          cleanup: async () => rmSync(dir, { recursive: true, force: true }),
        };
      },
    },
    {
      name: 'postgres',
      prepare: async () => {
        const pg = await startPostgres();
        if ('skip' in pg) throw new Error(pg.skip);
        return { store: { kind: 'postgres', url: pg.url }, serve: { databaseUrl: pg.url }, cleanup: () => pg.stop() };
      },
    },
  ];
  for (const { name, prepare } of stores) {
    let prepared;
    try {
      prepared = await prepare();
    } catch (err) {
      console.log(`  history on ${name}: skipped (${(err as Error).message})`);
      results[name] = { skipped: (err as Error).message };
      continue;
    }
    try {
      const rows = await seed(prepared.store);
      const server = await startServer(prepared.serve);
      try {
        const n = QUICK ? 50 : 300;
        const latest = await historyLatencies(
          server.tcpPort,
          Array.from({ length: n }, () => ({})),
        );
        // Deep pages: a random position in the room, beyond the server's in-memory recent messages.
        const deep = await historyLatencies(
          server.tcpPort,
          Array.from({ length: n }, () => ({ before: 1 + Math.floor(Math.random() * (rows - 5_000)) })),
        );
        console.log(
          `  history on ${name} (${rows.toLocaleString('en-US')} rows): latest 50 p50 ${latest.p50} ms p99 ${latest.p99} ms; deep page p50 ${deep.p50} ms p99 ${deep.p99} ms`,
        );
        results[name] = { rows, requests: n, latestPageMs: latest, deepPageMs: deep };
      } finally {
        await server.stop();
      }
    } finally {
      await prepared.cleanup();
    }
  }
  save('history', { scenario: 'history', command: 'npm run bench -- history', results });
}

// ---------- BENCHMARKS.md ----------

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/** Rewrites the generated tables of BENCHMARKS.md (between the markers) from bench/results/*.json. */
function writeBenchmarksMd(): void {
  const load = (name: string): any => {
    try {
      return JSON.parse(readFileSync(path.join(RESULTS, `${name}.json`), 'utf8'));
    } catch {
      return null;
    }
  };
  const when = (r: any) => `${r.date.slice(0, 16).replace('T', ' ')} UTC, load avg ${r.machine.loadavg?.[0] ?? '?'}`;
  const num = (n: number) => Math.round(n).toLocaleString('en-US');
  const lines: string[] = [
    START,
    '',
    '_Generated by `npm run bench` from bench/results/*.json; edit the text outside these markers._',
    '',
  ];
  const any = load('fanout-8') ?? load('connections') ?? load('history') ?? load('persistence');
  if (any)
    lines.push(
      `Machine: ${any.machine.cpus} x ${any.machine.cpuModel}, ${any.machine.memoryGb} GB RAM, ${any.machine.platform}, Node ${any.machine.node}.`,
      '',
    );
  const loadRows = ['fanout-1', 'fanout-4', 'fanout-8', 'persistence'].map(load).filter(Boolean);
  if (loadRows.length) {
    lines.push('### Fan-out and persistence (`npm run bench -- fanout persistence`)', '');
    lines.push(
      '| run | clients / rooms | msgs/s per client | clients connected | messages/s | refused (store busy) | deliveries/s | delivered % | p50 ms | p99 ms | stored/s | server CPU (cores) | stress client CPU (cores) | server peak RSS | server RSS 30 s after | measured |',
    );
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of loadRows) {
      const rep = r.report;
      lines.push(
        `| ${r.scenario} | ${r.shape.clients} / ${r.shape.rooms} | ${r.shape.rate} | ${rep.clients.connected} (${rep.clients.failed} failed) | ${num(rep.rates.messagesPerSec)} | ${num(rep.messages.rejected)} | ${num(rep.rates.deliveriesPerSec)} | ${rep.deliveries.deliveredPct} | ${rep.latencyMs.p50} | ${rep.latencyMs.p99} | ${num(rep.rates.storedPerSec)} | ${r.server.cpuCoresUsed} | ${r.client?.cpuCoresUsed ?? '?'} | ${r.server.peakRssMb} MB | ${r.server.rssAfterMb !== undefined ? `${r.server.rssAfterMb} MB` : '?'} | ${when(r)} |`,
      );
    }
    lines.push('');
  }
  const c = load('connections');
  if (c) {
    lines.push(`### Idle connections (\`npm run bench -- connections\`), server on ${c.store ?? 'pglite'}`, '');
    lines.push(
      '| connections registered | failed | server RSS idle | with the first 10 % | with all | per connection (slope) | measured |',
      '|---|---|---|---|---|---|---|',
    );
    lines.push(
      `| ${num(c.connections.registered)} | ${c.connections.failed} | ${c.server.rssIdleMb?.toFixed(0) ?? '?'} MB | ${c.server.rssBeforeMb.toFixed(0)} MB | ${c.server.rssAfterMb.toFixed(0)} MB | ${c.server.perConnectionKb} KB | ${when(c)} |`,
      '',
    );
  }
  const fp = load('footprint');
  if (fp) {
    lines.push('### Footprint (`npm run bench -- footprint`): start-up and idle memory', '');
    lines.push('| what | measured | target (first-contact issue) |', '|---|---|---|');
    lines.push(`| \`teamchat --help\` (median of 5) | ${fp.helpMs} ms | ≤ 200 ms |`);
    const p = fp.results.pglite;
    type Run = { readyMs: number; rssMb: number; settledRssMb?: number };
    const runs = (r: { runs?: Run[] }, key: keyof Run) =>
      r.runs ? ` (median of ${r.runs.map((x) => x[key] ?? '?').join(', ')})` : '';
    lines.push(
      `| \`serve\`, fresh data folder, until ready | ${p.first.readyMs} ms${runs(p.first, 'readyMs')} | ≤ 1,500 ms |`,
    );
    lines.push(
      `| RSS, embedded database, first start, 5 s after ready | ${p.first.rssMb} MB${runs(p.first, 'rssMb')} | |`,
      `| idle RSS, embedded database, first start (30 s / ${fp.idleMinutes} min after ready) | ${p.first.settledRssMb ?? '?'} MB${runs(p.first, 'settledRssMb')} / ${p.first.idleRssMb} MB | ≤ 150 MB |`,
    );
    lines.push(`| \`serve\` restart, until ready | ${p.restart.readyMs} ms${runs(p.restart, 'readyMs')} | |`);
    lines.push(
      `| RSS, embedded database, restart, 5 s after ready | ${p.restart.rssMb} MB${runs(p.restart, 'rssMb')} | |`,
      `| idle RSS, embedded database, restart (30 s after ready) | ${p.restart.settledRssMb ?? '?'} MB${runs(p.restart, 'settledRssMb')} | ≤ 150 MB |`,
    );
    const tui = fp.results.tui;
    if (tui?.skipped) lines.push(`| TUI, command typed to a connected screen | skipped: ${tui.skipped} | ≤ 500 ms |`);
    else if (tui)
      lines.push(
        `| TUI, command typed to a connected screen: status bar / full UI | ${tui.connectedMs} ms / ${tui.fullMs} ms (median of ${tui.runs.map((r: { connectedMs: number; fullMs: number }) => `${r.connectedMs}/${r.fullMs}`).join(', ')}) | ≤ 500 ms |`,
      );
    if (fp.results.postgres?.skipped)
      lines.push(`| idle RSS on Postgres | skipped: ${fp.results.postgres.skipped} | keep (123 MB) |`);
    else if (fp.results.postgres)
      lines.push(
        `| idle RSS on Postgres (ready in ${fp.results.postgres.readyMs} ms; 5 s / 30 s after ready) | ${fp.results.postgres.rssMb} MB / ${fp.results.postgres.settledRssMb ?? '?'} MB | keep (123 MB) |`,
      );
    lines.push('', `Measured ${when(fp)}.`, '');
  }
  const iso = load('isolation');
  if (iso) {
    lines.push(
      "### Isolation (`npm run bench -- isolation`): a canary's ping while one connection floods, production flood control",
      '',
    );
    lines.push(
      `Baseline: p50 ${iso.baseline.p50} ms, p99 ${iso.baseline.p99} ms. Server RSS ${iso.server.rssBeforeMb} MB before, ${iso.server.rssAfterMb} MB after every flood.`,
      '',
    );
    lines.push(
      '| flood (one write) | canary p50 | vs baseline | canary p99 | vs baseline | max | flooder received in the window | measured |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const f of iso.floods)
      lines.push(
        `| ${f.name} | ${f.canary.p50} ms | ${f.p50DeltaMs >= 0 ? '+' : ''}${f.p50DeltaMs} ms | ${f.canary.p99} ms | ${f.p99DeltaMs >= 0 ? '+' : ''}${f.p99DeltaMs} ms | ${f.canary.max} ms | ${num(f.flooderKb)} KB | ${when(iso)} |`,
      );
    lines.push('');
  }
  const h = load('history');
  if (h) {
    lines.push('### History (`npm run bench -- history`): one room of a 10-room table, over the protocol', '');
    lines.push(
      '| store | rows | latest 50 p50 | latest 50 p99 | deep page p50 | deep page p99 | measured |',
      '|---|---|---|---|---|---|---|',
    );
    for (const [store, v] of Object.entries<any>(h.results)) {
      if (v.skipped) lines.push(`| ${store} | skipped: ${v.skipped} | | | | | ${when(h)} |`);
      else
        lines.push(
          `| ${store} | ${num(v.rows)} | ${v.latestPageMs.p50} ms | ${v.latestPageMs.p99} ms | ${v.deepPageMs.p50} ms | ${v.deepPageMs.p99} ms | ${when(h)} |`,
        );
    }
    lines.push('');
  }
  lines.push(END);
  const file = path.join(ROOT, 'BENCHMARKS.md');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = `# teamchat benchmarks\n\n${START}\n${END}\n`;
  }
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  text =
    a >= 0 && b > a
      ? text.slice(0, a) + lines.join('\n') + text.slice(b + END.length)
      : text + '\n' + lines.join('\n') + '\n';
  writeFileSync(file, text);
  console.log('\nBENCHMARKS.md tables updated');
}

// ---------- main ----------

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

console.log(
  `teamchat bench on ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGb} GB, node ${machine.node}${QUICK ? ' (quick)' : ''}`,
);
for (const scenario of SCENARIOS) {
  console.log(`\n== ${scenario}`);
  switch (scenario) {
    case 'fanout':
      for (const rate of [1, 4, 8]) {
        await loadRun(`fanout-${rate}`, {
          clients: QUICK ? 100 : 1000,
          rooms: 10,
          rate,
          durationMs: QUICK ? 3_000 : 10_000,
          profile: PROFILE && rate === 8,
        });
      }
      break;
    case 'persistence':
      await loadRun('persistence', {
        clients: QUICK ? 100 : 1000,
        rooms: QUICK ? 50 : 500,
        rate: 8,
        durationMs: QUICK ? 3_000 : 10_000,
      });
      break;
    case 'connections':
      await connections(QUICK ? 1000 : 10_000);
      break;
    case 'history':
      await history();
      break;
    case 'isolation':
      await isolation(QUICK ? 1_000 : 5_000);
      break;
    case 'footprint':
      await footprint(QUICK ? 60_000 : IDLE_MINUTES * 60_000);
      break;
    case 'cluster':
      await clusterBench({ quick: QUICK });
      break;
    case 'fanout-vs-inspircd':
      await fanoutVsInspircd({ startServer: (store) => startServer(store), quick: QUICK });
      break;
    case 'search':
      await (await import('./search-bench.js')).searchBench({ quick: QUICK });
      break;
    case 'report':
      break; // only rewrite the BENCHMARKS.md tables from the stored results
    default:
      console.error(
        `unknown scenario ${scenario} (fanout, fanout-vs-inspircd, cluster, search, connections, history, persistence, isolation, footprint)`,
      );
      process.exitCode = 2;
  }
}
if (!QUICK) writeBenchmarksMd();
