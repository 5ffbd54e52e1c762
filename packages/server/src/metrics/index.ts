/**
 * Server metrics: counters and snapshots (MetricsService), their table (MetricsStore), the CSV
 * stream and time-range parsing that the HTTP endpoints and `teamchat export-metrics` share.
 */
export type { ChatEvents, ChatStats } from './chat-events.js';
export type { MetricSnapshot, RoomSnapshot, TotalsSnapshot } from './metric-snapshot.js';
export { MetricsCounters, rate } from './metrics-counters.js';
export { mergeSnapshots } from './merge-snapshots.js';
export { MetricsStore, type MetricsSchema, type MetricSnapshotsTable, type TimeRange } from './metrics-store.js';
export { csvChunks } from './metrics-csv-stream.js';
export {
  MetricsService,
  DEFAULT_INTERVAL_MS,
  DEFAULT_RETENTION_MS,
  DEFAULT_WINDOW,
  type MetricsQuery,
  type MetricsQueryResult,
  type MetricsServiceOptions,
  type SnapshotListener,
} from './metrics-service.js';
export { prometheusText, PROMETHEUS_CONTENT_TYPE } from './prometheus-text.js';
export { parseTime, parseTimeRange, TimeRangeError, type TimeRangeErrorCode } from './time-range.js';
