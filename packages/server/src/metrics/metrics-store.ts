/**
 * Stores metrics snapshots in the `metric_snapshots` table (migration 002) and reads them back by
 * time range. Works the same on PGlite and Postgres: both are behind the Kysely of a `Database`.
 *
 * Reading is bounded by what a stored row may cost: the rooms of a row are read only when it was
 * written by this server's format (`v: 2`, rooms bounded) and is not larger than `heavyBytes`
 * stored; any other row (written by an older server, possibly with every room ever created) is read
 * without its rooms, which costs one detoast and no parsing of its rooms.
 */
import { sql, type Generated, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../store/database.js';
import type { MetricSnapshot } from './metric-snapshot.js';

/** Kysely types of the table this module owns. */
export interface MetricSnapshotsTable {
  id: Generated<number>;
  ts: Date | string;
  /** The snapshot without `ts`. */
  data: unknown;
}

export interface MetricsSchema {
  metric_snapshots: MetricSnapshotsTable;
}

/** A time range in epoch milliseconds, both ends included. */
export interface TimeRange {
  from: number;
  to: number;
}

/** Rows fetched per round trip when scanning a range (a page stays a few MB). */
export const SCAN_PAGE_SIZE = 250;
/**
 * Stored (compressed) size above which a row is read without its rooms. A snapshot of this server
 * with 200 named rooms takes about 6 KB; one of an older server with 10,000 rooms about 73 KB.
 */
export const DEFAULT_HEAVY_SNAPSHOT_BYTES = 32 * 1024;
/** Raw size assumed per stored byte of a compressed row, when estimating what a range costs to read. */
const COMPRESSED_RATIO = 6;

export interface MetricsStoreOptions {
  /** Default DEFAULT_HEAVY_SNAPSHOT_BYTES. */
  heavyBytes?: number;
}

/** What reading a range costs, from stored sizes only (no row is decompressed). */
export interface RangeMeasure {
  /** Snapshots in the range. */
  count: number;
  /** Bytes of snapshot data a full read of the range handles (estimated from stored sizes). */
  estimatedBytes: number;
  /** Time of the newest snapshot in the range (absent when it is empty). */
  newest?: number;
}

/** A key of the stored rooms of a range, with its activity. */
export interface RankedRoom {
  /** A room name or an aggregate label. */
  room: string;
  /** Messages + joins + leaves summed over the rows read. */
  activity: number;
  /** Most members in one of those rows. */
  members: number;
}

/**
 * @example
 * const store = new MetricsStore(database);
 * await store.insert(snapshot);
 * for await (const page of store.scan({ from: 0, to: Date.now() })) console.log(page.length);
 */
export class MetricsStore {
  readonly #db: Kysely<MetricsSchema>;
  readonly heavyBytes: number;

  constructor(database: Database, options: MetricsStoreOptions = {}) {
    this.#db = database.kysely as Kysely<MetricsSchema>;
    this.heavyBytes = options.heavyBytes ?? DEFAULT_HEAVY_SNAPSHOT_BYTES;
  }

  async insert(snapshot: MetricSnapshot): Promise<void> {
    const { ts, ...data } = snapshot;
    await this.#db
      .insertInto('metric_snapshots')
      .values({ ts: new Date(ts), data: sql`${JSON.stringify(data)}::jsonb` })
      .execute();
  }

  /**
   * The newest stored snapshot, if any (read whole: it seeds the counters after a restart); in a
   * cluster, the newest of `node` (each node continues its own totals).
   */
  async latest(node?: string): Promise<MetricSnapshot | undefined> {
    const row = await this.#db
      .selectFrom('metric_snapshots')
      .select(['id', 'ts', 'data'])
      .where(node === undefined ? sql<boolean>`NOT (data ? 'node')` : sql<boolean>`data->>'node' = ${node}`)
      .orderBy('ts', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toSnapshot(row) : undefined;
  }

  /** How many snapshots lie in the range. */
  async count(range: TimeRange): Promise<number> {
    const row = await this.#db
      .selectFrom('metric_snapshots')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('ts', '>=', new Date(range.from))
      .where('ts', '<=', new Date(range.to))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** How many snapshots lie in the range and how much data reading them handles (cheap: sizes only). */
  async measure(range: TimeRange): Promise<RangeMeasure> {
    const result = await sql<{ n: string | number; bytes: string | number; newest: Date | string | null }>`
      SELECT count(*) AS n, max(ts) AS newest,
        coalesce(sum(CASE
          WHEN pg_column_size(data) > ${this.heavyBytes} THEN pg_column_size(data)
          WHEN pg_column_compression(data) IS NOT NULL THEN pg_column_size(data) * ${COMPRESSED_RATIO}
          ELSE pg_column_size(data) END), 0) AS bytes
      FROM metric_snapshots
      WHERE ts >= ${new Date(range.from)} AND ts <= ${new Date(range.to)}`.execute(this.#db);
    const row = result.rows[0];
    const measure: RangeMeasure = { count: Number(row.n), estimatedBytes: Number(row.bytes) };
    if (row.newest !== null) measure.newest = toDate(row.newest).getTime();
    return measure;
  }

  /**
   * The busiest room keys of the range (room names and aggregate labels), from the rows whose rooms
   * are readable, every `sampleEvery`-th row by id; busiest first, at most `limit`.
   */
  async rankRooms(range: TimeRange, options: { limit: number; sampleEvery?: number }): Promise<RankedRoom[]> {
    const every = Math.max(1, Math.floor(options.sampleEvery ?? 1));
    // OFFSET 0 keeps the subquery apart, so each row is decompressed once, not once per room.
    const result = await sql<{ room: string; activity: number | string; members: number | string }>`
      SELECT key AS room,
        sum(coalesce((value->>'messages')::float8, 0) + coalesce((value->>'joins')::float8, 0) + coalesce((value->>'leaves')::float8, 0)) AS activity,
        max(coalesce((value->>'members')::float8, 0)) AS members
      FROM (
        SELECT data->'rooms' AS rooms
        FROM metric_snapshots
        WHERE ts >= ${new Date(range.from)} AND ts <= ${new Date(range.to)}
          AND id % ${every} = 0
          AND ${this.#readable()}
        OFFSET 0
      ) s, jsonb_each(s.rooms)
      GROUP BY key
      ORDER BY activity DESC, members DESC, key
      LIMIT ${Math.max(0, Math.floor(options.limit))}`.execute(this.#db);
    return result.rows.map((r) => ({ room: r.room, activity: Number(r.activity), members: Number(r.members) }));
  }

  /**
   * The snapshots of the range, oldest first, `pageSize` per page (memory stays bounded). A row that
   * is not readable (older format, or over `heavyBytes`) comes without rooms, marked `roomsOmitted`.
   */
  async *scan(range: TimeRange, pageSize: number = SCAN_PAGE_SIZE): AsyncGenerator<MetricSnapshot[]> {
    let after: { ts: Date; id: number } | undefined;
    for (;;) {
      let query = this.#db
        .selectFrom('metric_snapshots')
        .select([
          'id',
          'ts',
          sql<string>`(CASE WHEN ${this.#readable()} THEN data ELSE data - 'rooms' END)::text`.as('data'),
        ])
        .where('ts', '>=', new Date(range.from))
        .where('ts', '<=', new Date(range.to));
      if (after) {
        const { ts, id } = after;
        query = query.where(sql<boolean>`(ts, id) > (${ts}, ${id})`);
      }
      const rows = await query.orderBy('ts').orderBy('id').limit(pageSize).execute();
      if (rows.length === 0) return;
      yield rows.map(toSnapshot);
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1];
      after = { ts: toDate(last.ts), id: Number(last.id) };
    }
  }

  /** Deletes snapshots taken before `before` (epoch ms); returns how many. */
  async prune(before: number): Promise<number> {
    const result = await this.#db.deleteFrom('metric_snapshots').where('ts', '<', new Date(before)).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** A row whose rooms may be read: small enough, and of this server's format. The size is checked first (CASE keeps the order), so a large row is never decompressed for the test. */
  #readable(): RawBuilder<boolean> {
    return sql<boolean>`(CASE WHEN pg_column_size(data) > ${this.heavyBytes} THEN false ELSE data ? 'v' END)`;
  }
}

function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

function toSnapshot(row: { ts: Date | string; data: unknown }): MetricSnapshot {
  const data = (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as Omit<MetricSnapshot, 'ts'>;
  const snapshot: MetricSnapshot = { ts: toDate(row.ts).getTime(), ...data };
  if (snapshot.rooms === undefined) {
    snapshot.rooms = {};
    snapshot.roomsOmitted = true;
  }
  return snapshot;
}
