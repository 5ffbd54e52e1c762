/**
 * Reads a time range of stored snapshots into a bounded answer: at most `limit` points, at most
 * `maxRooms` rooms named (the busiest of the range; the rest summed under `(other)`, restricted rooms
 * under `(private)`), and never more stored data than the limits allow: a range that holds more is
 * refused with a `MetricsQueryError` before anything is read.
 *
 * Two passes: the database ranks the rooms of the range (over a sample of at most
 * RANK_SAMPLE_SNAPSHOTS rows), then the rows are streamed page by page and folded into points.
 */
import type { MetricSnapshot } from './metric-snapshot.js';
import type { MetricsStore, TimeRange } from './metrics-store.js';
import { SnapshotFolder, type RoomLabeller } from './merge-snapshots.js';
import { OTHER_ROOMS, PRIVATE_ROOMS } from './room-labels.js';
import { combineNodes } from './sum-nodes.js';

export type MetricsQueryErrorCode = 'TC_METRICS_TOO_LARGE';

/** A query asks for more than the limits allow; the message says what and how to ask for less. */
export class MetricsQueryError extends Error {
  constructor(
    readonly code: MetricsQueryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MetricsQueryError';
  }
}

/** What one answer may read. */
export interface QueryLimits {
  /** Stored snapshots one `/api/metrics` answer may read. */
  maxSnapshots: number;
  /** Snapshot data one `/api/metrics` answer may read, estimated from stored sizes. */
  maxScanBytes: number;
  /** Stored snapshots one CSV export may stream (streamed, so memory stays bounded anyway). */
  maxCsvSnapshots: number;
}

export const DEFAULT_QUERY_LIMITS: Readonly<QueryLimits> = Object.freeze({
  // 27 hours of 1 s snapshots, 55 hours of the default 2 s.
  maxSnapshots: 100_000,
  // About 3 s of reading on PGlite; 24 hours of a 10-room server is about 65 MB.
  maxScanBytes: 128 * 1024 * 1024,
  // More than the default retention (7 days of 2 s snapshots is 302,400).
  maxCsvSnapshots: 1_000_000,
});

/** Stored rows read at most to rank the rooms of a range. */
export const RANK_SAMPLE_SNAPSHOTS = 20_000;

/** Which rooms an answer names, and under which key every other room is answered. */
export interface RoomChoice {
  /** Named rooms in name order, then the aggregate labels the answer may hold (the CSV header). */
  labels: string[];
  label: RoomLabeller;
}

/** Everything counts as (other), except what is known restricted. */
function choice(
  named: Set<string>,
  isRestricted: (room: string) => boolean,
  aggregates: { other: boolean; private: boolean },
): RoomChoice {
  const labels = [...named].sort();
  if (aggregates.other) labels.push(OTHER_ROOMS);
  if (aggregates.private) labels.push(PRIVATE_ROOMS);
  return {
    labels,
    label: (room) =>
      named.has(room) ? room : room === PRIVATE_ROOMS || isRestricted(room) ? PRIVATE_ROOMS : OTHER_ROOMS,
  };
}

/**
 * The busiest `maxRooms` public rooms of the range (by messages, joins and leaves, then members).
 *
 * @example
 * const { labels, label } = await chooseRooms(store, range, count, 20, (room) => false);
 */
export async function chooseRooms(
  store: MetricsStore,
  range: TimeRange,
  count: number,
  maxRooms: number,
  isRestricted: (room: string) => boolean,
): Promise<RoomChoice> {
  const sampleEvery = Math.max(1, Math.ceil(count / RANK_SAMPLE_SNAPSHOTS));
  // Room names that turn out restricted are skipped, and the two aggregate labels take two places.
  const limit = maxRooms * 2 + 8;
  const ranked = await store.rankRooms(range, { limit, sampleEvery });
  const named = new Set<string>();
  // A ranking that did not see every row (sampled) or every room (cut) may miss some: keep both columns.
  const complete = sampleEvery === 1 && ranked.length < limit;
  const aggregates = { other: !complete, private: !complete };
  for (const { room } of ranked) {
    if (room === OTHER_ROOMS) aggregates.other = true;
    else if (room === PRIVATE_ROOMS || isRestricted(room)) aggregates.private = true;
    else if (named.size < maxRooms) named.add(room);
    else aggregates.other = true;
  }
  return choice(named, isRestricted, aggregates);
}

export interface PointsQuery extends TimeRange {
  /** At most this many points; longer ranges merge consecutive snapshots into one point. */
  limit: number;
  /** Rooms named at most; the rest are summed under `(other)`. */
  maxRooms: number;
  isRestricted: (room: string) => boolean;
  limits: Pick<QueryLimits, 'maxSnapshots' | 'maxScanBytes'>;
}

export interface PointsResult {
  /** Snapshots stored in the range. */
  count: number;
  /** Stored snapshots per returned point (1 when nothing was merged). */
  step: number;
  /** Oldest first. */
  snapshots: MetricSnapshot[];
}

/**
 * @example
 * const { snapshots } = await queryPoints(store, { from, to, limit: 2000, maxRooms: 20, isRestricted, limits });
 */
export async function queryPoints(store: MetricsStore, query: PointsQuery): Promise<PointsResult> {
  const { count, estimatedBytes, newest = query.to } = await store.measure(query);
  const { limits } = query;
  if (count > limits.maxSnapshots) {
    throw new MetricsQueryError(
      'TC_METRICS_TOO_LARGE',
      `the range holds ${count} snapshots and one answer reads at most ${limits.maxSnapshots}: ask for a shorter range`,
    );
  }
  if (estimatedBytes > limits.maxScanBytes) {
    throw new MetricsQueryError(
      'TC_METRICS_TOO_LARGE',
      `the range holds about ${mib(estimatedBytes)} MiB of snapshots and one answer reads at most ${mib(limits.maxScanBytes)} MiB: ask for a shorter range`,
    );
  }
  const step = Math.max(1, Math.ceil(count / Math.max(1, query.limit)));
  if (count === 0) return { count, step, snapshots: [] };
  const { label } = await chooseRooms(store, query, count, query.maxRooms, query.isRestricted);
  const folder = new SnapshotFolder(label);
  const snapshots: MetricSnapshot[] = [];
  // Up to the newest row counted: rows stored meanwhile are not read (the bound holds).
  for await (const page of combineNodes(store.scan({ from: query.from, to: newest }))) {
    for (const snapshot of page) {
      folder.add(snapshot);
      if (folder.size === step) snapshots.push(folder.take());
    }
  }
  if (folder.size > 0) snapshots.push(folder.take());
  return { count, step, snapshots: snapshots.length > query.limit ? snapshots.slice(-query.limit) : snapshots };
}

function mib(bytes: number): number {
  return Math.round((bytes / (1024 * 1024)) * 10) / 10;
}
