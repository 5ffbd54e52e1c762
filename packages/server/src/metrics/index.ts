/**
 * Server metrics: counters and snapshots (MetricsService), their table (MetricsStore), the CSV
 * stream and time-range parsing that the HTTP endpoints and `teamchat export-metrics` share.
 */
export type { ChatEvents, ChatStats, EdgeEvents } from './chat-events.js';
export { SNAPSHOT_FORMAT, type MetricSnapshot, type RoomSnapshot, type TotalsSnapshot } from './metric-snapshot.js';
export { MetricsCounters, rate, DEFAULT_ACTIVE_WINDOW_MS, DEFAULT_MAX_ROOMS } from './metrics-counters.js';
export { mergeSnapshots, SnapshotFolder } from './merge-snapshots.js';
export {
  MetricsStore,
  DEFAULT_HEAVY_SNAPSHOT_BYTES,
  type MetricsSchema,
  type MetricSnapshotsTable,
  type RangeMeasure,
  type TimeRange,
} from './metrics-store.js';
export { csvChunks, CSV_FORMATS, type CsvFormat, type CsvOptions } from './metrics-csv-stream.js';
export { LONG_CSV_COLUMNS, LONG_CSV_HEADER, longCsvRows } from './long-csv-rows.js';
export {
  DEFAULT_QUERY_LIMITS,
  MetricsQueryError,
  type MetricsQueryErrorCode,
  type QueryLimits,
} from './metrics-query.js';
export {
  MetricsService,
  DEFAULT_INTERVAL_MS,
  DEFAULT_QUERY_ROOMS,
  DEFAULT_RETENTION_MS,
  DEFAULT_WINDOW,
  type MetricsQuery,
  type MetricsQueryResult,
  type MetricsServiceOptions,
  type SnapshotListener,
} from './metrics-service.js';
export { prometheusText, PROMETHEUS_CONTENT_TYPE } from './prometheus-text.js';
export { OTHER_ROOMS, PRIVATE_ROOMS, isAggregateLabel } from './room-labels.js';
export { RestrictedRooms } from './restricted-rooms.js';
export { parseTime, parseTimeRange, TimeRangeError, type TimeRangeErrorCode } from './time-range.js';
