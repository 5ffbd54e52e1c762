/**
 * Streams stored snapshots of a time range as CSV, page by page, so an export of days of snapshots
 * never sits in memory at once. Two layouts:
 *
 * - `wide` (default here; the shared writer from @teamchat/dashboard): one row per snapshot, five
 *   columns per room. Columns are bounded: the `maxRooms` busiest rooms of the range are named, the
 *   rest summed under `(other)`, restricted rooms under `(private)`.
 * - `long` (long-csv-rows.ts): one row per snapshot and room, plus a `(total)` row per snapshot;
 *   the same rooms are named (the same `maxRooms` bound and aggregates), in fixed columns.
 */
import { csvHeader, csvRow } from '@teamchat/dashboard';
import { LONG_CSV_HEADER, longCsvRows } from './long-csv-rows.js';
import { DEFAULT_MAX_ROOMS } from './metrics-counters.js';
import { SnapshotFolder } from './merge-snapshots.js';
import { MetricsQueryError, chooseRooms } from './metrics-query.js';
import type { MetricsStore, TimeRange } from './metrics-store.js';
import { combineNodes } from './sum-nodes.js';

/** `wide`: a row per snapshot, columns per room. `long`: a row per snapshot and room. */
export type CsvFormat = 'wide' | 'long';

export const CSV_FORMATS: readonly CsvFormat[] = ['wide', 'long'];

export interface CsvOptions {
  /** Layout (default `wide`). */
  format?: CsvFormat;
  /** Rooms named at most (default DEFAULT_MAX_ROOMS). */
  maxRooms?: number;
  /** Rooms to sum under `(private)` besides those already stored so (default: none). */
  isRestricted?: (room: string) => boolean;
  /** Refuse a range holding more snapshots (MetricsQueryError, before the header); default: no bound. */
  maxSnapshots?: number;
}

/**
 * @example
 * for await (const chunk of csvChunks(store, { from: 0, to: Date.now() })) out.write(chunk);
 * for await (const chunk of csvChunks(store, range, { format: 'long' })) out.write(chunk);
 */
export async function* csvChunks(
  store: MetricsStore,
  range: TimeRange,
  options: CsvOptions = {},
): AsyncGenerator<string> {
  const { count, newest = range.to } = await store.measure(range);
  if (options.maxSnapshots !== undefined && count > options.maxSnapshots) {
    throw new MetricsQueryError(
      'TC_METRICS_TOO_LARGE',
      `the range holds ${count} snapshots and one export streams at most ${options.maxSnapshots}: ask for a shorter range`,
    );
  }
  const { labels, label } = await chooseRooms(
    store,
    range,
    count,
    options.maxRooms ?? DEFAULT_MAX_ROOMS,
    options.isRestricted ?? (() => false),
  );
  const long = options.format === 'long';
  yield long ? LONG_CSV_HEADER : csvHeader(labels);
  const folder = new SnapshotFolder(label);
  // Up to the newest row counted: rows stored meanwhile are not read (the bound holds).
  for await (const page of combineNodes(store.scan({ from: range.from, to: newest }))) {
    let chunk = '';
    for (const snapshot of page) {
      folder.add(snapshot);
      chunk += long ? longCsvRows(folder.take()) : csvRow(folder.take(), labels);
    }
    yield chunk;
  }
}
