/**
 * One stress run: splits the clients into shards (worker threads, or the calling thread for small
 * runs), ramps them up, reports live figures, stops at the end of the duration (or on abort),
 * waits for in-flight messages, and settles the accounts into a StressReport.
 *
 * @example
 * const report = await runStress({ host: '127.0.0.1', port: 5555, clients: 50, durationMs: 10_000 }, {
 *   onTick: (tick) => console.error(formatTick(tick)),
 * });
 * console.log(report.deliveries.deliveredPct);
 */
import net from 'node:net';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { monotonicUs } from './clock.js';
import { expectedDeliveries } from './expected-deliveries.js';
import { LatencyHistogram } from './latency-histogram.js';
import { emptyCounters, type ShardConfig, type ShardLedger, type ShardStats, type ShowEvent } from './shard-types.js';
import type { ShardRequest } from './shard-worker.js';
import { diagnose, type StressNote } from './stress-diagnosis.js';
import { StressError } from './stress-error.js';
import { DEFAULT_INTERVAL_MS, DEFAULT_PM_CHANCE, DEFAULT_SWITCH_CHANCE, stressPace } from './stress-pace.js';
import { StressShard } from './stress-shard.js';

export interface StressOptions {
  host: string;
  port: number;
  /** Other nodes of a cluster: clients are spread over host:port and these, round robin. */
  moreAddresses?: { host: string; port: number }[];
  clients: number;
  /** Room names (each client starts in one, spread evenly). */
  rooms: string[];
  /**
   * Mean wait between two actions of one client (default DEFAULT_INTERVAL_MS: 1.5 actions a second,
   * inside a default server's flood budget; see stress-pace.ts).
   */
  intervalMs?: number;
  /** Measured time after the ramp. */
  durationMs: number;
  /** Time over which the clients connect (default: 5 ms per client). */
  rampMs?: number;
  /** Connect during the ramp but start sending only when it ends (default false: send once joined). */
  quietRamp?: boolean;
  /** Chance that an action is a room switch (default 0.05). */
  switchChance?: number;
  /** Chance that an action is a private message (default 0.1). */
  pmChance?: number;
  /** Worker threads (0: run in the calling thread). Default: 0 under 200 clients, else up to 4. */
  workers?: number;
  /** Nick prefix (default: `st` + 4 random characters + `_`). */
  nickPrefix?: string;
  /** How long to wait after the stop for messages still in flight (default 10 s). */
  drainMs?: number;
  /** See ShardConfig.leaveGuardMs (default 2 s). */
  leaveGuardMs?: number;
  connectTimeoutMs?: number;
  /** Live figures every this often (default 2 s). */
  tickMs?: number;
  signal?: AbortSignal;
}

export interface StressHooks {
  onTick?: (tick: StressTick) => void;
  /** Every received message (makes the run use the calling thread). */
  onShow?: (event: ShowEvent) => void;
  /** Called when the ramp starts, with the schedule, so a caller can draw progress. */
  onStart?: (schedule: { rampMs: number; durationMs: number; startedAt: number }) => void;
  onPhase?: (phase: 'run' | 'drain') => void;
}

