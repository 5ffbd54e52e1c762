/**
 * The HTTP routes other than the chat WebSocket: the dashboard page, metrics as JSON, CSV and
 * Prometheus text, health, server info, and the dashboards' live feed (WebSocket on /api/live).
 * create-server owns the node http.Server; it hands every request here, and every upgrade that
 * is not the chat's `/ws`. Endpoints are documented in README.md beside this file.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { CSV_FORMATS, type CsvFormat } from '../metrics/metrics-csv-stream.js';
import { MetricsQueryError } from '../metrics/metrics-query.js';
import { DEFAULT_QUERY_ROOMS, type MetricsService } from '../metrics/metrics-service.js';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics/prometheus-text.js';
import { parseTimeRange, TimeRangeError } from '../metrics/time-range.js';
import type { TimeRange } from '../metrics/metrics-store.js';
import { sendError, type HttpErrorCode } from './http-errors.js';
import { LIVE_PATH, LiveFeed } from './live-feed.js';
import { GateBusyError, QueryGate } from './query-gate.js';
import { StaticAssets } from './static-assets.js';

export interface HealthReport {
  status: 'ok' | 'degraded';
  db: 'ok' | 'degraded' | 'down';
  uptimeMs: number;
  connections: number;
  /** Messages accepted but not yet stored. */
  pendingWrites: number;
}

export interface ServerInfo {
  name: string;
  version: string;
  startedAt: number;
  /** Set by `teamchat demo`: when the demo ends (epoch ms); the dashboard shows a countdown. */
  demoEndsAt?: number;
}

export interface HttpAppOptions {
  metrics: MetricsService;
  health: () => HealthReport;
  info: ServerInfo;
  log: (line: string) => void;
  /** Clock, for tests (default Date.now). */
  now?: () => number;
}

export interface HttpApp {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Takes WebSocket upgrades other than the chat's `/ws`; returns false when the path is not its own. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): Promise<void>;
}

/** Points `/api/metrics` returns by default, and at most. */
export const DEFAULT_POINTS = 2000;
export const MAX_POINTS = 10_000;
/** Rooms one `/api/metrics` or `/api/metrics.csv` answer may name (`rooms=`). */
export const MAX_ANSWER_ROOMS = 200;
/**
 * Room entries one `/api/metrics` answer may hold: points x (rooms + the two aggregates). About
 * 150 bytes each, so an answer stays under ~15 MB; the default (2000 x 22) is under half of it.
 */
export const MAX_ANSWER_ROOM_CELLS = 100_000;
/** Metrics reads running at once, and waiting, per endpoint (JSON, CSV); past that: 503 TC_HTTP_BUSY. */
export const QUERY_GATE = { running: 2, waiting: 16 } as const;

