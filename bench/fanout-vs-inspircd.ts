/**
 * `npm run bench -- fanout-vs-inspircd`: the fan-out load of the latency issue, driven by the shared
 * generator (`../shared/bench/chatload.mjs`, one process speaking IRC or teamchat's NDJSON), against
 * InspIRCd and against teamchat on PGlite and on a real Postgres, so that every figure comes from
 * the same code on the same load: 1,000 clients in 10 rooms of 100, 8 and 12 msgs/s per client.
 *
 * As in the issue, the generator runs on one core and the server on the other (`taskset`): InspIRCd,
 * or teamchat with everything it needs to store (its PGlite worker thread, or the Postgres server's
 * processes). Without taskset, or with one core, nothing is pinned (and the table says so).
 *
 *   npm run bench -- fanout-vs-inspircd                                  # full shape, writes BENCHMARKS.md
 *   npm run bench -- fanout-vs-inspircd --clients=100 --duration=5 --rates=8   # a smoke run: prints only
 *   BENCH_CLIENTS=100 BENCH_DURATION=5 BENCH_RATES=8 npm run bench -- fanout-vs-inspircd   # the same
 *
 * Other knobs: `--rooms=N` (10), `--generator-cpu=N` (0), `--server-cpu=N` (1), `--quick`
 * (100 clients, 5 s, 8 msgs/s), `INSPIRCD=/path/to/inspircd` (default /usr/sbin/inspircd, then PATH).
 * Only the full shape (1,000 clients, 10 rooms, 10 s, 8 and 12 msgs/s) writes
 * bench/results/fanout-vs-inspircd.json and its section of BENCHMARKS.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { quantileBetween, type HistogramSnapshot } from '../packages/server/src/metrics/latency-histogram.js';
import { startPostgres } from '../test/helpers/postgres-cluster.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED_BENCH = path.resolve(ROOT, '..', 'shared', 'bench');
const CHATLOAD = path.join(SHARED_BENCH, 'chatload.mjs');
/** Preloaded into chatload: how late its own send timers fire (bench/chatload-lag.mjs). */
const CHATLOAD_LAG = path.join(ROOT, 'bench', 'chatload-lag.mjs');
const INSPIRCD_CONF = path.join(SHARED_BENCH, 'inspircd.conf');
const RESULT_FILE = path.join(ROOT, 'bench', 'results', 'fanout-vs-inspircd.json');
/** chatload keeps at most this many latency samples (its `lat` array): the first deliveries only. */
const CHATLOAD_MAX_SAMPLES = 2_000_000;
const FULL = { clients: 1000, rooms: 10, durationSec: 10, rates: [8, 12] };

/** The teamchat server as bench/run.ts starts it (flood control and the per-address limit off). */
export interface BenchServer {
  pid: number;
  tcpPort: number;
  /** Its HTTP port, for /metrics. */
  httpPort: number;
  /** Its IRC port (the bench starts teamchat with `--irc-port 0`). */
  ircPort?: number;
  stop(): Promise<void>;
}

export interface FanoutVsInspircdOptions {
  /** bench/run.ts's `startServer`: spawns `teamchat serve` and resolves on its ready line. */
  startServer: (store: { dataDir?: string; databaseUrl?: string }) => Promise<BenchServer>;
  /** `--quick`: a smoke shape (100 clients, 5 s, 8 msgs/s) unless given explicitly. */
  quick?: boolean;
  argv?: string[];
  env?: NodeJS.ProcessEnv;
}

/** `-irc`: the same teamchat server, with chatload speaking IRC to its IRC gateway (issue 12: what the gateway costs). */
type ServerName = 'inspircd' | 'teamchat-pglite' | 'teamchat-postgres' | 'teamchat-pglite-irc';

/** chatload's one JSON line. */
interface ChatloadResult {
  connected: number;
  errors: number;
  setup_s: number;
  sent: number;
  delivered: number;
  expected: number;
  delivered_ratio: number;
  deliveries_per_s: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}

/** bench/chatload-lag.mjs's line: the generator's own lag (see there). */
interface GeneratorLag {
  timers: number;
  lateP50Ms?: number;
  lateP99Ms?: number;
  lateMaxMs?: number;
  binMs?: number;
  emptyBinsPct?: number;
  binCv?: number;
}

