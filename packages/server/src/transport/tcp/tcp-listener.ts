/**
 * The TCP port: one listener, two dialects told apart by the first line. A line starting with `{`
 * is NDJSON; anything else, or silence for PROMPT_DELAY_MS, means a human with `nc`/`telnet`,
 * who gets the nickname prompt. Input is framed with bounded buffering (LineFramer).
 */
import net from 'node:net';
import tls, { type TlsOptions } from 'node:tls';
import {
  encodeFrame,
  ERRORS,
  formatPlain,
  LineFramer,
  NICK_PROMPT,
  PLAIN_EOL,
  type ByeFrame,
  type FramerError,
} from '@teamchat/protocol';
import type { Dialect } from '../../core/session.js';
import { Connection, type ConnectionHost } from '../connection.js';
import type { Link } from '../link.js';

/** How long a silent client waits for the plain-text prompt (NDJSON clients speak first). */
export const PROMPT_DELAY_MS = 250;

export interface TcpListenerOptions {
  host: string;
  port: number;
  connectionHost: ConnectionHost;
  /** Called for every connection accepted, before its dialect is known. */
  onSocket?: (socket: net.Socket) => void;
  /** Serve TLS (certificate and key) instead of plain TCP. */
  tls?: TlsOptions;
}

/** TCP keepalive probes for every connection: how plain-text (nc) users' dead links are noticed. */
export const KEEPALIVE_DELAY_MS = 60_000;

export class TcpLink implements Link {
  /** Frames queued in this tick; they leave together in one write. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #flush = () => {
    const chunks = this.#pending;
    const bytes = this.#pendingBytes;
    if (chunks.length === 0) return; // already flushed by end()
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.socket.destroyed || this.socket.writableEnded) return;
    // One write (one syscall) per connection per tick, however many frames a batch delivered.
    this.socket.write(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, bytes));
  };

  constructor(readonly socket: net.Socket) {}

  write(data: Buffer): void {
    if (this.#pending.length === 0) process.nextTick(this.#flush);
    this.#pending.push(data);
    this.#pendingBytes += data.length;
  }

  get buffered(): number {
    return this.socket.writableLength + this.#pendingBytes;
  }

  end(): void {
    if (this.#pending.length > 0) this.#flush();
    this.socket.end();
    // A peer that never reads must not keep the socket alive forever.
    setTimeout(() => this.socket.destroy(), 5_000).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  pauseInput(): void {
    this.socket.pause();
  }

  resumeInput(): void {
    if (!this.socket.destroyed) this.socket.resume();
  }
}

/** Starts listening; resolves with the bound server. */
export function listenTcp(options: TcpListenerOptions): Promise<net.Server> {
  const server: net.Server = options.tls
    ? tls.createServer(options.tls, (socket) => accept(socket, options))
    : net.createServer({ noDelay: true }, (socket) => accept(socket, options));
  // A failed TLS handshake (a plain client, a bad certificate) concerns that socket only.
  server.on('tlsClientError', (_err: Error, socket: tls.TLSSocket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function accept(socket: net.Socket, options: TcpListenerOptions): void {
  options.onSocket?.(socket);
  const remote = `${socket.remoteAddress}:${socket.remotePort}`;
  const ip = socket.remoteAddress ?? '';
  const limiter = options.connectionHost.security?.ipLimiter;
  if (limiter && !limiter.acquire(ip)) {
    options.connectionHost.connectionRefused?.(ip, limiter.max);
    // The dialect is not known yet: an NDJSON line is readable by programs and people alike.
    const bye: ByeFrame = {
      type: 'bye',
      code: 'TC_ERR_TOO_MANY_CONNECTIONS',
      reason: `${ERRORS.TC_ERR_TOO_MANY_CONNECTIONS.message} (${limiter.max})`,
    };
    socket.on('error', () => {});
    socket.end(encodeFrame(bye));
    setTimeout(() => socket.destroy(), 2_000).unref();
    return;
  }
  socket.once('close', () => limiter?.release(ip));
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
  const framer = new LineFramer();
  const link = new TcpLink(socket);
  let connection: Connection | null = null;

  let prompted = false;
  const start = (dialect: Dialect): Connection => {
    clearTimeout(promptTimer);
    clearTimeout(registrationTimer);
    // An NDJSON client that was shown the prompt (its hello came late): end the prompt's line, so
    // the first frame starts a line of its own (clients skip the one non-JSON line).
    if (prompted && dialect === 'json') link.write(Buffer.from('\n'));
    connection = new Connection(dialect, remote, link, options.connectionHost, { prompted });
    return connection;
  };

  // A silent client is a person with nc: prompt for a nick. The first line still decides the
  // dialect, so an NDJSON client whose hello was merely late (a busy machine) is not mistaken for
  // one. Timers run before I/O callbacks in a loop turn: defer once more so that a hello already
  // waiting in the socket is read first.
  const promptTimer = setTimeout(
    () =>
      setImmediate(() => {
        if (connection || socket.destroyed) return;
        prompted = true;
        link.write(Buffer.from(NICK_PROMPT));
      }),
    PROMPT_DELAY_MS,
  );

  // A client that never says a word (not even its dialect) is closed like one that picks no nick.
  const timeoutMs = options.connectionHost.security?.registrationTimeoutMs ?? 0;
  const registrationTimer = setTimeout(
    () => {
      if (connection || socket.destroyed) return;
      const bye: ByeFrame = {
        type: 'bye',
        code: 'TC_ERR_REGISTRATION_TIMEOUT',
        reason: ERRORS.TC_ERR_REGISTRATION_TIMEOUT.message,
      };
      options.connectionHost.log(`closing ${remote}: TC_ERR_REGISTRATION_TIMEOUT`);
      socket.end(prompted ? PLAIN_EOL + formatPlain(bye, '').join(PLAIN_EOL) + PLAIN_EOL : encodeFrame(bye));
      setTimeout(() => socket.destroy(), 2_000).unref();
    },
    timeoutMs || 2 ** 31 - 1,
  );
  registrationTimer.unref();
  if (timeoutMs === 0) clearTimeout(registrationTimer);

  const onLine = (line: Buffer) => {
    if (connection) return connection.receive(line);
    // The first non-empty line decides the dialect.
    const first = firstNonSpace(line);
    if (first === -1) return;
    start(line[first] === 0x7b /* { */ ? 'json' : 'plain').receive(Buffer.from(line));
  };
  const onError = (code: FramerError) => {
    if (connection) connection.receiveError(code);
    else start('plain').receiveError(code);
  };

  socket.on('data', (chunk: Buffer) => framer.push(chunk, onLine, onError));
  socket.on('error', () => {}); // 'close' follows; resets are normal for chat clients
  socket.on('close', () => {
    clearTimeout(promptTimer);
    clearTimeout(registrationTimer);
    connection?.closed();
  });
}

function firstNonSpace(line: Buffer): number {
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return i;
  }
  return -1;
}
