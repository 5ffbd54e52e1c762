/**
 * The dashboards' live feed on `/api/live`: a WebSocket that receives every new snapshot the
 * moment it is taken. Messages (server to browser, JSON text):
 *   { "type": "hello", "info": {...}, "now": <ms>, "metrics": { intervalMs, window, retentionMs, activeWindowMs, maxRooms }, "latest": <snapshot|null> }
 * Snapshots are bounded (at most `maxRooms` named rooms plus `(other)` and `(private)`).
 *   { "type": "snapshot", "snapshot": <snapshot> }
 * A browser that cannot keep up (over 1 MiB unsent) is disconnected; it reconnects and refetches.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { MetricSnapshot } from '../metrics/metric-snapshot.js';

export const LIVE_PATH = '/api/live';
const MAX_BUFFERED_BYTES = 1024 * 1024;
const PING_EVERY_MS = 30_000;

export interface LiveFeedOptions {
  /** The hello message for a new browser. */
  hello: () => unknown;
  log: (line: string) => void;
}

export class LiveFeed {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  readonly #alive = new WeakMap<WebSocket, boolean>();
  readonly #options: LiveFeedOptions;
  readonly #ping: NodeJS.Timeout;

  constructor(options: LiveFeedOptions) {
    this.#options = options;
    this.#ping = setInterval(() => this.#heartbeat(), PING_EVERY_MS);
    this.#ping.unref();
  }

  get clients(): number {
    return this.#wss.clients.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#alive.set(ws, true);
      ws.on('pong', () => this.#alive.set(ws, true));
      ws.on('error', () => ws.terminate());
      // Browsers have nothing to say on this feed; anything they send is ignored.
      ws.send(JSON.stringify(this.#options.hello()));
    });
  }

  /** Sends a snapshot to every connected dashboard (serialized once). */
  broadcast(snapshot: MetricSnapshot): void {
    if (this.#wss.clients.size === 0) return;
    const text = JSON.stringify({ type: 'snapshot', snapshot });
    for (const ws of this.#wss.clients) {
      if (ws.readyState !== ws.OPEN) continue;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.#options.log('metrics: a dashboard could not keep up with the live feed; disconnected it');
        ws.terminate();
        continue;
      }
      ws.send(text);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#ping);
    for (const ws of this.#wss.clients) ws.close(1001, 'server is shutting down');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const ws of this.#wss.clients) ws.terminate();
        resolve();
      }, 1000);
      timer.unref();
      const check = () => {
        if (this.#wss.clients.size === 0) {
          clearTimeout(timer);
          resolve();
        } else setTimeout(check, 10).unref();
      };
      check();
    });
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #heartbeat(): void {
    for (const ws of this.#wss.clients) {
      if (this.#alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      this.#alive.set(ws, false);
      ws.ping();
    }
  }
}
