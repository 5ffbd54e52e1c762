/**
 * The server's security and abuse settings (`teamchat serve` flags), with their defaults.
 *
 * @example
 * const security = resolveSecurity({ maxConnectionsPerIp: 0, flood: false }); // for benchmarks
 */
import { IpLimiter } from './ip-limiter.js';

export interface FloodOptions {
  /** Messages a connection may send at once (default 5). */
  burst: number;
  /** Messages per second after the burst (default 2). */
  ratePerSecond: number;
  /** Commands held back waiting for budget before new ones are refused with TC_ERR_RATE_LIMITED (default 10). */
  maxQueued: number;
}

export interface HeartbeatOptions {
  /** Quiet time after which the server pings an NDJSON connection (default 30 s). */
  idleMs: number;
  /** Time to answer (anything, `pong` or another frame) before it is dropped (default 30 s). */
  timeoutMs: number;
}

export interface SecurityOptions {
  /** Every nick must be registered; a new one registers in its hello (`register: true` + `password`). */
  requireAccounts?: boolean;
  /** PEM certificate and key: TLS on the TCP port, HTTPS/WSS on the HTTP port. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Origins (e.g. `https://chat.example.com`) allowed to open the chat WebSocket besides the server's own. */
  allowOrigins?: string[];
  /** Protects the dashboard and metrics endpoints. */
  dashboardToken?: string;
  /** Per-connection flood control; false turns it off (benchmarks). */
  flood?: Partial<FloodOptions> | false;
  /** Open connections per remote address (default 16; 0: unlimited). */
  maxConnectionsPerIp?: number;
  /** A connection without a nick after this long is closed (default 30 s; 0: never). */
  registrationTimeoutMs?: number;
  /** Heartbeats of idle connections; false turns them off. */
  heartbeat?: Partial<HeartbeatOptions> | false;
  /** Delay after the first wrong password of a connection, doubled for each further one (default 1 s). */
  authFailureDelayMs?: number;
  /** Wrong passwords before the connection is closed (default 5). */
  maxAuthFailures?: number;
}

export const DEFAULT_FLOOD: FloodOptions = { burst: 5, ratePerSecond: 2, maxQueued: 10 };
export const DEFAULT_HEARTBEAT: HeartbeatOptions = { idleMs: 30_000, timeoutMs: 30_000 };
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 16;
export const DEFAULT_REGISTRATION_TIMEOUT_MS = 30_000;

/** The settings every connection reads, with defaults applied. */
export interface SecurityPolicy {
  readonly requireAccounts: boolean;
  readonly flood: FloodOptions | null;
  readonly registrationTimeoutMs: number;
  readonly heartbeat: HeartbeatOptions | null;
  readonly authFailureDelayMs: number;
  readonly maxAuthFailures: number;
  readonly allowOrigins: readonly string[];
  readonly ipLimiter: IpLimiter;
}

export function resolveSecurity(options: SecurityOptions = {}): SecurityPolicy {
  return {
    requireAccounts: options.requireAccounts ?? false,
    flood: options.flood === false ? null : { ...DEFAULT_FLOOD, ...options.flood },
    registrationTimeoutMs: options.registrationTimeoutMs ?? DEFAULT_REGISTRATION_TIMEOUT_MS,
    heartbeat: options.heartbeat === false ? null : { ...DEFAULT_HEARTBEAT, ...options.heartbeat },
    authFailureDelayMs: options.authFailureDelayMs ?? 1_000,
    maxAuthFailures: options.maxAuthFailures ?? 5,
    allowOrigins: options.allowOrigins ?? [],
    ipLimiter: new IpLimiter(options.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP),
  };
}