class BadRequest extends Error {
  constructor(
    readonly code: HttpErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * @example
 * const app = createHttpApp({ metrics, health, info: { name: 'teamchat', version, startedAt }, log });
 * const server = http.createServer((req, res) => app.handle(req, res));
 * server.on('upgrade', (req, socket, head) => app.handleUpgrade(req, socket, head) || socket.destroy());
 */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { metrics, log } = options;
  const now = options.now ?? Date.now;
  const assets = new StaticAssets();
  const metricsConfig = () => ({
    intervalMs: metrics.intervalMs,
    window: metrics.window,
    retentionMs: metrics.retentionMs,
    activeWindowMs: metrics.activeWindowMs,
    maxRooms: metrics.maxRooms,
  });
  const infoBody = () => ({ ...options.info, now: now(), metrics: metricsConfig() });
  const live = new LiveFeed({
    hello: () => ({
      type: 'hello',
      info: options.info,
      now: now(),
      metrics: metricsConfig(),
      latest: metrics.latest() ?? null,
    }),
    log,
  });
  const unsubscribe = metrics.onSnapshot((snapshot) => live.broadcast(snapshot));
  const jsonGate = new QueryGate(QUERY_GATE);
  const csvGate = new QueryGate(QUERY_GATE);

  const routes: Record<string, (url: URL, req: IncomingMessage, res: ServerResponse) => Promise<void> | void> = {
    '/healthz': (_url, _req, res) => {
      const report = options.health();
      const latest = metrics.latest();
      const metricsStore = metrics.storeHealthy ? 'ok' : 'failing';
      const ok = report.status === 'ok' && metrics.storeHealthy;
      sendJson(res, ok ? 200 : 503, {
        ...report,
        status: ok ? 'ok' : 'degraded',
        metricsStore,
        lastSnapshotAt: latest ? new Date(latest.ts).toISOString() : null,
      });
    },
    '/api/info': (_url, _req, res) => sendJson(res, 200, infoBody()),
    '/metrics': (_url, _req, res) => {
      const body = metrics.prometheus();
      res.writeHead(200, {
        'content-type': PROMETHEUS_CONTENT_TYPE,
        'cache-control': 'no-store',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    },
    '/api/metrics': async (url, _req, res) => {
      const range = rangeOf(url);
      const limit = limitOf(url);
      const rooms = roomsOf(url, DEFAULT_QUERY_ROOMS);
      const cells = limit * (rooms + 2);
      if (cells > MAX_ANSWER_ROOM_CELLS) {
        throw new BadRequest(
          'TC_HTTP_RANGE_TOO_LARGE',
          `limit x (rooms + 2) = ${cells} room entries; at most ${MAX_ANSWER_ROOM_CELLS}: ask for fewer points or rooms`,
        );
      }
      const result = await jsonGate.run(() => metrics.query({ ...range, limit, rooms }));
      sendJson(res, 200, {
        from: new Date(range.from).toISOString(),
        to: new Date(range.to).toISOString(),
        count: result.count,
        step: result.step,
        rooms,
        snapshots: result.snapshots,
      });
    },
    '/api/metrics.csv': async (url, _req, res) => {
      const range = rangeOf(url);
      const rooms = roomsOf(url, metrics.maxRooms);
      const format = formatOf(url);
      await csvGate.run(async () => {
        const chunks = metrics.csv(range, { rooms, format });
        // The header needs the rooms and the range's size: a refusal or a database failure surfaces
        // here, before any byte is sent.
        const first = await chunks.next();
        res.writeHead(200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="teamchat-metrics${format === 'long' ? '-long' : ''}.csv"`,
          'cache-control': 'no-store',
        });
        if (!first.done) res.write(first.value);
        for await (const chunk of chunks) {
          if (res.destroyed) return;
          if (!res.write(chunk)) await waitForDrain(res);
        }
        res.end();
      });
    },
  };

  function rangeOf(url: URL): TimeRange {
    rejectRepeated(url, 'from');
    rejectRepeated(url, 'to');
    try {
      return parseTimeRange({ from: url.searchParams.get('from'), to: url.searchParams.get('to') }, now());
    } catch (err) {
      if (err instanceof TimeRangeError) {
        throw new BadRequest(
          err.code === 'TC_METRICS_BAD_RANGE' ? 'TC_HTTP_BAD_RANGE' : 'TC_HTTP_BAD_PARAM',
          err.message,
        );
      }
      throw err;
    }
  }

  function limitOf(url: URL): number {
    rejectRepeated(url, 'limit');
    const text = url.searchParams.get('limit');
    if (text === null || text === '') return DEFAULT_POINTS;
    const limit = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_POINTS)) {
      throw new BadRequest(
        'TC_HTTP_BAD_PARAM',
        `limit: ${JSON.stringify(text)} is not a whole number from 1 to ${MAX_POINTS}`,
      );
    }
    return limit;
  }

  function roomsOf(url: URL, fallback: number): number {
    rejectRepeated(url, 'rooms');
    const text = url.searchParams.get('rooms');
    if (text === null || text === '') return Math.min(fallback, MAX_ANSWER_ROOMS);
    const rooms = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
    if (!(rooms >= 0 && rooms <= MAX_ANSWER_ROOMS)) {
      throw new BadRequest(
        'TC_HTTP_BAD_PARAM',
        `rooms: ${JSON.stringify(text)} is not a whole number from 0 to ${MAX_ANSWER_ROOMS}`,
      );
    }
    return rooms;
  }

  function formatOf(url: URL): CsvFormat {
    rejectRepeated(url, 'format');
    const text = url.searchParams.get('format');
    if (text === null || text === '') return 'wide';
    if (!(CSV_FORMATS as readonly string[]).includes(text)) {
      throw new BadRequest(
        'TC_HTTP_BAD_PARAM',
        `format: ${JSON.stringify(text)} is not one of ${CSV_FORMATS.join(', ')}`,
      );
    }
    return text as CsvFormat;
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const route = routes[path];
    if (!route && !assets.has(path)) return sendError(res, 'TC_HTTP_NOT_FOUND', path);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(res, 'TC_HTTP_METHOD', `${req.method} ${path}; use GET`, { allow: 'GET, HEAD' });
    }
    if (route) return route(url, req, res);
    await assets.serve(path, req, res);
  }

  return {
    handle(req, res) {
      dispatch(req, res).catch((err: unknown) => {
        if (err instanceof BadRequest) return sendError(res, err.code, err.message);
        if (err instanceof MetricsQueryError) return sendError(res, 'TC_HTTP_RANGE_TOO_LARGE', err.message);
        if (err instanceof GateBusyError) return sendError(res, 'TC_HTTP_BUSY', undefined, { 'retry-after': '1' });
        const message = (err as Error)?.message ?? String(err);
        if (isDatabaseError(err)) {
          log(`error: ${req.method} ${req.url}: the metrics database failed: ${message}`);
          return sendError(res, 'TC_HTTP_DB_UNAVAILABLE', message);
        }
        log(`error: ${req.method} ${req.url}: ${message}`);
        return sendError(res, 'TC_HTTP_INTERNAL');
      });
    },

    handleUpgrade(req, socket, head) {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path !== LIVE_PATH) return false;
      live.handleUpgrade(req, socket, head);
      return true;
    },

    async close() {
      unsubscribe();
      await live.close();
    },
  };
}

function rejectRepeated(url: URL, name: string): void {
  if (url.searchParams.getAll(name).length > 1)
    throw new BadRequest('TC_HTTP_BAD_PARAM', `${name} is given more than once`);
}

/** Resolves when the response drains, or when it closes first (a client that went away). */
function waitForDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Errors from the database drivers (pg, PGlite, Kysely), as opposed to bugs in this code. */
function isDatabaseError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: unknown; severity?: unknown };
  return (
    typeof e.severity === 'string' ||
    (typeof e.code === 'string' && /^(?:[0-9A-Z]{5}|ECONN\w+|ETIMEDOUT|TC_STORE_\w+)$/.test(e.code)) ||
    /driver has already been destroyed|PGlite is closed|Connection terminated/i.test(e.message)
  );
}
