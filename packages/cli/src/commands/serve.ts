/**
 * `teamchat serve`: the headless chat server.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { StoreConfig } from '@teamchat/server';
import { parseDuration, parsePort, parsePositiveInt } from '../parse.js';
import { defaultDataDir } from '../serve/data-dir.js';
import { assertPortsFree } from '../serve/port-check.js';
import { createServerLog, formatLogLine, type LogFormat } from '../serve/server-log.js';
import { UsageError } from '../serve/usage-error.js';
import { VERSION } from '../version.js';

interface ServeFlags {
  port: number;
  httpPort: number;
  host: string;
  dataDir?: string;
  databaseUrl?: string;
  nats?: string;
  nodeId?: string;
  logFormat: LogFormat;
  metricsInterval: number;
  metricsWindow: number;
  metricsRetention: number;
  metricsActiveWindow: number;
  metricsMaxRooms: number;
  maxSendQueue: number;
  requireAccounts?: boolean;
  minPasswordLength: number;
  guestRoomModes?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  allowOrigin: string[];
  dashboardToken?: string;
  floodControl: boolean;
  floodBurst: number;
  floodRate: number;
  maxConnectionsPerIp: number;
  exemptLoopback: boolean;
  registrationTimeout: number;
  heartbeat: boolean;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  authFailureDelay: number;
  maxPendingWrites: number;
  authLockout: number;
  authLockoutMax: number;
  authLockoutFailures: number;
  authLockoutIpFailures: number;
  maxAuthChecksPerIp: number;
  maxRoomsPerConnection: number;
  roomIdle: number;
  newRoomsPerMinute: number;
  newRoomsPerMinutePerIp: number;
  ircPort: number;
  irc: boolean;
  ircTlsPort?: number;
  serverName?: string;
  oper: string[];
  ircPassword?: string;
  ircHistory: number;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the chat server: TCP (NDJSON and plain text) and HTTP (WebSocket /ws, dashboard, metrics)')
    .addOption(
      new Option('-p, --port <port>', 'TCP port for teamchat clients and nc/telnet (0: any free port)')
        .env('TEAMCHAT_PORT')
        .default(5555)
        .argParser(parsePort),
    )
    .addOption(
      new Option(
        '--http-port <port>',
        'HTTP port: WebSocket at /ws, dashboard at /, metrics at /api (0: any free port)',
      )
        .env('TEAMCHAT_HTTP_PORT')
        .default(8080)
        .argParser(parsePort),
    )
    .addOption(
      new Option('--host <address>', 'interface to listen on (127.0.0.1 for this machine only)')
        .env('TEAMCHAT_HOST')
        .default('0.0.0.0'),
    )
    .addOption(
      new Option(
        '--data-dir <dir>',
        'folder of the embedded database (PGlite), used when no database URL is given (default: $XDG_DATA_HOME/teamchat, else ~/.local/share/teamchat)',
      ).env('TEAMCHAT_DATA_DIR'),
    )
    .addOption(
      new Option('--database-url <url>', 'use this Postgres server instead of the embedded database').env(
        'DATABASE_URL',
      ),
    )
    .addOption(
      new Option(
        '--nats <url>',
        'join a cluster: nodes share the --database-url Postgres and this NATS server (nats://host:4222)',
      ).env('TEAMCHAT_NATS'),
    )
    .addOption(
      new Option('--node-id <name>', "this node's name in a cluster (logs, metrics; default: the host name)").env(
        'TEAMCHAT_NODE_ID',
      ),
    )
    .addOption(
      new Option('--metrics-interval <duration>', 'metrics snapshot interval (e.g. 2s, 500ms)')
        .default(2000, '2s')
        .argParser(parseDuration),
    )
    .addOption(
      new Option('--metrics-window <n>', 'snapshots in the moving average').default(5).argParser(parsePositiveInt),
    )
    .addOption(
      new Option('--metrics-retention <duration>', 'how long metric snapshots are kept (e.g. 7d, 12h)')
        .default(7 * 86_400_000, '7d')
        .argParser(parseDuration),
    )
    .addOption(
      new Option(
        '--metrics-active-window <duration>',
        'a room without members stays in metric snapshots this long after its last message, join or leave',
      )
        .default(300_000, '5m')
        .argParser(parseDuration),
    )
    .addOption(
      new Option('--metrics-max-rooms <n>', 'rooms named in a snapshot (the busiest); the rest are summed as (other)')
        .default(200)
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option(
        '--max-send-queue <bytes>',
        'output queued for one client before it is disconnected as a slow consumer',
      )
        .default(1024 * 1024, '1 MiB')
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option(
        '--max-pending-writes <n>',
        'messages accepted but not yet stored (e.g. during a database outage) before new ones are refused with TC_ERR_STORE_BUSY',
      )
        .default(20_000)
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option('--min-password-length <n>', 'shortest password an account may have')
        .default(8)
        .argParser(parseMinPassword),
    )
    .addOption(
      new Option('--guest-room-modes', 'room operators without an account may change room modes (+k, +i, +t, ...)'),
    )
    .addOption(
      new Option(
        '--require-accounts',
        'every nick must be registered (new users register in their hello, or at the plain-text password prompt)',
      ),
    )
    .addOption(
      new Option(
        '--tls-cert <file>',
        'PEM certificate: TLS on the TCP port, HTTPS/WSS on the HTTP port (with --tls-key)',
      ),
    )
    .addOption(new Option('--tls-key <file>', 'PEM private key of --tls-cert'))
    .addOption(
      new Option(
        '--allow-origin <origin>',
        'a web origin allowed to open the chat WebSocket besides the server itself (repeatable; * allows any)',
      )
        .default([])
        .argParser(collect),
    )
    .addOption(
      new Option(
        '--dashboard-token <token>',
        'protect the dashboard and metrics endpoints with this token (/healthz stays open)',
      ).env('TEAMCHAT_DASHBOARD_TOKEN'),
    )
    .addOption(new Option('--no-flood-control', 'turn flood control off (benchmarks)'))
    .addOption(
      new Option(
        '--flood-burst <n>',
        'flood budget of a connection: commands it may send at once (a message costs 1) before flood control delays it',
      )
        .default(5)
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option('--flood-rate <n>', 'flood budget refilled per second after the burst')
        .default(2)
        .argParser(parsePositiveNumber),
    )
    .addOption(
      new Option(
        '--max-connections-per-ip <n>',
        'open connections per remote address; loopback (127.0.0.1, ::1) is exempt unless --no-exempt-loopback (0: unlimited)',
      )
        .default(16)
        .argParser(parseCount),
    )
    .addOption(
      new Option(
        '--no-exempt-loopback',
        'apply --max-connections-per-ip to loopback connections too (by default this machine, e.g. teamchat stress or a local reverse proxy, is exempt; flood control still applies)',
      ),
    )
    .addOption(
      new Option(
        '--registration-timeout <duration>',
        'close connections that choose no nick within this time (0: never)',
      )
        .default(30_000, '30s')
        .argParser(parseDurationOrZero),
    )
    .addOption(new Option('--no-heartbeat', 'do not ping idle connections'))
    .addOption(
      new Option('--heartbeat-interval <duration>', 'idle time after which a connection is pinged')
        .default(30_000, '30s')
        .argParser(parseDuration),
    )
    .addOption(
      new Option('--heartbeat-timeout <duration>', 'time to answer a ping before the connection is dropped')
        .default(30_000, '30s')
        .argParser(parseDuration),
    )
    .addOption(
      new Option(
        '--auth-failure-delay <duration>',
        'wait after a wrong password, doubled for each further one on the connection',
      )
        .default(1_000, '1s')
        .argParser(parseDurationOrZero),
    )
    .addOption(
      new Option(
        '--auth-lockout <duration>',
        'lock an account, room key or address for this long after too many wrong passwords or keys (counted across all connections), doubling per further lockout up to --auth-lockout-max (0: no lockouts)',
      )
        .default(60_000, '1m')
        .argParser(parseDurationOrZero),
    )
    .addOption(
      new Option(
        '--auth-lockout-max <duration>',
        'longest lockout; after this long without failures, lockouts start short again',
      )
        .default(3_600_000, '1h')
        .argParser(parseDuration),
    )
    .addOption(
      new Option(
        '--auth-lockout-failures <n>',
        'wrong passwords or keys within a minute that lock an account or room key',
      )
        .default(5)
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option(
        '--auth-lockout-ip-failures <n>',
        'wrong passwords or keys within a minute that lock the address they come from (IPv6: its /64)',
      )
        .default(20)
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option(
        '--max-auth-checks-per-ip <n>',
        'password and room-key checks running at once per address; more are refused with TC_ERR_RATE_LIMITED (0: unlimited)',
      )
        .default(2)
        .argParser(parseCount),
    )
    .addOption(
      new Option(
        '--max-rooms-per-connection <n>',
        'rooms one connection may be in at once (also caps the rooms a hello restores)',
      )
        .default(100)
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option(
        '--room-idle <duration>',
        'how long a room with nobody in it stays in memory (its history stays in the database)',
      )
        .default(60_000, '60s')
        .argParser(parseDuration),
    )
    .addOption(
      new Option('--new-rooms-per-minute <n>', 'new rooms one connection may create per minute (0: unlimited)')
        .default(10)
        .argParser(parseCount),
    )
    .addOption(
      new Option(
        '--new-rooms-per-minute-per-ip <n>',
        'new rooms all connections from one address may create per minute (0: unlimited)',
      )
        .default(30)
        .argParser(parseCount),
    )
    .addOption(
      new Option(
        '--irc-port <port>',
        'IRC gateway port for irssi, WeeChat, HexChat and bots (0: any free port, as for --port)',
      )
        .env('TEAMCHAT_IRC_PORT')
        .default(6667)
        .argParser(parsePort),
    )
    .addOption(new Option('--no-irc', 'no IRC gateway port'))
    .addOption(
      new Option(
        '--irc-tls-port <port>',
        'IRC gateway port with TLS, e.g. 6697 (needs --tls-cert and --tls-key)',
      ).argParser(parsePort),
    )
    .addOption(
      new Option('--server-name <name>', "the server's name in IRC prefixes and numerics (default: the host name)"),
    )
    .addOption(
      new Option('--oper <name:password>', 'IRC operator credentials for OPER (repeatable)')
        .default([])
        .argParser(collect),
    )
    .addOption(
      new Option('--irc-password <password>', 'a server password IRC clients must send (PASS) before registering').env(
        'TEAMCHAT_IRC_PASSWORD',
      ),
    )
    .addOption(
      new Option(
        '--irc-history <n>',
        'latest messages replayed to an IRC client joining a room, for clients without draft/chathistory',
      )
        .default(0)
        .argParser(parseCount),
    )
    .addOption(
      new Option('--log-format <format>', 'log lines as text (timestamp, level, message) or as JSON objects')
        .choices(['text', 'json'])
        .default('text'),
    )
    .action(async (flags: ServeFlags) => {
      const log = createServerLog(flags.logFormat);
      /** Lines for the person who started the server (stdout); JSON objects with --log-format json. */
      const say = (text: string, extra: Record<string, unknown> = {}) =>
        console.log(flags.logFormat === 'json' ? formatLogLine('json', text, extra) : `teamchat: ${text}`);
      // PGlite is one process's folder: a cluster needs a database every node can reach.
      if (flags.nats && !flags.databaseUrl)
        throw new UsageError(
          '--nats needs --database-url: cluster nodes share one Postgres server (the embedded database belongs to one process)',
        );
      if (flags.nodeId !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(flags.nodeId))
        throw new UsageError('--node-id is 1-64 letters, digits, dots, dashes or underscores');
      const fallback = flags.databaseUrl || flags.dataDir ? null : defaultDataDir();
      const store: StoreConfig = flags.databaseUrl
        ? { kind: 'postgres', url: flags.databaseUrl }
        : { kind: 'pglite', dataDir: path.resolve(flags.dataDir ?? fallback!.dir) };
      // At once, before anything slow: what is starting and where its data is.
      say(
        `starting teamchat/${VERSION}, ${store.kind === 'pglite' ? `data in ${store.dataDir}` : 'database from --database-url'}`,
      );
      if (fallback?.note) say(fallback.note);
      // A port in use fails now, not after the database has been opened (seconds on a first start).
      const irc = flags.irc !== false;
      await assertPortsFree(flags.host, [
        flags.port,
        flags.httpPort,
        ...(irc ? [flags.ircPort] : []),
        ...(irc && flags.ircTlsPort !== undefined ? [flags.ircTlsPort] : []),
      ]);
      const opers = flags.oper.map((entry) => {
        const colon = entry.indexOf(':');
        if (colon < 1 || colon === entry.length - 1)
          throw new UsageError(`--oper takes NAME:PASSWORD, not ${JSON.stringify(entry)}`);
        return { name: entry.slice(0, colon), password: entry.slice(colon + 1) };
      });
      if (flags.ircTlsPort !== undefined && flags.tlsCert === undefined)
        throw new UsageError('--irc-tls-port needs --tls-cert and --tls-key');
      if (flags.serverName !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(flags.serverName))
        throw new UsageError('--server-name is a host-like name: letters, digits, dots and dashes');
      // The embedded database starts now (its own thread, ~1 s on a first start) while the server's
      // modules load: createServer adopts it. Loaded here, not at the top: other commands (and
      // --help) should not pay for the server.
      if (store.kind === 'pglite')
        (await import('@teamchat/server/pglite-worker')).PGliteWorker.prestart(store.dataDir);
      const { createServer, startIdleCollector } = await import('@teamchat/server');
      const server = await createServer({
        host: flags.host,
        port: flags.port,
        httpPort: flags.httpPort,
        store,
        maxSendQueueBytes: flags.maxSendQueue,
        rooms: {
          maxPerConnection: flags.maxRoomsPerConnection,
          idleMs: flags.roomIdle,
          creationPerConnection: flags.newRoomsPerMinute,
          creationPerAddress: flags.newRoomsPerMinutePerIp,
        },
        chat: { minPasswordLength: flags.minPasswordLength, guestRoomModes: flags.guestRoomModes === true },
        security: {
          requireAccounts: flags.requireAccounts === true,
          ...(flags.tlsCert || flags.tlsKey ? { tls: readTls(flags.tlsCert, flags.tlsKey) } : {}),
          allowOrigins: flags.allowOrigin,
          ...(flags.dashboardToken ? { dashboardToken: flags.dashboardToken } : {}),
          flood: flags.floodControl ? { burst: flags.floodBurst, ratePerSecond: flags.floodRate } : false,
          maxConnectionsPerIp: flags.maxConnectionsPerIp,
          exemptLoopback: flags.exemptLoopback,
          registrationTimeoutMs: flags.registrationTimeout,
          heartbeat: flags.heartbeat ? { idleMs: flags.heartbeatInterval, timeoutMs: flags.heartbeatTimeout } : false,
          authFailureDelayMs: flags.authFailureDelay,
          authLockout:
            flags.authLockout === 0
              ? false
              : {
                  lockMs: flags.authLockout,
                  // AuthThrottle refuses a longest lockout shorter than the first one.
                  maxLockMs: Math.max(flags.authLockoutMax, flags.authLockout),
                  failures: flags.authLockoutFailures,
                  addressFailures: flags.authLockoutIpFailures,
                },
          maxAuthChecksPerIp: flags.maxAuthChecksPerIp,
        },
        maxPendingWrites: flags.maxPendingWrites,
        ...(irc
          ? {
              irc: {
                port: flags.ircPort,
                ...(flags.ircTlsPort !== undefined ? { tlsPort: flags.ircTlsPort } : {}),
                ...(flags.serverName !== undefined ? { serverName: flags.serverName } : {}),
                opers,
                ...(flags.ircPassword !== undefined ? { password: flags.ircPassword } : {}),
                historyOnJoin: flags.ircHistory,
              },
            }
          : {}),
        ...(flags.nats
          ? {
              cluster: {
                natsUrl: flags.nats,
                nodeId:
                  flags.nodeId ??
                  hostname()
                    .replace(/[^A-Za-z0-9._-]/g, '-')
                    .slice(0, 64),
              },
            }
          : {}),
        log,
        metrics: {
          intervalMs: flags.metricsInterval,
          window: flags.metricsWindow,
          retentionMs: flags.metricsRetention,
          activeWindowMs: flags.metricsActiveWindow,
          maxRooms: flags.metricsMaxRooms,
        },
      }).catch((err: Error & { code?: string }) => {
        throw err.code === 'TC_STORE_BAD_CONFIG' ? new UsageError(err.message) : err;
      });
      let info;
      try {
        info = await server.listen();
      } catch (err) {
        await server.close();
        throw err;
      }
      const shown = info.host === '0.0.0.0' || info.host === '::' ? 'localhost' : info.host;
      say(`database: ${server.database.description}`);
      const tryIt =
        flags.tlsCert !== undefined
          ? `TLS; try: openssl s_client -quiet -connect ${shown}:${info.tcpPort}`
          : `try: nc ${shown} ${info.tcpPort}`;
      say(`tcp listening on ${info.host}:${info.tcpPort} (${tryIt})`);
      const secure = flags.tlsCert !== undefined;
      const [web, ws] = secure ? ['https', 'wss'] : ['http', 'ws'];
      say(
        `http listening on ${info.host}:${info.httpPort} (dashboard: ${web}://${shown}:${info.httpPort}/, websocket: ${ws}://${shown}:${info.httpPort}/ws${secure ? ', TLS' : ''})`,
      );
      // The one line tools wait for (tests, scripts): stable words, ports included.
      const tcpAddress = `${info.host}:${info.tcpPort}`;
      const httpAddress = `${info.host}:${info.httpPort}`;
      if (info.ircPort !== undefined)
        say(
          `irc listening on ${info.host}:${info.ircPort}${info.ircTlsPort !== undefined ? ` and ${info.host}:${info.ircTlsPort} (TLS)` : ''} (try: irssi -c ${shown} -p ${info.ircPort})`,
        );
      const ircAddress = info.ircPort !== undefined ? `${info.host}:${info.ircPort}` : undefined;
      say(`ready tcp=${tcpAddress} http=${httpAddress}${ircAddress ? ` irc=${ircAddress}` : ''}`, {
        event: 'ready',
        tcp: tcpAddress,
        http: httpAddress,
        ...(ircAddress ? { irc: ircAddress } : {}),
      });
      // Gives back the memory start-up (and later, any burst of load) grew, once the server is idle.
      startIdleCollector();

      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          log(`${signal} again, exiting without waiting`);
          process.exit(1);
        }
        stopping = true;
        log(`${signal}: shutting down (storing pending messages)`);
        server.close().then(
          () => {
            log('stopped');
            process.exit(0);
          },
          (err: Error) => {
            log(`error: during shutdown: ${err.message}`);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A whole number, 0 allowed. */
/** 1 to 128 (PASSWORD_MAX_LENGTH): a password of 0 characters is no password. */
function parseMinPassword(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 128) throw new InvalidArgumentError('must be a whole number from 1 to 128');
  return n;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('must be a whole number (0 or more)');
  return n;
}

function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+(?:\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError('must be a number greater than zero');
  return n;
}

function parseDurationOrZero(value: string): number {
  return /^0+(?:ms|s|m|h|d)?$/.test(value.trim()) ? 0 : parseDuration(value);
}

/** Reads the certificate and key, failing with a clear message (exit 1) before anything listens. */
function readTls(certFile: string | undefined, keyFile: string | undefined): { cert: Buffer; key: Buffer } {
  if (!certFile || !keyFile) throw new UsageError('TLS needs both --tls-cert and --tls-key');
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new UsageError(`cannot read the TLS ${what} ${file}: ${(err as Error).message}`);
    }
  };
  return { cert: read(certFile, 'certificate'), key: read(keyFile, 'key') };
}
