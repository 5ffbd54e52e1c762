/**
 * A Kysely driver over one PGlite instance. PGlite is a single Postgres session, so the driver
 * hands out one connection at a time (callers queue for it); transactions are plain BEGIN/COMMIT
 * on that session, which is safe because nobody else can use the session meanwhile.
 */
import type { Results } from '@electric-sql/pglite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { ConnectionMutex } from './connection-mutex.js';
import type { PGliteLike } from './pglite-worker.js';

export interface PGliteDriverConfig {
  /** The PGlite instance, or a function that opens it (called once, by `init`). */
  pglite: PGliteLike | (() => Promise<PGliteLike>);
  /** Called after the instance is closed by `destroy` (e.g. to release a folder lock). */
  onDestroy?: () => Promise<void> | void;
}

/**
 * @example
 * const driver = new PGliteDriver({ pglite: await PGlite.create('./data') });
 */
export class PGliteDriver implements Driver {
  readonly #config: PGliteDriverConfig;
  readonly #mutex = new ConnectionMutex();
  #pglite: PGliteLike | undefined;
  #connection: PGliteConnection | undefined;

  constructor(config: PGliteDriverConfig) {
    this.#config = config;
  }

  async init(): Promise<void> {
    const source = this.#config.pglite;
    this.#pglite = typeof source === 'function' ? await source() : source;
    this.#connection = new PGliteConnection(this.#pglite);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    if (!this.#connection) {
      this.#mutex.unlock();
      throw new Error('PGlite driver is not initialized or has been destroyed');
    }
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let text = 'begin';
    if (settings.isolationLevel || settings.accessMode) {
      text = 'start transaction';
      if (settings.isolationLevel) text += ` isolation level ${settings.isolationLevel}`;
      if (settings.accessMode) text += ` ${settings.accessMode}`;
    }
    await connection.executeQuery(CompiledQuery.raw(text));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }

  async destroy(): Promise<void> {
    const pglite = this.#pglite;
    if (!pglite) return;
    // Wait for the query in flight (if any) to finish before closing under it.
    await this.#mutex.lock();
    this.#pglite = undefined;
    this.#connection = undefined;
    try {
      if (!pglite.closed) await pglite.close();
    } finally {
      this.#mutex.unlock();
      await this.#config.onDestroy?.();
    }
  }
}

/**
 * The session. Queries with parameters use the extended protocol (`query`); queries without use
 * the simple protocol (`exec`), which accepts several statements, exactly like `pg` does.
 */
class PGliteConnection implements DatabaseConnection {
  readonly #pglite: PGliteLike;

  constructor(pglite: PGliteLike) {
    this.#pglite = pglite;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const params = compiledQuery.parameters;
    let result: Results<R>;
    if (params.length === 0) {
      const results = (await this.#pglite.exec(compiledQuery.sql)) as Results<R>[];
      result = results[results.length - 1] ?? { rows: [], fields: [] };
    } else {
      result = await this.#pglite.query<R>(compiledQuery.sql, [...params]);
    }
    const command = result.command?.toUpperCase();
    const isWrite = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
    const count = result.rowCount ?? result.affectedRows;
    return {
      rows: result.rows ?? [],
      ...(isWrite && count !== undefined ? { numAffectedRows: BigInt(count) } : {}),
    };
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize = 100): AsyncIterableIterator<QueryResult<R>> {
    if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new Error('chunkSize must be a positive integer');
    // PGlite has no cursors over its API: read everything, hand it out in chunks.
    const { rows } = await this.executeQuery<R>(compiledQuery);
    for (let i = 0; i < rows.length; i += chunkSize) yield { rows: rows.slice(i, i + chunkSize) };
  }
}
