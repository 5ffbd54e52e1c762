/**
 * Streams stored snapshots of a time range as CSV (shared writer from @teamchat/dashboard), page by
 * page, so an export of days of snapshots never sits in memory at once.
 */
import { csvHeader, csvRow } from '@teamchat/dashboard';
import type { MetricsStore, TimeRange } from './metrics-store.js';

/**
 * @example
 * for await (const chunk of csvChunks(store, { from: 0, to: Date.now() })) out.write(chunk);
 */
export async function* csvChunks(store: MetricsStore, range: TimeRange): AsyncGenerator<string> {
  const rooms = await store.rooms(range);
  yield csvHeader(rooms);
  for await (const page of store.scan(range)) {
    let chunk = '';
    for (const snapshot of page) chunk += csvRow(snapshot, rooms);
    yield chunk;
  }
}
