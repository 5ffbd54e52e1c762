/**
 * The security side of the composition root, in one object: password hashing for the core (with
 * lockouts of accounts, room keys and addresses across connections, a bound on the checks running
 * per address, and the per-connection slow-down of wrong passwords), TLS for both ports, the
 * dashboard token guard. create-server builds one from `ServerOptions.security`.
 *
 * @example
 * const security = new SecurityRuntime({ tls: { cert, key }, dashboardToken: 't0k' }, log);
 * const httpServer = security.createHttpServer(handler);
 */
import http from 'node:http';
import https from 'node:https';
import type { TlsOptions } from 'node:tls';
import { codedError, type CodedError } from '@teamchat/protocol';
import type { SecretSubject } from '../../core/core-effects.js';
import type { HttpApp } from '../../http/http-app.js';
import type { Connection } from '../connection.js';
import { addressKey, AuthThrottle, type AuthRefusal } from './auth-throttle.js';
import { guardDashboard } from './dashboard-guard.js';
import { hashSecret, verifySecret } from './secret-hash.js';
import { resolveSecurity, type SecurityOptions, type SecurityPolicy } from './security-options.js';

export type { SecurityOptions } from './security-options.js';

/** The longest wait imposed after a wrong password. */
const MAX_FAILURE_DELAY_MS = 10_000;

export class SecurityRuntime {
  readonly policy: SecurityPolicy;
  /** TLS options for the TCP listener; undefined: plain TCP. */
  readonly tls: TlsOptions | undefined;
  readonly #options: SecurityOptions;
  readonly #log: (line: string) => void;
  /** Null when both the lockouts and the bound on running checks are off. */
  readonly #throttle: AuthThrottle | null;

  constructor(options: SecurityOptions, log: (line: string) => void, now: () => number = () => performance.now()) {
    this.#options = options;
    this.#log = log;
    this.policy = resolveSecurity(options);
    const lockout = this.policy.authLockout;
    this.#throttle =
      lockout || this.policy.maxAuthChecksPerIp > 0
        ? new AuthThrottle({
            subject: lockout && {
              failures: lockout.failures,
              windowMs: lockout.windowMs,
              lockMs: lockout.lockMs,
              maxLockMs: lockout.maxLockMs,
            },
            address: lockout && {
              failures: lockout.addressFailures,
              windowMs: lockout.windowMs,
              lockMs: lockout.lockMs,
              maxLockMs: lockout.maxLockMs,
            },
            maxInFlightPerAddress: this.policy.maxAuthChecksPerIp,
            now,
            onLockout: (e) =>
              log(
                `auth lockout: ${e.scope === 'address' ? `address ${e.key}` : e.key} locked for ${formatWait(e.lockMs)} after too many wrong secrets (lockout ${e.level} in a row)`,
              ),
          })
        : null;
    this.tls = options.tls ? { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' } : undefined;
  }

  readonly hashSecret = (secret: string): Promise<string> => hashSecret(secret);

  /**
   * Checks a secret. First the lockouts (per account or room key, and per address, across all
   * connections) and the bound on checks running per address: when one refuses, the answer is a
   * TC_ERR_LOCKED_OUT (or TC_ERR_RATE_LIMITED) saying how long to wait, at once and without
   * running scrypt. After a wrong secret the answer also waits (authFailureDelayMs, doubling per
   * failure of this connection), and the connection is closed at maxAuthFailures.
   */
  readonly verifySecret = async (
    session: Connection,
    secret: string,
    hash: string,
    subject: SecretSubject,
  ): Promise<boolean | CodedError> => {
    const attempt = this.#throttle?.begin(`${subject.kind}:${subject.name}`, addressKey(session.remote)) ?? null;
    if (attempt?.refused) return refusalError(attempt, subject);
    let ok: boolean;
    try {
      ok = await verifySecret(secret, hash);
    } catch (err) {
      attempt?.abandoned();
      throw err;
    }
    if (ok) {
      attempt?.succeeded();
      return true;
    }
    attempt?.failed();
    const failures = session.noteAuthFailure();
    if (failures >= this.policy.maxAuthFailures) {
      this.#log(`closing ${session.nick ?? session.remote}: TC_ERR_TOO_MANY_FAILURES (${failures} wrong passwords)`);
      session.close({ type: 'bye', code: 'TC_ERR_TOO_MANY_FAILURES', reason: 'too many wrong passwords' });
      return false;
    }
    const delay = Math.min(this.policy.authFailureDelayMs * 2 ** (failures - 1), MAX_FAILURE_DELAY_MS);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay).unref());
    return false;
  };

  /** An HTTP server, or HTTPS when TLS is configured. */
  createHttpServer(handler: http.RequestListener): http.Server {
    return this.tls ? https.createServer(this.tls, handler) : http.createServer(handler);
  }

  /** The HTTP app behind the dashboard token, when one is set. */
  guard(app: HttpApp): HttpApp {
    const token = this.#options.dashboardToken;
    return token ? guardDashboard(app, { token, secure: this.tls !== undefined }) : app;
  }
}

/** The error a client sees for a refused check: what is locked (or busy), and for how long. */
function refusalError(refusal: AuthRefusal, subject: SecretSubject): CodedError {
  const what = subject.kind === 'account' ? `account ${subject.name}` : `the key of room ${subject.name}`;
  const wait = `try again in ${formatWait(refusal.retryAfterMs)}`;
  if (refusal.reason === 'busy')
    return codedError('TC_ERR_RATE_LIMITED', `password checks from your address are already running; ${wait}`);
  if (refusal.reason === 'pending') {
    return codedError(
      'TC_ERR_LOCKED_OUT',
      `other attempts ${refusal.scope === 'subject' ? `on ${what}` : 'from your address'} are being checked; ${wait}`,
    );
  }
  return codedError('TC_ERR_LOCKED_OUT', `${refusal.scope === 'subject' ? what : 'your address'} is locked; ${wait}`);
}

/** `57 s` up to two minutes, then `4 min` (rounded up: never earlier than the lock ends). */
function formatWait(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.ceil(s / 60)} min`;
}