export interface StressTick {
  phase: 'ramp' | 'run' | 'drain';
  elapsedMs: number;
  online: number;
  connected: number;
  failed: number;
  disconnected: number;
  /** Room and private messages sent so far. */
  messages: number;
  messagesPerSec: number;
  deliveries: number;
  deliveriesPerSec: number;
  /** Joins and leaves since the previous tick, per room. */
  rooms: Array<{ room: string; joins: number; leaves: number }>;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface StressReport {
  ok: boolean;
  config: {
    host: string;
    port: number;
    clients: number;
    rooms: string[];
    intervalMs: number;
    ratePerClient: number;
    durationMs: number;
    rampMs: number;
    switchChance: number;
    pmChance: number;
    workers: number;
    /** Flood tokens one client spends per second on average (a default server refills 2; see stressPace). */
    floodTokensPerSec: number;
  };
  clients: { requested: number; connected: number; failed: number; disconnected: number };
  messages: { sent: number; room: number; private: number; acked: number; rejected: number; unanswered: number };
  deliveries: {
    /** Every stamped delivery received. */
    received: number;
    expected: number;
    delivered: number;
    lost: number;
    /** Deliveries counted beyond the expected ones (duplicates), normally 0. */
    extra: number;
    deliveredPct: number;
  };
  rates: { windowSec: number; messagesPerSec: number; deliveriesPerSec: number; storedPerSec: number };
  latencyMs: { samples: number; p50: number; p90: number; p99: number; max: number };
  errors: { total: number; byCode: Record<string, number> };
  failures: string[];
  /** False when in-flight messages were still missing when the drain time ran out. */
  drained: boolean;
  stoppedEarly: boolean;
  /** Why the server held the run back, in plain words with the flags that change it (see diagnose). */
  notes: StressNote[];
}

interface ShardHandle {
  call(op: 'stats'): Promise<ShardStats>;
  call(op: 'ledger'): Promise<ShardLedger>;
  call(op: 'start', epochUs: number): Promise<null>;
  call(op: 'stop' | 'close'): Promise<null>;
  terminate(): Promise<void>;
}

const DEFAULTS = {
  intervalMs: DEFAULT_INTERVAL_MS,
  switchChance: DEFAULT_SWITCH_CHANCE,
  pmChance: DEFAULT_PM_CHANCE,
  drainMs: 10_000,
  leaveGuardMs: 2_000,
  connectTimeoutMs: 15_000,
  tickMs: 2_000,
};

/** Checks that something accepts TCP connections at host:port; throws TC_STRESS_UNREACHABLE otherwise. */
export function checkReachable(host: string, port: number, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (why: string) => {
      socket.destroy();
      reject(new StressError('TC_STRESS_UNREACHABLE', `cannot reach ${host}:${port}: ${why}`));
    };
    socket.setTimeout(timeoutMs, () => fail('timed out'));
    socket.once('error', (err) => fail(err.message));
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
  });
}

/** Runs the load and returns the settled report. Throws StressError for bad options or an unreachable host. */
export async function runStress(options: StressOptions, hooks: StressHooks = {}): Promise<StressReport> {
  validate(options);
  const opts = { ...DEFAULTS, ...stripUndefined(options) };
  const rampMs = options.rampMs ?? options.clients * 5;
  await checkReachable(options.host, options.port);
  for (const other of options.moreAddresses ?? []) await checkReachable(other.host, other.port);

  const workers = hooks.onShow
    ? 0
    : (options.workers ?? (options.clients < 200 ? 0 : Math.min(4, Math.max(1, os.availableParallelism()))));
  const shardCount = Math.max(1, Math.min(workers, options.clients));
  const nickPrefix = options.nickPrefix ?? `st${randomBytes(3).toString('hex').slice(0, 4)}_`;
  const online = new SharedArrayBuffer(options.clients);
  // Even rooms: a shuffled round-robin.
  const order = [...Array(options.clients).keys()];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const roomOf = new Array<number>(options.clients);
  order.forEach((client, i) => (roomOf[client] = i % options.rooms.length));

  const configs: ShardConfig[] = [];
  for (let s = 0; s < shardCount; s++) {
    const clients = [...Array(options.clients).keys()].filter((i) => i % shardCount === s);
    configs.push({
      host: options.host,
      port: options.port,
      ...(options.moreAddresses?.length ? { moreAddresses: options.moreAddresses } : {}),
      nickPrefix,
      clients,
      initialRooms: clients.map((i) => roomOf[i]),
      connectAtUs: clients.map((i) => (rampMs * 1000 * i) / options.clients),
      totalClients: options.clients,
      rooms: options.rooms,
      intervalMs: opts.intervalMs,
      switchChance: opts.switchChance,
      pmChance: opts.pmChance,
      windowStartUs: rampMs * 1000,
      quietRamp: options.quietRamp ?? false,
      leaveGuardMs: opts.leaveGuardMs,
      connectTimeoutMs: opts.connectTimeoutMs,
      show: hooks.onShow !== undefined,
      online,
    });
  }

  const shards: ShardHandle[] = [];
  try {
    if (workers === 0) {
      for (const config of configs) {
        const shard = new StressShard(config);
        if (hooks.onShow) shard.onShow(hooks.onShow);
        shards.push(localHandle(shard));
      }
    } else {
      // Workers take a moment to load: the run (and its epoch) starts once they are all ready.
      shards.push(...(await Promise.all(configs.map((config) => startWorker(config)))));
    }
    return await drive(options, opts, rampMs, workers, shards, hooks);
  } finally {
    await Promise.all(shards.map((s) => s.call('close').catch(() => null)));
    await Promise.all(shards.map((s) => s.terminate()));
  }
}

