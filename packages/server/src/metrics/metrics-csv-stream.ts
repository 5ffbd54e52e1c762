/**
 * Streams stored snapshots of a time range as CSV (shared writer from @teamchat/dashboard), page by
 * page, so an export of days of snapshots never sits in memory at once. Columns are bounded too:
 * the `maxRooms` busiest rooms of the range are named, the rest summed under `(other)`, restricted
 * rooms under `(private)`.
 */
import { csvHeader, csvRow } from '@teamchat/dashboard';
import { DEFAULT_MAX_ROOMS } from './metrics-counters.js';
import { SnapshotFolder } from './merge-snapshots.js';
import { MetricsQueryError, chooseRooms } from './metrics-query.js';
import type { MetricsStore, TimeRange } from './metrics-store.js';

export interface CsvOptions {
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
 */
export async function* csvChunks(store: MetricsStore, range: TimeRange, options: CsvOptions = {}): AsyncGenerator<string> {
  const { count, newest = range.to } = await store.measure(range);
  if (options.maxSnapshots !== undefined && count > options.maxSnapshots) {
    throw new MetricsQueryError(
      'TC_METRICS_TOO_LARGE',
      `the range holds ${count} snapshots and one export streams at most ${options.maxSnapshots}: ask for a shorter range`,
    );
  }
  const { labels, label } = await chooseRooms(store, range, count, options.maxRooms ?? DEFAULT_MAX_ROOMS, options.isRestricted ?? (() => false));
  yield csvHeader(labels);
  const folder = new SnapshotFolder(label);
  for await (const page of store.scan({ from: range.from, to: newest })) {
    let chunk = '';
    for (const snapshot of page) {
      folder.add(snapshot);
      chunk += csvRow(folder.take(), labels);
    }
    yield chunk;
  }
}
