/**
 * The Origin check of browser WebSocket upgrades: a page may open the chat socket only from the
 * server's own origin (the Origin's host equals the Host header) or from an origin listed with
 * `--allow-origin`. Requests without Origin come from non-browser clients and are allowed: the
 * check protects users' browsers from other sites (cross-site WebSocket hijacking), not the port.
 *
 * @example
 * if (!originAllowed(req.headers, ['https://chat.example.com'])) refuse(403);
 */
import type { IncomingHttpHeaders } from 'node:http';

export function originAllowed(headers: IncomingHttpHeaders, allowed: readonly string[] = []): boolean {
  const origin = headers.origin;
  if (origin === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false; // includes the literal "null" of sandboxed pages and file: URLs
  }
  const normalized = parsed.origin.toLowerCase();
  if (allowed.some((a) => a === '*' || a.replace(/\/+$/, '').toLowerCase() === normalized)) return true;
  const host = headers.host?.toLowerCase();
  return host !== undefined && parsed.host.toLowerCase() === host;
}
