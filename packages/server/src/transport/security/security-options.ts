/**
 * The server's security and abuse settings (`teamchat serve` flags), with their defaults.
 *
 * @example
 * const security = resolveSecurity({ maxConnectionsPerIp: 0, flood: false }); // for benchmarks
 * const strict = resolveSecurity({ exemptLoopback: false }); // 16 connections from 127.0.0.1 too
 * const quick = resolveSecurity({ authLockout: { lockMs: 2_000 } }); // tests: short lockouts
 */
import { IpLimiter } from './ip-limiter.js';

export interface FloodOptions {
  /** Messages a connection may send at once (default 5). */
  burst: number;
  /** Messages per second after the burst (default 2). */
  ratePerSecond: number;
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
  /**
   * Loopback addresses (127.0.0.0/8, ::1) are exempt from `maxConnectionsPerIp`, as ergo exempts
   * localhost (default true; `teamchat serve --no-exempt-loopback` sets false). Flood control and
   * the room-creation limits still apply to them.
   */
  exemptLoopback?: boolean;
  /** A connection without a nick after this long is closed (default 30 s; 0: never). */
  registrationTimeoutMs?: number;
  /** Heartbeats of idle connections; false turns them off. */
  heartbeat?: Partial<HeartbeatOptions> | false;
  /** Delay after the first wrong password of a connection, doubled for each further one (default 1 s). */
  authFailureDelayMs?: number;
  /** Wrong passwords before the connection is closed (default 5). */
  maxAuthFailures?: number;
  /**
   * Locking of accounts, room keys and addresses after repeated wrong secrets, counted across all
   * connections (see AuthThrottle); false turns it off.
   */
  authLockout?: Partial<AuthLockoutOptions> | false;
  /**
   * Password and room-key checks (scrypt) running at once per remote address (IPv6: per /64);
   * further ones are refused at once with TC_ERR_RATE_LIMITED (default 2; 0: unlimited).
   */
  maxAuthChecksPerIp?: number;
}

export interface AuthLockoutOptions {
  /** Wrong attempts on one account or room key within `windowMs` that lock it (default 5). */
  failures: number;
  /** Wrong attempts from one address within `windowMs` that lock the address (default 20). */
  addressFailures: number;
  /** The window of those counts (default 1 min). */
  windowMs: number;
  /** The first lockout (default 1 min); each further one in a row doubles it. */
  lockMs: number;
  /** The longest lockout (default 1 h); after this long without failures, lockouts start again at `lockMs`. */
  maxLockMs: number;
}

export const DEFAULT_FLOOD: FloodOptions = { burst: 5, ratePerSecond: 2 };
export const DEFAULT_HEARTBEAT: HeartbeatOptions = { idleMs: 30_000, timeoutMs: 30_000 };
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 16;
export const DEFAULT_REGISTRATION_TIMEOUT_MS = 30_000;
export const DEFAULT_AUTH_LOCKOUT: AuthLockoutOptions = {
  failures: 5,
  addressFailures: 20,
  windowMs: 60_000,
  lockMs: 60_000,
  maxLockMs: 3_600_000,
};
export const DEFAULT_MAX_AUTH_CHECKS_PER_IP = 2;

/** The settings every connection reads, with defaults applied. */
export interface SecurityPolicy {
  readonly requireAccounts: boolean;
  readonly flood: FloodOptions | null;
  readonly registrationTimeoutMs: number;
  readonly heartbeat: HeartbeatOptions | null;
  readonly authFailureDelayMs: number;
  readonly maxAuthFailures: number;
  readonly authLockout: AuthLockoutOptions | null;
  readonly maxAuthChecksPerIp: number;
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
    authLockout: options.authLockout === false ? null : resolveLockout(options.authLockout),
    maxAuthChecksPerIp: options.maxAuthChecksPerIp ?? DEFAULT_MAX_AUTH_CHECKS_PER_IP,
    allowOrigins: options.allowOrigins ?? [],
    ipLimiter: new IpLimiter(options.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP, {
      exemptLoopback: options.exemptLoopback ?? true,
    }),
  };
}

/** Defaults applied; a `lockMs` above the default `maxLockMs` raises it (one long lockout, no doubling). */
function resolveLockout(options: Partial<AuthLockoutOptions> = {}): AuthLockoutOptions {
  const merged = { ...DEFAULT_AUTH_LOCKOUT, ...options };
  return options.maxLockMs === undefined ? { ...merged, maxLockMs: Math.max(merged.maxLockMs, merged.lockMs) } : merged;
}
