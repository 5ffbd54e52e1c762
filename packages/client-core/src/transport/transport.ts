/**
 * The port between the client and a byte stream: one connection attempt to one server, carrying
 * NDJSON frames. `tcpTransport` (plain TCP or TLS) and `wsTransport` (WebSocket) implement it; a
 * test may pass its own.
 *
 * Events come asynchronously (never from inside the factory call); `close` comes exactly once,
 * after a failed attempt as after a session.
 *
 * @example
 * const open: TransportFactory = tcpTransport({ tls: { ca } });
 * const t = open({ host: 'localhost', port: 5555 }, { open() { t.send(hello); }, line: onLine, ... });
 */
import type { ClientFrame } from '@teamchat/protocol';
import type { ServerAddress } from '../server-address.js';

export interface TransportEvents {
  /** The host name was looked up, or the TCP connection is up (a later timeout is worded by it). */
  progress(): void;
  /** Ready for frames (after the TLS handshake, or the WebSocket upgrade). */
  open(): void;
  /** Bytes arrived (the connection is alive). */
  activity(): void;
  /** One frame, as received (without its newline). */
  line(line: Uint8Array | string): void;
  /** The server sent a line over the client's limit: it was dropped (TC_ERR_LINE_TOO_LONG / TC_ERR_INPUT_OVERFLOW). */
  overflow(code: string): void;
  error(error: NodeJS.ErrnoException): void;
  /** The connection is closed (or the attempt failed); exactly once. */
  close(): void;
}

export interface Transport {
  /** Sends one frame (encoded with the protocol's `encodeFrame`); dropped when not open. */
  send(frame: ClientFrame): void;
  /** Closes now; `close` follows. */
  destroy(): void;
}

export type TransportFactory = (address: ServerAddress, events: TransportEvents) => Transport;

export interface TlsOptions {
  /** PEM certificate(s) to trust (a self-signed server). */
  ca?: string | Buffer;
  /** The name to verify the certificate against; default: the host (when it is not an IP). */
  servername?: string;
}

/** Lines from the server may be far longer than what it accepts (a `joined` with a page of history). */
export const MAX_SERVER_LINE_BYTES = 4 * 1024 * 1024;
