/**
 * Argument parsers shared by the commands; each throws commander's InvalidArgumentError, which
 * the CLI turns into a usage error (exit code 2).
 */
import { InvalidArgumentError } from 'commander';

/** A TCP port, 0..65535 (0 picks a free one). */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('must be a port number 0-65535');
  return port;
}

/** A positive integer. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration in milliseconds: `500ms`, `2s`, `10m`, `1h`, `7d`; a bare number is milliseconds.
 *
 * @example parseDuration('7d') // 604800000
 */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('must be a duration like 500ms, 2s, 10m, 1h or 7d');
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']);
  if (!(ms > 0)) throw new InvalidArgumentError('must be at least 1ms');
  return ms;
}
