/**
 * `--dashboard-token`: wraps the HTTP app (dashboard page, `/api/*`, `/metrics`, the live feed) so
 * that only holders of the token get in. Accepted: `Authorization: Bearer <token>`, or the
 * HttpOnly SameSite=Strict cookie set when the page is opened once with `?token=<token>` (answered
 * with a redirect to the clean URL, so the token leaves the address bar and the page's own
 * fetches and WebSocket carry the cookie). `/healthz` stays open: it reports only health.
 *
 * @example
 * const app = guardDashboard(createHttpApp(...), { token: 's3cret', secure: false });
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HttpApp } from '../../http/http-app.js';

export const DASHBOARD_COOKIE = 'teamchat_dashboard';
const OPEN_PATHS = new Set(['/healthz']);

export interface DashboardGuardOptions {
  token: string;
  /** Served over HTTPS: the cookie gets `Secure`. */
  secure: boolean;
}

export function guardDashboard(app: HttpApp, options: DashboardGuardOptions): HttpApp {
  const expected = digest(options.token);
  const matches = (candidate: string | undefined): boolean =>
    candidate !== undefined && timingSafeEqual(digest(candidate), expected);

  const authorized = (req: IncomingMessage): boolean => {
    const auth = req.headers.authorization;
    if (auth && /^Bearer\s+/i.test(auth) && matches(auth.replace(/^Bearer\s+/i, '').trim())) return true;
    return matches(cookieValue(req.headers.cookie, DASHBOARD_COOKIE));
  };

  return {
    handle(req: IncomingMessage, res: ServerResponse) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (OPEN_PATHS.has(url.pathname)) return app.handle(req, res);
      const fromQuery = url.searchParams.get('token');
      if (fromQuery !== null && matches(fromQuery)) {
        url.searchParams.delete('token');
        const clean = url.pathname + (url.searchParams.size > 0 ? `?${url.searchParams.toString()}` : '');
        const cookie = `${DASHBOARD_COOKIE}=${encodeURIComponent(options.token)}; HttpOnly; SameSite=Strict; Path=/${options.secure ? '; Secure' : ''}`;
        res.writeHead(303, { location: clean, 'set-cookie': cookie, 'cache-control': 'no-store', 'content-length': 0 });
        res.end();
        return;
      }
      if (authorized(req)) return app.handle(req, res);
      const body = JSON.stringify({
        error: {
          code: 'TC_HTTP_UNAUTHORIZED',
          message: 'this server needs its dashboard token: open /?token=<token> or send Authorization: Bearer <token>',
        },
      });
      res.writeHead(401, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        'www-authenticate': 'Bearer realm="teamchat"',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    },

    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      if (authorized(req)) return app.handleUpgrade(req, socket, head);
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return true;
    },

    close: () => app.close(),
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