interface CaseResult {
  rate: number;
  server: ServerName;
  skipped?: string;
  error?: string;
  chatload?: ChatloadResult;
  /** Messages the generator sent per second of the window (its timers drift when its loop is late). */
  sentPerSec?: number;
  /** Share of the deliveries whose latency chatload kept (it keeps the first 2,000,000). */
  latencySampledPct?: number;
  /**
   * teamchat only: the server's own figure for the same messages, from its /metrics histogram
   * (accepted to handed to the recipients' connections, for every message of the chatload run),
   * as the upper bound of the bucket holding the quantile.
   */
  serverHeld?: { p50Ms: number | null; p99Ms: number | null; messages: number };
  /** CPU used during the sending window (and its 2 s drain), in cores. */
  serverCpuCores?: number;
  generatorCpuCores?: number;
  /** How late chatload's send timers fired, and how bunched its sends were (null: no line from the preload). */
  generatorLag?: GeneratorLag | null;
  /** 1-minute load average when the case started. */
  loadStart: number;
  /** Load averages (1, 5, 15 min) when it ended: other work on the machine skews every figure. */
  loadavg: number[];
}

// ---------- options ----------

function shapeOf(options: FanoutVsInspircdOptions) {
  const argv = options.argv ?? process.argv.slice(2);
  const env = options.env ?? process.env;
  const flag = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const pick = (name: string, envName: string): string | undefined => flag(name) ?? env[envName];
  const positive = (v: string | undefined, fallback: number, what: string): number => {
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!(n > 0) || !Number.isFinite(n))
      throw new Error(`fanout-vs-inspircd: ${what} must be a positive number, got ${JSON.stringify(v)}`);
    return n;
  };
  const quick = options.quick ?? false;
  const clients = Math.round(positive(pick('clients', 'BENCH_CLIENTS'), quick ? 100 : FULL.clients, 'clients'));
  const rooms = Math.round(positive(pick('rooms', 'BENCH_ROOMS'), FULL.rooms, 'rooms'));
  const durationSec = positive(pick('duration', 'BENCH_DURATION'), quick ? 5 : FULL.durationSec, 'duration (s)');
  const ratesText = pick('rates', 'BENCH_RATES');
  const rates = ratesText
    ? ratesText.split(',').map((r) => positive(r.trim(), 0, 'each rate'))
    : quick
      ? [8]
      : FULL.rates;
  const generatorCpu = Number(pick('generator-cpu', 'BENCH_GENERATOR_CPU') ?? 0);
  const serverCpu = Number(pick('server-cpu', 'BENCH_SERVER_CPU') ?? 1);
  const full =
    clients === FULL.clients &&
    rooms === FULL.rooms &&
    durationSec === FULL.durationSec &&
    rates.join(',') === FULL.rates.join(',');
  return { clients, rooms, durationSec, rates, generatorCpu, serverCpu, full };
}

// ---------- processes ----------

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  return undefined;
}

function findInspircd(env: NodeJS.ProcessEnv): string | undefined {
  if (env.INSPIRCD) return isExecutable(env.INSPIRCD) ? env.INSPIRCD : undefined;
  return isExecutable('/usr/sbin/inspircd') ? '/usr/sbin/inspircd' : which('inspircd');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Waits for a child's exit, SIGKILL after `graceMs`. */
async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Pins every thread of `pid` (and, with `children`, of its current children) to one CPU. */
function pin(pid: number, cpu: number | null, children = false): void {
  if (cpu === null) return;
  const pids = children ? [pid, ...childrenOf(pid)] : [pid];
  for (const p of pids) execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(p)], { stdio: 'ignore' });
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // No CONFIG_PROC_CHILDREN: scan /proc for the parent pid.
    const out: number[] = [];
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
      } catch {
        // gone
      }
    }
    return out;
  }
}

/** CPU seconds (user + system, all threads) of a process, and with `children` of its children too. */
function cpuSec(pid: number, children = false): number {
  const one = (p: number): number => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      return 0;
    }
  };
  return one(pid) + (children ? childrenOf(pid).reduce((a, p) => a + one(p), 0) : 0);
}

