/**
 * The server's log: one line per event with an ISO timestamp and a level, as text for people or
 * as JSON for machines (`teamchat serve --log-format json`). The level is read from the line the
 * server writes: `error: ...` is an error; a connection closed or refused for a coded reason, a
 * lockout or a database outage is a warning; everything else is information.
 *
 * @example
 * const log = createServerLog('json');
 * log('connected: alice (127.0.0.1:5555, json)'); // {"ts":"...","level":"info","msg":"connected: alice ..."}
 */
export type LogFormat = 'text' | 'json';
export type LogLevel = 'info' | 'warn' | 'error';

const WARNING = /^(closing |refused |auth lockout|login refused|flood control|database unreachable)|TC_ERR_/;

export function levelOf(line: string): { level: LogLevel; msg: string } {
  if (line.startsWith('error: ')) return { level: 'error', msg: line.slice('error: '.length) };
  return { level: WARNING.test(line) ? 'warn' : 'info', msg: line };
}

export function formatLogLine(
  format: LogFormat,
  line: string,
  extra: Record<string, unknown> = {},
  now = new Date(),
): string {
  const { level, msg } = levelOf(line);
  const ts = now.toISOString();
  if (format === 'json') return JSON.stringify({ ts, level, msg, ...extra });
  return `${ts} ${level.toUpperCase().padEnd(5)} ${msg}`;
}

/** A log function writing to `stream` (stderr by default). */
export function createServerLog(
  format: LogFormat,
  stream: NodeJS.WritableStream = process.stderr,
): (line: string) => void {
  return (line) => void stream.write(formatLogLine(format, line) + '\n');
}
