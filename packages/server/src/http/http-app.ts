/**
 * Placeholder until the metrics issue lands: the HTTP routes other than the chat WebSocket.
 * The metrics work replaces this file, keeping the exported names and signatures.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { MetricsService } from '../metrics/metrics-service.js';

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
}

export interface HttpApp {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Takes WebSocket upgrades other than the chat's `/ws`; returns false when the path is not its own. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): Promise<void>;
}

export function createHttpApp(options: HttpAppOptions): HttpApp {
  return {
    handle(_req, res) {
      if (_req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(options.health()));
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    },
    handleUpgrade: () => false,
    close: async () => {},
  };
}