/** Samples a CPU counter every 250 ms; `between(a, b)` interpolates the seconds used between two times. */
function cpuSampler(read: () => number) {
  const samples: Array<[t: number, cpu: number]> = [[performance.now(), read()]];
  const timer = setInterval(() => samples.push([performance.now(), read()]), 250);
  const at = (t: number): number => {
    for (let i = 1; i < samples.length; i++) {
      const [t1, c1] = samples[i];
      const [t0, c0] = samples[i - 1];
      if (t <= t1) return t <= t0 ? c0 : c0 + ((c1 - c0) * (t - t0)) / (t1 - t0);
    }
    return samples[samples.length - 1][1];
  };
  return {
    stop: () => {
      clearInterval(timer);
      samples.push([performance.now(), read()]);
    },
    between: (a: number, b: number) => at(b) - at(a),
  };
}

/** The Postgres server's main process (postmaster), found from a backend's parent; null when not local. */
async function postmasterPid(url: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const stat = readFileSync(`/proc/${rows[0].pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  } finally {
    await client.end();
  }
}

// ---------- InspIRCd ----------

interface Ircd {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** InspIRCd in the foreground from a temp folder, with the shared conf's pid/log paths and port adjusted. */
async function startInspircd(bin: string, cpu: number | null): Promise<Ircd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'teamchat-bench-inspircd-'));
  const port = await freePort();
  const conf = readFileSync(INSPIRCD_CONF, 'utf8')
    .replaceAll('@DIR@', dir)
    .replace(/(<bind\b[^>]*\bport=")\d+(")/, `$1${port}$2`);
  writeFileSync(path.join(dir, 'inspircd.conf'), conf);
  const args = [
    '--nofork',
    `--config=${path.join(dir, 'inspircd.conf')}`,
    ...(process.getuid?.() === 0 ? ['--runasroot'] : []),
  ];
  // taskset execs the program: the child's pid is InspIRCd's.
  const child =
    cpu === null
      ? spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('taskset', ['-c', String(cpu), bin, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-4000)));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-4000)));
  const cleanup = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (/is now running/.test(out) && (await canConnect(port))) return { pid: child.pid!, port, stop: cleanup };
    if (child.exitCode !== null || Date.now() > deadline) {
      await cleanup();
      throw new Error(`InspIRCd did not start:\n${out.trim()}`);
    }
    await sleep(100);
  }
}

// ---------- one case ----------

async function runChatload(
  proto: 'irc' | 'teamchat',
  port: number,
  shape: ReturnType<typeof shapeOf>,
  rate: number,
  prefix: string,
  cpu: number | null,
  serverCpu: () => number,
  alive: () => boolean,
): Promise<Omit<CaseResult, 'rate' | 'server' | 'loadStart' | 'loadavg'>> {
  const args = [
    '--import',
    pathToFileURL(CHATLOAD_LAG).href,
    CHATLOAD,
    '--proto',
    proto,
    '--port',
    String(port),
    '--clients',
    String(shape.clients),
    '--rooms',
    String(shape.rooms),
    '--rate',
    String(rate),
    '--duration',
    String(shape.durationSec),
    '--prefix',
    prefix,
  ];
  const cmd = cpu === null ? [process.execPath, ...args] : ['taskset', '-c', String(cpu), process.execPath, ...args];
  const t0 = performance.now();
  const child = spawn(cmd[0], cmd.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = cpuSampler(serverCpu);
  const generator = cpuSampler(() => cpuSec(child.pid!));
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  // Connecting is slow on InspIRCd (a 1 s DNS timeout per batch of 50 in the shared conf): be generous.
  const limitMs = 120_000 + shape.clients * 100 + shape.durationSec * 1000;
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(killer);
  server.stop();
  generator.stop();
  const line = out.trim().split('\n').pop() ?? '';
  let result: ChatloadResult;
  try {
    result = JSON.parse(line) as ChatloadResult;
  } catch {
    const after = `after ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    // 13: Node's "unsettled top-level await": every socket closed while clients were still joining.
    const why = code === 13 ? ' (its connections were all closed while clients were still joining)' : '';
    return {
      error: `chatload exited ${code ?? child.signalCode}${why} ${after}; server ${alive() ? 'still running' : 'gone'}: ${(err || out).trim().slice(-500)}`,
    };
  }
  // The window: after the clients joined and chatload's 0.5 s pause, the sending time and the 2 s drain.
  const from = t0 + (result.setup_s + 0.5) * 1000;
  const to = from + (shape.durationSec + 2) * 1000;
  const seconds = (to - from) / 1000;
  return {
    chatload: result,
    generatorLag: generatorLag(err),
    sentPerSec: Math.round(result.sent / shape.durationSec),
    latencySampledPct: result.delivered
      ? Math.round(Math.min(1, CHATLOAD_MAX_SAMPLES / result.delivered) * 1000) / 10
      : 100,
    serverCpuCores: Math.round((server.between(from, to) / seconds) * 100) / 100,
    generatorCpuCores: Math.round((generator.between(from, to) / seconds) * 100) / 100,
  };
}

