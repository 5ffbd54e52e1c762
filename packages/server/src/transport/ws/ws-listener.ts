/**
 * Chat over WebSocket on the HTTP port (`/ws`): the same NDJSON frames as TCP, one frame per
 * text message. Payloads are capped at the line limit by `ws` itself while parsing.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { MAX_LINE_BYTES } from '@teamchat/protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import { Connection, type ConnectionHost } from '../connection.js';
import type { Link } from '../link.js';

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
}

export class WsListener {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_LINE_BYTES, perMessageDeflate: false });

  constructor(readonly host: ConnectionHost) {}

  /** Takes an upgrade request for `/ws`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req));
  }

  #accept(ws: WebSocket, req: IncomingMessage): void {
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const connection = new Connection('json', remote, new WsLink(ws), this.host);
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
