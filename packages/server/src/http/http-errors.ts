/**
 * The HTTP error catalogue: every error the HTTP endpoints answer has a stable code and status,
 * sent as `{ "error": { "code", "message" } }`.
 */
import type { ServerResponse } from 'node:http';

export const HTTP_ERRORS = {
  TC_HTTP_BAD_PARAM: { status: 400, message: 'a query parameter is invalid' },
  TC_HTTP_BAD_RANGE: { status: 400, message: 'the time range is invalid' },
  TC_HTTP_RANGE_TOO_LARGE: { status: 400, message: 'the request asks for more data than one answer may hold' },
  TC_HTTP_NOT_FOUND: { status: 404, message: 'no such page' },
  TC_HTTP_METHOD: { status: 405, message: 'method not allowed' },
  TC_HTTP_BUSY: { status: 503, message: 'too many metrics requests are running; retry shortly' },
  TC_HTTP_DB_UNAVAILABLE: { status: 503, message: 'the metrics database is unavailable' },
  TC_HTTP_INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/**
 * @example
 * sendError(res, 'TC_HTTP_BAD_PARAM', 'limit must be a whole number from 1 to 10000');
 */
export function sendError(
  res: ServerResponse,
  code: HttpErrorCode,
  detail?: string,
  headers: Record<string, string> = {},
): void {
  const { status, message } = HTTP_ERRORS[code];
  const body = JSON.stringify({ error: { code, message: detail ? `${message}: ${detail}` : message } });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}
