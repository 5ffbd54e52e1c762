/**
 * The IRC port (`teamchat serve --irc-port 6667`, TLS on `--irc-tls-port`): every connection is a
 * Connection in the IRC dialect, so flood control, per-address limits, the output bound,
 * registration timeout and heartbeats are those of the other transports.
 *
 * @example
 * const server = await listenIrc({ host: '0.0.0.0', port: 6667, connectionHost, gateway });
 */
import net from 'node:net';
import { hostname } from 'node:os';
import tls, { type TlsOptions } from 'node:tls';
import { LineFramer } from '@teamchat/protocol';
import { Connection, type ConnectionHost } from '../connection.js';
import { KEEPALIVE_DELAY_MS, TcpLink } from '../tcp/tcp-listener.js';
import { IrcDialect } from './irc-dialect.js';
import { IrcGateway } from './irc-gateway.js';
import { IRC_MAX_INPUT_BYTES } from './irc-message.js';

export interface IrcListenerOptions {
  host: string;
  port: number;
  connectionHost: ConnectionHost;
  gateway: IrcGateway;
  /** Serve TLS (certificate and key) instead of plain TCP. */
  tls?: TlsOptions;
}

/** Starts listening; resolves with the bound server. */
export function listenIrc(options: IrcListenerOptions): Promise<net.Server> {
  const server: net.Server = options.tls
    ? tls.createServer(options.tls, (socket) => accept(socket, options))
    : net.createServer({ noDelay: true }, (socket) => accept(socket, options));
  server.on('tlsClientError', (_err: Error, socket: tls.TLSSocket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function accept(socket: net.Socket, options: IrcListenerOptions): void {
  const host = options.connectionHost;
  const ip = socket.remoteAddress ?? '';
  const limiter = host.security?.ipLimiter;
  socket.on('error', () => {}); // 'close' follows; resets are normal for chat clients
  if (limiter && !limiter.acquire(ip)) {
    host.connectionRefused?.(ip, limiter.max);
    socket.end(`ERROR :Closing Link: ${ip} (Too many connections from your address: at most ${limiter.max})\r\n`);
    setTimeout(() => socket.destroy(), 2_000).unref();
    return;
  }
  socket.once('close', () => limiter?.release(ip));
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
  // IRC lines: 512 bytes plus up to 8191 of tags; longer ones are answered ERR_INPUTTOOLONG.
  const framer = new LineFramer({ maxLineBytes: IRC_MAX_INPUT_BYTES });
  const link = new TcpLink(socket);
  let dialect: IrcDialect | null = null;
  const connection = new Connection('irc', `${socket.remoteAddress}:${socket.remotePort}`, link, host, {
    lineDialect: (c, core) => (dialect = new IrcDialect(c, core, options.gateway)),
  });
  socket.on('data', (chunk: Buffer) =>
    framer.push(
      chunk,
      (line) => connection.receive(line),
      (code) => connection.receiveError(code),
    ),
  );
  socket.on('close', () => {
    dialect?.closed();
    connection.closed();
  });
}

/** `createServer({ irc })`: the IRC gateway's settings. */
export interface IrcServerOptions {
  /** Plain-text IRC port (0: any free port). */
  port: number;
  /** TLS IRC port (needs the server's TLS certificate and key). */
  tlsPort?: number;
  /** The name in prefixes and numerics (default: the host name). */
  serverName?: string;
  network?: string;
  motd?: string[];
  /** OPER credentials. */
  opers?: { name: string; password: string }[];
  /** A server password for the IRC ports. */
  password?: string;
  /** Messages replayed on JOIN to clients without draft/chathistory (default 0). */
  historyOnJoin?: number;
}

export interface IrcPorts {
  ircPort: number;
  ircTlsPort?: number;
  close(): void;
}

/** Starts the IRC ports of a server (called by createServer's `listen`). */
export async function startIrc(
  options: IrcServerOptions,
  context: {
    host: string;
    connectionHost: ConnectionHost;
    inOrder: (run: () => void) => void;
    tls?: TlsOptions;
    version: string;
    startedAt: number;
    maxRooms?: number;
  },
): Promise<IrcPorts> {
  const gateway = new IrcGateway({
    serverName: options.serverName ?? hostname(),
    ...(options.network !== undefined ? { network: options.network } : {}),
    ...(options.motd !== undefined ? { motd: options.motd } : {}),
    ...(options.opers !== undefined ? { opers: options.opers } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.historyOnJoin !== undefined ? { historyOnJoin: options.historyOnJoin } : {}),
    ...(context.maxRooms !== undefined ? { maxRooms: context.maxRooms } : {}),
    version: context.version,
    startedAt: context.startedAt,
    inOrder: context.inOrder,
  });
  const plain = await listenIrc({
    host: context.host,
    port: options.port,
    connectionHost: context.connectionHost,
    gateway,
  });
  let secure: net.Server | null = null;
  if (options.tlsPort !== undefined) {
    if (!context.tls) {
      plain.close();
      throw new Error('--irc-tls-port needs --tls-cert and --tls-key');
    }
    try {
      secure = await listenIrc({
        host: context.host,
        port: options.tlsPort,
        connectionHost: context.connectionHost,
        gateway,
        tls: context.tls,
      });
    } catch (err) {
      plain.close();
      throw err;
    }
  }
  return {
    ircPort: (plain.address() as net.AddressInfo).port,
    ...(secure ? { ircTlsPort: (secure.address() as net.AddressInfo).port } : {}),
    close() {
      plain.close();
      secure?.close();
    },
  };
}