/** The preload's line on chatload's stderr (bench/chatload-lag.mjs); null when it is missing or unreadable. */
function generatorLag(stderr: string): GeneratorLag | null {
  const line = /^chatload-lag (\{.*\})$/m.exec(stderr)?.[1];
  try {
    return line ? (JSON.parse(line) as GeneratorLag) : null;
  } catch {
    return null;
  }
}

const loadavg = () => os.loadavg().map((l) => Math.round(l * 100) / 100);

const HELD = 'teamchat_message_delivery_seconds';

/** The server's delivery histogram from its /metrics text; null when it cannot be read. */
async function deliveryHistogram(httpPort: number): Promise<HistogramSnapshot | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const bounds: number[] = [];
    const cumulative: number[] = [];
    for (const m of text.matchAll(new RegExp(`^${HELD}_bucket\\{le="([0-9.e+-]+)"\\} (\\d+)$`, 'gm'))) {
      bounds.push(Number(m[1]) * 1000);
      cumulative.push(Number(m[2]));
    }
    const count = Number(new RegExp(`^${HELD}_count (\\d+)$`, 'm').exec(text)?.[1]);
    const sum = Number(new RegExp(`^${HELD}_sum ([0-9.e+-]+)$`, 'm').exec(text)?.[1]);
    if (bounds.length === 0 || !Number.isFinite(count)) return null;
    return { boundsMs: bounds, cumulative, sumMs: sum * 1000, count };
  } catch {
    return null;
  }
}

async function inspircdCase(
  bin: string | undefined,
  shape: ReturnType<typeof shapeOf>,
  rate: number,
  cpus: Cpus,
): Promise<CaseResult> {
  const base = { rate, server: 'inspircd' as const, loadStart: loadavg()[0], loadavg: loadavg() };
  if (!bin)
    return { ...base, skipped: 'InspIRCd not installed (apt install inspircd, or set INSPIRCD=/path/to/inspircd)' };
  let ircd: Ircd;
  try {
    ircd = await startInspircd(bin, cpus.server);
  } catch (e) {
    return { ...base, error: (e as Error).message };
  }
  try {
    const r = await runChatload(
      'irc',
      ircd.port,
      shape,
      rate,
      `i${rate}x`,
      cpus.generator,
      () => cpuSec(ircd.pid),
      () => existsSync(`/proc/${ircd.pid}`),
    );
    return { ...base, ...r, loadavg: loadavg() };
  } finally {
    await ircd.stop();
  }
}