async function drive(
  options: StressOptions,
  opts: typeof DEFAULTS,
  rampMs: number,
  workers: number,
  shards: ShardHandle[],
  hooks: StressHooks,
): Promise<StressReport> {
  const startedAt = Date.now();
  const t0 = monotonicUs();
  const elapsedMs = () => (monotonicUs() - t0) / 1000;
  await Promise.all(shards.map((s) => s.call('start', t0)));
  hooks.onStart?.({ rampMs, durationMs: options.durationMs, startedAt });

  const gather = async () => sumStats(await Promise.all(shards.map((s) => s.call('stats'))), options.rooms.length);
  let last = {
    at: 0,
    messages: 0,
    deliveries: 0,
    joins: options.rooms.map(() => 0),
    leaves: options.rooms.map(() => 0),
  };
  let phase: StressTick['phase'] = rampMs > 0 ? 'ramp' : 'run';
  const tick = async () => {
    const s = await gather();
    const now = elapsedMs();
    const dt = Math.max(0.001, (now - last.at) / 1000);
    const messages = s.sent + s.pmSent;
    const hist = new LatencyHistogram(s.latencyCounts, s.latencyMaxUs);
    hooks.onTick?.({
      phase,
      elapsedMs: now,
      online: s.online,
      connected: s.connected,
      failed: s.failed,
      disconnected: s.disconnected,
      messages,
      messagesPerSec: (messages - last.messages) / dt,
      deliveries: s.deliveries,
      deliveriesPerSec: (s.deliveries - last.deliveries) / dt,
      rooms: options.rooms.map((room, i) => ({
        room,
        joins: s.joins[i] - last.joins[i],
        leaves: s.leaves[i] - last.leaves[i],
      })),
      p50Ms: hist.percentile(0.5) / 1000,
      p99Ms: hist.percentile(0.99) / 1000,
      errors: s.errors,
    });
    last = { at: now, messages, deliveries: s.deliveries, joins: s.joins, leaves: s.leaves };
  };

  // Run until the end of the duration or an abort.
  const endMs = rampMs + options.durationMs;
  let stoppedEarly = false;
  await new Promise<void>((resolve) => {
    let ticking = false;
    const ticker = setInterval(() => {
      if (ticking) return;
      ticking = true;
      // A progress tick that fails only misses a progress line: the run's final gather reports errors.
      tick()
        .catch(() => {})
        .finally(() => (ticking = false));
    }, opts.tickMs);
    const rampTimer = setTimeout(() => {
      phase = 'run';
      hooks.onPhase?.('run');
    }, rampMs);
    const done = () => {
      clearInterval(ticker);
      clearTimeout(rampTimer);
      clearTimeout(endTimer);
      options.signal?.removeEventListener('abort', abort);
      resolve();
    };
    const endTimer = setTimeout(done, endMs);
    const abort = () => {
      stoppedEarly = true;
      done();
    };
    if (options.signal?.aborted) abort();
    else options.signal?.addEventListener('abort', abort);
  });
  const windowSec = Math.max(0.001, (elapsedMs() - rampMs) / 1000);
  await Promise.all(shards.map((s) => s.call('stop')));
  phase = 'drain';
  hooks.onPhase?.('drain');

  // Drain: wait for every send to be answered, then for every expected delivery to arrive.
  const drainUntil = elapsedMs() + opts.drainMs;
  let stats = await gather();
  while (stats.pending > 0 && elapsedMs() < drainUntil) {
    await sleep(100);
    stats = await gather();
  }
  const ledgers = await Promise.all(shards.map((s) => s.call('ledger')));
  const expected = expectedDeliveries(ledgers, options.rooms.length);
  const delivered = (x: ShardStats) => x.roomDelivered + x.pmDelivered;
  while (delivered(stats) < expected && elapsedMs() < drainUntil) {
    await sleep(100);
    stats = await gather();
  }
  // Catch duplicates or late extras for a short moment once the count is reached.
  await sleep(200);
  stats = await gather();
  const drained = stats.pending === 0 && delivered(stats) >= expected;
  await tick();

  const hist = new LatencyHistogram(stats.latencyCounts, stats.latencyMaxUs);
  const got = delivered(stats);
  const lost = Math.max(0, expected - got);
  const ms = (us: number) => (Number.isNaN(us) ? 0 : Math.round(us) / 1000);
  const report: StressReport = {
    ok: stats.failed === 0 && lost === 0,
    config: {
      host: options.host,
      port: options.port,
      clients: options.clients,
      rooms: options.rooms,
      intervalMs: opts.intervalMs,
      ratePerClient: 1000 / opts.intervalMs,
      durationMs: options.durationMs,
      rampMs,
      switchChance: opts.switchChance,
      pmChance: opts.pmChance,
      workers,
      floodTokensPerSec:
        Math.round(stressPace({ intervalMs: opts.intervalMs, switchChance: opts.switchChance }).tokensPerSec * 1000) /
        1000,
    },
    clients: {
      requested: options.clients,
      connected: stats.connected,
      failed: stats.failed,
      disconnected: stats.disconnected,
    },
    messages: {
      sent: stats.sent + stats.pmSent,
      room: stats.sent,
      private: stats.pmSent,
      acked: stats.acked,
      rejected: stats.rejected,
      unanswered: stats.pending,
    },
    deliveries: {
      received: stats.deliveries,
      expected,
      delivered: got,
      lost,
      extra: Math.max(0, got - expected),
      deliveredPct: expected === 0 ? 100 : Math.round((got / expected) * 1e6) / 1e4,
    },
    rates: {
      windowSec: Math.round(windowSec * 1000) / 1000,
      messagesPerSec: Math.round(stats.windowSent / windowSec),
      deliveriesPerSec: Math.round(stats.windowDeliveries / windowSec),
      storedPerSec: Math.round(stats.windowAcked / windowSec),
    },
    latencyMs: {
      samples: hist.count,
      p50: ms(hist.percentile(0.5)),
      p90: ms(hist.percentile(0.9)),
      p99: ms(hist.percentile(0.99)),
      max: ms(hist.max),
    },
    errors: { total: stats.errors, byCode: stats.errorCodes },
    failures: stats.failures,
    drained,
    stoppedEarly,
    notes: [],
  };
  report.notes = diagnose(report);
  return report;
}

