/**
 * The security side of the composition root, in one object: password hashing for the core (with
 * the per-connection slow-down of wrong passwords), TLS for both ports, the dashboard token guard.
 * create-server builds one from `ServerOptions.security`.
 *
 * @example
 * const security = new SecurityRuntime({ tls: { cert, key }, dashboardToken: 't0k' }, log);
 * const httpServer = security.createHttpServer(handler);
 */
import http from 'node:http';
import https from 'node:https';
import type { TlsOptions } from 'node:tls';
import type { CodedError } from '@teamchat/protocol';
import type { SecretSubject } from '../../core/core-effects.js';
import type { HttpApp } from '../../http/http-app.js';
import type { Connection } from '../connection.js';
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

  constructor(options: SecurityOptions, log: (line: string) => void) {
    this.#options = options;
    this.#log = log;
    this.policy = resolveSecurity(options);
    this.tls = options.tls ? { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' } : undefined;
  }

  readonly hashSecret = (secret: string): Promise<string> => hashSecret(secret);

  /**
   * Checks a secret; after a wrong one the answer waits (authFailureDelayMs, doubling per failure
   * of this connection), and the connection is closed at maxAuthFailures.
   */
  readonly verifySecret = async (session: Connection, secret: string, hash: string, _subject: SecretSubject): Promise<boolean | CodedError> => {
    const ok = await verifySecret(secret, hash);
    if (ok) return true;
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
