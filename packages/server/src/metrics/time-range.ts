/**
 * Parses the `from` / `to` of a metrics query (HTTP query parameters, export-metrics flags):
 * an ISO 8601 date or date-time, or epoch milliseconds. Bad input is a `TimeRangeError` with a
 * stable code, never a silent default.
 */
import type { TimeRange } from './metrics-store.js';

export type TimeRangeErrorCode = 'TC_METRICS_BAD_TIME' | 'TC_METRICS_BAD_RANGE';

export class TimeRangeError extends Error {
  constructor(
    readonly code: TimeRangeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TimeRangeError';
  }
}

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
const EPOCH_MS = /^\d{1,16}$/;
/** Latest representable date (year 275760): anything later is rejected rather than clamped. */
const MAX_TIME = 8.64e15;

/**
 * @example
 * parseTime('2026-11-24T10:00:00Z', 'from') // 1795514400000
 * parseTime('1795514400000', 'from')        // 1795514400000
 * parseTime('yesterday', 'from')            // throws TimeRangeError TC_METRICS_BAD_TIME
 */
export function parseTime(value: string, name: string): number {
  const text = value.trim();
  let ms = Number.NaN;
  if (EPOCH_MS.test(text)) ms = Number(text);
  else {
    const m = ISO_8601.exec(text);
    // Date.parse is lenient (2026-02-30 becomes March 2): check the fields first.
    if (m && validFields(m)) ms = Date.parse(text.replace(' ', 'T'));
  }
  if (!Number.isFinite(ms) || ms > MAX_TIME) {
    throw new TimeRangeError(
      'TC_METRICS_BAD_TIME',
      `${name}: ${JSON.stringify(value)} is not an ISO 8601 date (e.g. 2026-11-24T10:00:00Z) or epoch milliseconds`,
    );
  }
  return ms;
}

function validFields(m: RegExpExecArray): boolean {
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return false;
  return Number(m[4] ?? 0) <= 23 && Number(m[5] ?? 0) <= 59 && Number(m[6] ?? 0) <= 59;
}

/**
 * A range from optional ends: `from` defaults to the beginning of time, `to` to `now`.
 *
 * @example
 * parseTimeRange({ from: '2026-11-24', to: undefined }, Date.now())
 */
export function parseTimeRange(ends: { from?: string | null; to?: string | null }, now: number): TimeRange {
  const from = ends.from != null && ends.from !== '' ? parseTime(ends.from, 'from') : 0;
  const to = ends.to != null && ends.to !== '' ? parseTime(ends.to, 'to') : now;
  if (from > to) {
    throw new TimeRangeError(
      'TC_METRICS_BAD_RANGE',
      `from (${new Date(from).toISOString()}) is after to (${new Date(to).toISOString()})`,
    );
  }
  return { from, to };
}