function validate(o: StressOptions): void {
  const bad = (message: string): never => {
    throw new StressError('TC_STRESS_BAD_OPTION', message);
  };
  if (!Number.isSafeInteger(o.clients) || o.clients < 1) bad('clients must be a positive integer');
  if (o.rooms.length === 0) bad('at least one room is needed');
  if (o.intervalMs !== undefined && !(o.intervalMs > 0)) bad('the interval must be greater than zero');
  if (!(o.durationMs > 0)) bad('the duration must be greater than zero');
  for (const [name, v] of [
    ['switch chance', o.switchChance],
    ['pm chance', o.pmChance],
  ] as const) {
    if (v !== undefined && !(v >= 0 && v <= 1)) bad(`${name} must be between 0 and 1`);
  }
  if ((o.switchChance ?? DEFAULTS.switchChance) + (o.pmChance ?? DEFAULTS.pmChance) > 1)
    bad('switch chance + pm chance must be at most 1');
  if (o.port < 1 || o.port > 65535) bad('port must be 1-65535');
}

function sumStats(all: ShardStats[], roomCount: number): ShardStats {
  const out: ShardStats = {
    ...emptyCounters(roomCount),
    online: 0,
    pending: 0,
    latencyCounts: new LatencyHistogram().counts,
    latencyMaxUs: 0,
  };
  const hist = new LatencyHistogram();
  for (const s of all) {
    for (const key of [
      'connected',
      'failed',
      'disconnected',
      'online',
      'sent',
      'pmSent',
      'acked',
      'rejected',
      'pending',
      'errors',
      'deliveries',
      'roomDelivered',
      'pmDelivered',
      'foreign',
      'windowDeliveries',
      'windowSent',
      'windowAcked',
    ] as const) {
      out[key] += s[key];
    }
    for (const [code, n] of Object.entries(s.errorCodes)) out.errorCodes[code] = (out.errorCodes[code] ?? 0) + n;
    s.joins.forEach((n, i) => (out.joins[i] += n));
    s.leaves.forEach((n, i) => (out.leaves[i] += n));
    hist.merge(new LatencyHistogram(s.latencyCounts, s.latencyMaxUs));
    out.failures.push(...s.failures.slice(0, Math.max(0, 20 - out.failures.length)));
  }
  out.latencyCounts = hist.counts;
  out.latencyMaxUs = hist.max;
  return out;
}

