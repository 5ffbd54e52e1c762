/**
 * NDJSON over WebSocket: one frame per text message, on the server's HTTP port at `/ws` (`wss://`
 * with `tls`). The `ws` module is loaded on the first connection, so a TCP-only client never
 * pays for it.
 *
 * @example
 * const client = new ChatClient({ addresses: [{ host: 'chat.example', port: 8080 }], nick, transport: wsTransport() });
 */
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { encodeFrame } from '@teamchat/protocol';
import type WebSocket from 'ws';
import type { ServerAddress } from '../server-address.js';
import {
  MAX_SERVER_LINE_BYTES,
  type TlsOptions,
  type Transport,
  type TransportEvents,
  type TransportFactory,
} from './transport.js';

export interface WsTransportOptions {
  /** Connect with `wss://`. */
  tls?: TlsOptions;
  /** The path of the WebSocket endpoint; default `/ws`. */
  path?: string;
}

/** `ws://host:port/path`, the host in brackets when it is an IPv6 address. */
export function wsUrl(address: ServerAddress, options: WsTransportOptions = {}): string {
  const host = isIP(address.host) === 6 ? `[${address.host}]` : address.host;
  return `${options.tls ? 'wss' : 'ws'}://${host}:${address.port}${options.path ?? '/ws'}`;
}

export function wsTransport(options: WsTransportOptions = {}): TransportFactory {
  return (address: ServerAddress, events: TransportEvents): Transport => {
    let socket: WebSocket | null = null;
    let destroyed = false;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      events.close();
    };
    import('ws')
      .then(({ default: WebSocketClass }) => {
        if (destroyed) return close();
        const tls = options.tls;
        const ws = new WebSocketClass(wsUrl(address, options), {
          maxPayload: MAX_SERVER_LINE_BYTES,
          perMessageDeflate: false,
          ...(tls?.ca ? { ca: tls.ca } : {}),
          ...(tls?.servername ? { servername: tls.servername } : {}),
          // Report the lookup, so that a timeout says whether the name was ever found.
          lookup: ((hostname: string, opts: object, callback: (...args: unknown[]) => void) =>
            dnsLookup(hostname, opts, (...args: unknown[]) => {
              events.progress();
              callback(...args);
            })) as unknown as typeof dnsLookup,
        });
        socket = ws;
        ws.on('upgrade', () => events.progress());
        ws.on('open', () => events.open());
        ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
          events.activity();
          if (isBinary) return;
          const text = Buffer.isBuffer(data)
            ? data.toString('utf8')
            : Array.isArray(data)
              ? Buffer.concat(data).toString('utf8')
              : Buffer.from(data).toString('utf8');
          for (const line of text.split('\n')) if (line.length > 0) events.line(line);
        });
        ws.on('error', (err: NodeJS.ErrnoException) => events.error(err));
        ws.on('close', close);
      })
      .catch((err: NodeJS.ErrnoException) => {
        events.error(err);
        close();
      });
    return {
      send(frame) {
        if (socket && socket.readyState === socket.OPEN) socket.send(encodeFrame(frame).slice(0, -1));
      },
      destroy() {
        destroyed = true;
        if (socket) socket.terminate();
      },
    };
  };
}
