/**
 * Chat over WebSocket on the HTTP port (`/ws`): the same NDJSON frames as TCP, one frame per
 * text message. Payloads are capped at the line limit by `ws` itself while parsing.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { encodeFrame, ERRORS, MAX_LINE_BYTES } from '@teamchat/protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import { Connection, type ConnectionHost } from '../connection.js';
import type { Link } from '../link.js';
import { originAllowed } from '../security/origin-check.js';

class WsLink implements Link {
  constructor(readonly ws: WebSocket) {}

  write(data: Buffer): void {
    // Frames are encoded as NDJSON lines; a WebSocket message carries one frame without the newline.
    this.ws.send(data.subarray(0, data.length - 1), { binary: false });
  }

  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  end(): void {
    this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), 5_000).unref();
  }

  destroy(): void {
    this.ws.terminate();
  }

  ping(): void {
    this.ws.ping();
  }

  pauseInput(): void {
    this.ws.pause();
  }

  resumeInput(): void {
    this.ws.resume();
  }
}

export class WsListener {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_LINE_BYTES, perMessageDeflate: false });

  constructor(readonly host: ConnectionHost) {}

  /**
   * Takes an upgrade request for `/ws`. A browser page from another origin is refused with 403
   * (see origin-check.ts); past the per-address limit the socket opens only to say a coded `bye`.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const security = this.host.security;
    if (security && !originAllowed(req.headers, security.allowOrigins)) {
      this.host.log(
        `refused websocket from origin ${JSON.stringify(req.headers.origin)} (${req.socket.remoteAddress})`,
      );
      const body = 'origin not allowed';
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req));
  }

  #accept(ws: WebSocket, req: IncomingMessage): void {
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const ip = req.socket.remoteAddress ?? '';
    const limiter = this.host.security?.ipLimiter;
    if (limiter && !limiter.acquire(ip)) {
      this.host.connectionRefused?.(ip, limiter.max);
      const reason = `${ERRORS.TC_ERR_TOO_MANY_CONNECTIONS.message} (${limiter.max})`;
      ws.on('error', () => {});
      // A WebSocket message is one frame: no newline.
      ws.send(encodeFrame({ type: 'bye', code: 'TC_ERR_TOO_MANY_CONNECTIONS', reason }).trimEnd());
      ws.close(1008, 'too many connections');
      setTimeout(() => ws.terminate(), 2_000).unref();
      return;
    }
    ws.once('close', () => limiter?.release(ip));
    const connection = new Connection('json', remote, new WsLink(ws), this.host);
    ws.on('pong', () => connection.noteAlive());
    // Text or binary alike: the decoder checks UTF-8 and JSON.
    ws.on('message', (data: Buffer) => connection.receive(data));
    ws.on('error', () => {});
    ws.on('close', () => connection.closed());
  }

  /** Closes every WebSocket client. */
  close(): void {
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
  }
}