function localHandle(shard: StressShard): ShardHandle {
  const call = async (op: ShardRequest['op'], epochUs?: number): Promise<unknown> => {
    switch (op) {
      case 'start':
        shard.start(epochUs!);
        return null;
      case 'stop':
        shard.stop();
        return null;
      case 'stats':
        return shard.stats();
      case 'ledger':
        return shard.ledger();
      case 'close':
        await shard.close();
        return null;
    }
  };
  return { call: call as ShardHandle['call'], terminate: async () => {} };
}

/**
 * The code a shard's worker thread runs: the build's shard-worker.js when this module is the build;
 * from the sources (tests, tsx), shard-worker.ts through tsx registered in that thread.
 */
function shardWorkerEntry(): string {
  if (!import.meta.url.endsWith('.ts'))
    return `import(${JSON.stringify(new URL('./shard-worker.js', import.meta.url).href)})`;
  let tsxApi: string;
  try {
    tsxApi = import.meta.resolve('tsx/esm/api');
  } catch {
    throw new StressError(
      'TC_STRESS_NO_WORKERS',
      'worker threads need tsx to run the sources; run with --workers 0, or build (npm run build)',
    );
  }
  const entry = new URL('./shard-worker.ts', import.meta.url).href;
  return `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
}

/** Starts a worker thread running a shard and waits until it is ready. */
async function startWorker(config: ShardConfig): Promise<ShardHandle> {
  const worker = new Worker(shardWorkerEntry(), { eval: true, workerData: config });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let failure: Error | null = null;
  await new Promise<void>((resolve, reject) => {
    worker.on('message', (m: { ready?: boolean; id?: number; result?: unknown }) => {
      if (m.ready) return resolve();
      const w = waiting.get(m.id!);
      waiting.delete(m.id!);
      w?.resolve(m.result);
    });
    worker.on('error', (err) => {
      failure = err;
      reject(err);
      for (const w of waiting.values()) w.reject(err);
      waiting.clear();
    });
    worker.on('exit', () => {
      const err = failure ?? new Error('stress worker exited');
      for (const w of waiting.values()) w.reject(err);
      waiting.clear();
    });
  });
  const call = (op: ShardRequest['op'], epochUs?: number) =>
    new Promise<unknown>((resolve, reject) => {
      if (failure) return reject(failure);
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ id, op, epochUs } satisfies ShardRequest);
    });
  return {
    call: call as ShardHandle['call'],
    terminate: async () => {
      await worker.terminate();
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