async function teamchatCase(
  options: FanoutVsInspircdOptions,
  store: 'pglite' | 'postgres',
  shape: ReturnType<typeof shapeOf>,
  rate: number,
  cpus: Cpus,
  proto: 'teamchat' | 'irc' = 'teamchat',
): Promise<CaseResult> {
  const server_: ServerName = proto === 'irc' ? 'teamchat-pglite-irc' : `teamchat-${store}`;
  const base = { rate, server: server_, loadStart: loadavg()[0], loadavg: loadavg() };
  const dir = mkdtempSync(path.join(os.tmpdir(), `teamchat-bench-vs-${store}-`));
  let pgHandle: Awaited<ReturnType<typeof startPostgres>> | undefined;
  let server: BenchServer | undefined;
  try {
    let serve: { dataDir?: string; databaseUrl?: string } = { dataDir: path.join(dir, 'data') };
    let postmaster: number | null = null;
    if (store === 'postgres') {
      pgHandle = await startPostgres();
      if ('skip' in pgHandle) return { ...base, skipped: pgHandle.skip };
      serve = { databaseUrl: pgHandle.url };
      // Our throwaway cluster is part of "the server": it goes on the server's core (its backends,
      // forked later by the postmaster, inherit that). A server named by TEAMCHAT_TEST_DATABASE_URL is left alone.
      if (!process.env.TEAMCHAT_TEST_DATABASE_URL) {
        postmaster = await postmasterPid(pgHandle.url);
        if (postmaster !== null) pin(postmaster, cpus.server, true);
      }
    }
    server = await options.startServer(serve);
    pin(server.pid, cpus.server);
    const pid = server.pid;
    const pm = postmaster;
    const port = proto === 'irc' ? server.ircPort : server.tcpPort;
    if (port === undefined) return { ...base, error: 'the server reported no IRC port' };
    const httpPort = server.httpPort;
    const heldBefore = await deliveryHistogram(httpPort);
    const r = await runChatload(
      proto,
      port,
      shape,
      rate,
      `${proto === 'irc' ? 'r' : store[1]}${rate}x`,
      cpus.generator,
      () => cpuSec(pid) + (pm === null ? 0 : cpuSec(pm, true)),
      () => existsSync(`/proc/${pid}`),
    );
    const heldAfter = await deliveryHistogram(httpPort);
    const serverHeld = heldAfter
      ? {
          p50Ms: quantileBetween(heldAfter, 0.5, heldBefore ?? undefined),
          p99Ms: quantileBetween(heldAfter, 0.99, heldBefore ?? undefined),
          messages: heldAfter.count - (heldBefore?.count ?? 0),
        }
      : undefined;
    return { ...base, ...r, ...(serverHeld ? { serverHeld } : {}), loadavg: loadavg() };
  } catch (e) {
    return { ...base, error: (e as Error).message.slice(0, 1000) };
  } finally {
    await server?.stop();
    if (pgHandle && !('skip' in pgHandle)) await pgHandle.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------- output ----------

interface Cpus {
  generator: number | null;
  server: number | null;
  note: string;
}

function chooseCpus(shape: ReturnType<typeof shapeOf>): Cpus {
  const n = os.availableParallelism();
  if (!which('taskset'))
    return { generator: null, server: null, note: 'not pinned (taskset not found: install util-linux)' };
  if (n < 2 || shape.generatorCpu === shape.serverCpu || Math.max(shape.generatorCpu, shape.serverCpu) >= n) {
    return {
      generator: null,
      server: null,
      note: `not pinned (${n} CPU(s) available, asked for ${shape.generatorCpu} and ${shape.serverCpu})`,
    };
  }
  return {
    generator: shape.generatorCpu,
    server: shape.serverCpu,
    note: `generator on CPU ${shape.generatorCpu}, server (and its database) on CPU ${shape.serverCpu}`,
  };
}

const fmt = (n: number | null | undefined, digits = 1): string =>
  n === null || n === undefined ? '?' : n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** The server's own p50 / p99 (bucket upper bounds, so "≤"); "-" for InspIRCd, which has no such figure. */
function heldCell(r: CaseResult): string {
  if (!r.serverHeld) return '-';
  const b = (ms: number | null) => (ms === null ? '?' : ms === Infinity ? '> 10,000' : `≤ ${fmt(ms, 0)}`);
  return `${b(r.serverHeld.p50Ms)} / ${b(r.serverHeld.p99Ms)}`;
}

/** chatload's own lag: its send timers' lateness, p50 / p99 ("?" without the preload's line). */
function lagCell(r: CaseResult): string {
  const lag = r.generatorLag;
  if (!lag?.timers) return '?';
  return `${fmt(lag.lateP50Ms)} / ${fmt(lag.lateP99Ms)}`;
}

function tableLines(results: CaseResult[]): string[] {
  const lines = [
    '| msgs/s per client | server | clients joined | msgs/s sent | deliveries/s | delivered % | p50 ms | p99 ms | deliveries/s vs InspIRCd | p99 vs InspIRCd | latency kept for | held by the server, p50 / p99 ms | server CPU (cores) | generator CPU (cores) | generator send timers late, p50 / p99 ms | 10 ms with no send | load avg (start, end) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const name = {
      inspircd: 'InspIRCd 3',
      'teamchat-pglite': 'teamchat, PGlite',
      'teamchat-postgres': 'teamchat, Postgres',
      'teamchat-pglite-irc': 'teamchat, PGlite, over IRC',
    }[r.server];
    if (!r.chatload) {
      lines.push(
        `| ${r.rate} | ${name} | ${r.skipped ? `skipped: ${r.skipped}` : `failed: ${(r.error ?? '').split('\n')[0]}`} | | | | | | | | | | | | | | ${r.loadStart}, ${r.loadavg[0]} |`,
      );
      continue;
    }
    const c = r.chatload;
    const ref = results.find((x) => x.rate === r.rate && x.server === 'inspircd' && x.chatload)?.chatload;
    const ratio = (a: number | null, b: number | null | undefined) =>
      a === null || !b ? 'n/a' : `${(a / b).toFixed(2)}x`;
    const vsDeliveries =
      r.server === 'inspircd' ? '(reference)' : ref ? ratio(c.deliveries_per_s, ref.deliveries_per_s) : 'n/a';
    const vsP99 = r.server === 'inspircd' ? '(reference)' : ref ? ratio(c.p99_ms, ref.p99_ms) : 'n/a';
    lines.push(
      `| ${r.rate} | ${name} | ${c.connected} | ${fmt(r.sentPerSec, 0)} | ${fmt(c.deliveries_per_s, 0)} | ${fmt(c.delivered_ratio * 100, 2)} | ${fmt(c.p50_ms)} | ${fmt(c.p99_ms)} | ${vsDeliveries} | ${vsP99} | ${r.latencySampledPct === 100 ? 'all' : `first ${r.latencySampledPct} %`} | ${heldCell(r)} | ${fmt(r.serverCpuCores, 2)} | ${fmt(r.generatorCpuCores, 2)} | ${lagCell(r)} | ${r.generatorLag?.timers ? `${fmt(r.generatorLag.emptyBinsPct)} %` : '?'} | ${r.loadStart}, ${r.loadavg[0]} |`,
    );
  }
  return lines;
}

const MD_START = '<!-- bench:fanout-vs-inspircd:start -->';
const MD_END = '<!-- bench:fanout-vs-inspircd:end -->';

/** Writes (or replaces) this scenario's own section of BENCHMARKS.md, between its own markers. */
function writeSection(results: CaseResult[], shape: ReturnType<typeof shapeOf>, cpus: Cpus, date: string): void {
  const body = [
    MD_START,
    '',
    '## Against InspIRCd, one generator (`npm run bench -- fanout-vs-inspircd`)',
    '',
    '_Generated by `npm run bench -- fanout-vs-inspircd` (bench/fanout-vs-inspircd.ts); rerun it to replace this section._',
    '',
    `${shape.clients} clients in ${shape.rooms} rooms of ${Math.round(shape.clients / shape.rooms)}, each sending the given msgs/s for ${shape.durationSec} s, driven by ` +
      '`../shared/bench/chatload.mjs` (one Node process; IRC to InspIRCd, NDJSON to teamchat, and IRC to teamchat\'s IRC gateway in the "over IRC" rows) against a fresh server per row: InspIRCd 3 with ' +
      '`../shared/bench/inspircd.conf` (stores nothing), teamchat with flood control and the per-address limit off, storing every message before ' +
      'delivering it, in PGlite (the default) or in a throwaway Postgres cluster (fsync and synchronous_commit off, from ' +
      `test/helpers/postgres-cluster.ts). CPUs: ${cpus.note}. Measured ${date.slice(0, 16).replace('T', ' ')} UTC on ` +
      `${os.availableParallelism()} x ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}.`,
    '',
    ...tableLines(results),
    '',
    "How to read it (the figures are chatload's): deliveries/s is every delivery received while measuring (the sending time and a 2 s drain) " +
      'divided by the sending time; delivered % is of sent x (room size - 1), so a delivery later than the 2 s drain counts as lost; ' +
      "p50/p99 are send-to-receive on the generator's one clock, but chatload keeps only the first 2,000,000 latencies " +
      '("latency kept for"), so at this load they describe the first seconds of the run, not all of it. ' +
      '"msgs/s sent" below the nominal rate x clients means the generator\'s own timers fell behind (each client waits a full period ' +
      'after each send). CPU is measured over the sending time and the drain; a generator near 1.0 core is itself a limit. ' +
      '"held by the server" is teamchat\'s own figure for the same messages, from its /metrics histogram ' +
      "(`teamchat_message_delivery_seconds`): from a message accepted to it handed to its recipients' connections, for every message " +
      'of the run, not only the first seconds, and without the time on the wire and in the generator; given as the upper bound of the ' +
      'bucket that holds the quantile. ' +
      "The generator's own lag comes from bench/chatload-lag.mjs, preloaded into chatload (which is unchanged): how late its send " +
      'timers fired (fired minus due), and the share of 10 ms slices of the sending time in which it sent nothing (0 % for a ' +
      'steady generator). chatload starts timing a message when its timer fires, so a late timer is not in its latency, but the ' +
      'same busy loop also reads the deliveries late, and a client whose timer was late sends its next message a full period after ' +
      'that: sends bunch up, and the bunched deliveries come back as one burst. ' +
      'The ratios are teamchat / InspIRCd at the same load (deliveries/s: higher is better; p99: lower is better). ' +
      'Pinning keeps the generator and the server apart, not other processes off their cores: the load average ' +
      '(the generator and the server account for about 1 of it) says how much else was running.',
    '',
    MD_END,
  ].join('\n');
  const file = path.join(ROOT, 'BENCHMARKS.md');
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# teamchat benchmarks\n';
  const a = text.indexOf(MD_START);
  const b = text.indexOf(MD_END);
  if (a >= 0 && b > a) text = text.slice(0, a) + body + text.slice(b + MD_END.length);
  else {
    const anchor = text.indexOf('\n## How loss is counted');
    text = anchor >= 0 ? `${text.slice(0, anchor)}\n${body}\n${text.slice(anchor)}` : `${text.trimEnd()}\n\n${body}\n`;
  }
  writeFileSync(file, text);
  console.log('  BENCHMARKS.md: fanout-vs-inspircd section written');
}

// ---------- the scenario ----------

/** Runs every case (per rate: InspIRCd, teamchat on PGlite, teamchat on Postgres) and reports them. */
export async function fanoutVsInspircd(options: FanoutVsInspircdOptions): Promise<CaseResult[]> {
  const shape = shapeOf(options);
  const cpus = chooseCpus(shape);
  const bin = findInspircd(options.env ?? process.env);
  if (!existsSync(CHATLOAD)) throw new Error(`fanout-vs-inspircd: the shared generator is missing: ${CHATLOAD}`);
  console.log(
    `  ${shape.clients} clients, ${shape.rooms} rooms, ${shape.durationSec} s at ${shape.rates.join(' and ')} msgs/s per client; ${cpus.note}; load avg ${loadavg().join(' ')}`,
  );
  if (!bin)
    console.log(
      '  InspIRCd not found (/usr/sbin/inspircd, PATH or $INSPIRCD): skipping its runs (apt install inspircd); the teamchat runs go on',
    );
  const results: CaseResult[] = [];
  for (const rate of shape.rates) {
    const cases: Array<() => Promise<CaseResult>> = [
      () => inspircdCase(bin, shape, rate, cpus),
      () => teamchatCase(options, 'pglite', shape, rate, cpus),
      () => teamchatCase(options, 'postgres', shape, rate, cpus),
      () => teamchatCase(options, 'pglite', shape, rate, cpus, 'irc'),
    ];
    for (const run of cases) {
      const r = await run();
      results.push(r);
      const c = r.chatload;
      if (c) {
        console.log(
          `  ${rate} msgs/s, ${r.server}: ${c.connected}/${shape.clients} joined in ${c.setup_s.toFixed(1)} s, sent ${fmt(r.sentPerSec, 0)} msgs/s, ` +
            `${fmt(c.deliveries_per_s, 0)} deliveries/s, delivered ${(c.delivered_ratio * 100).toFixed(2)} %, p50 ${c.p50_ms} ms, p99 ${c.p99_ms} ms, max ${c.max_ms} ms ` +
            `(latency of the first ${r.latencySampledPct} %), server CPU ${r.serverCpuCores}, generator CPU ${r.generatorCpuCores}, generator timers late p50/p99 ${lagCell(r)} ms, load avg ${r.loadStart} -> ${r.loadavg[0]}`,
        );
      } else
        console.log(`  ${rate} msgs/s, ${r.server}: ${r.skipped ? `skipped: ${r.skipped}` : `failed: ${r.error}`}`);
    }
  }
  console.log('\n' + tableLines(results).join('\n') + '\n');
  const date = new Date().toISOString();
  if (shape.full && !options.quick) {
    mkdirSync(path.dirname(RESULT_FILE), { recursive: true });
    const machine = {
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      loadavg: loadavg(),
    };
    writeFileSync(
      RESULT_FILE,
      JSON.stringify(
        {
          date,
          machine,
          scenario: 'fanout-vs-inspircd',
          command: 'npm run bench -- fanout-vs-inspircd',
          shape,
          cpus,
          results,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`  -> ${path.relative(ROOT, RESULT_FILE)}`);
    writeSection(results, shape, cpus, date);
  } else console.log('  (not the full shape: BENCHMARKS.md and bench/results left alone)');
  return results;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
