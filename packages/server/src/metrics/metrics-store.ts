/**
 * Stores metrics snapshots in the `metric_snapshots` table (migration 002) and reads them back by
 * time range. Works the same on PGlite and Postgres: both are behind the Kysely of a `Database`.
 */
import { sql, type Generated, type Kysely } from 'kysely';
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

/** Rows fetched per round trip when scanning a range. */
export const SCAN_PAGE_SIZE = 1000;

/**
 * @example
 * const store = new MetricsStore(database);
 * await store.insert(snapshot);
 * for await (const page of store.scan({ from: 0, to: Date.now() })) console.log(page.length);
 */
export class MetricsStore {
  readonly #db: Kysely<MetricsSchema>;

  constructor(database: Database) {
    this.#db = database.kysely as Kysely<MetricsSchema>;
  }

  async insert(snapshot: MetricSnapshot): Promise<void> {
    const { ts, ...data } = snapshot;
    await this.#db
      .insertInto('metric_snapshots')
      .values({ ts: new Date(ts), data: sql`${JSON.stringify(data)}::jsonb` })
      .execute();
  }

  /** The newest stored snapshot, if any. */
  async latest(): Promise<MetricSnapshot | undefined> {
    const row = await this.#db
      .selectFrom('metric_snapshots')
      .select(['id', 'ts', 'data'])
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

  /** Every room that appears in a snapshot of the range, sorted. */
  async rooms(range: TimeRange): Promise<string[]> {
    const result = await sql<{ room: string }>`
      SELECT DISTINCT jsonb_object_keys(data -> 'rooms') AS room
      FROM metric_snapshots
      WHERE ts >= ${new Date(range.from)} AND ts <= ${new Date(range.to)}`.execute(this.#db);
    return result.rows.map((r) => r.room).sort();
  }

  /** The snapshots of the range, oldest first, `pageSize` per page (memory stays bounded). */
  async *scan(range: TimeRange, pageSize: number = SCAN_PAGE_SIZE): AsyncGenerator<MetricSnapshot[]> {
    let after: { ts: Date; id: number } | undefined;
    for (;;) {
      let query = this.#db
        .selectFrom('metric_snapshots')
        .select(['id', 'ts', 'data'])
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
      const last = rows[rows.length - 1]!;
      after = { ts: toDate(last.ts), id: Number(last.id) };
    }
  }

  /** Deletes snapshots taken before `before` (epoch ms); returns how many. */
  async prune(before: number): Promise<number> {
    const result = await this.#db.deleteFrom('metric_snapshots').where('ts', '<', new Date(before)).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

function toSnapshot(row: { ts: Date | string; data: unknown }): MetricSnapshot {
  const data = (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as Omit<MetricSnapshot, 'ts'>;
  return { ts: toDate(row.ts).getTime(), ...data };
}
