/**
 * An open database: PGlite in a data folder or a Postgres server, behind one Kysely instance.
 * The message store and the metrics store are both built on it; migrations run against it.
 */
import { resolve } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import type { StoreConfig } from './message-store.js';
import { PGliteDialect } from './pglite/pglite-dialect.js';
import { PGliteWorker } from './pglite/pglite-worker.js';
import { StoreError } from './store-error.js';

export interface Database {
  readonly kind: StoreConfig['kind'];
  /** For logs: where the data lives, never a password. */
  readonly description: string;
  /** Typed per table by the modules that own them (store/schema.ts, metrics/). */
  readonly kysely: Kysely<any>;
  close(): Promise<void>;
}

/**
 * Opens the database described by `config` (creating the PGlite folder if needed). Not migrated yet.
 * A PGlite folder is owned by one process: opening it while another live process has it open
 * rejects with a StoreError `TC_STORE_LOCKED`.
 *
 * @example
 * const database = await openDatabase({ kind: 'pglite', dataDir: './data' });
 * await migrate(database);
 * // ...
 * await database.close();
 */
export async function openDatabase(config: StoreConfig): Promise<Database> {
  if (config.kind === 'pglite') {
    if (typeof config.dataDir !== 'string' || config.dataDir === '') {
      throw new StoreError('TC_STORE_BAD_CONFIG', 'a PGlite store needs a data folder');
    }
    // PGlite runs in a worker thread: its CPU work and file I/O stay off the server's event loop.
    const pglite = await PGliteWorker.open(config.dataDir);
    const kysely = new Kysely<any>({ dialect: new PGliteDialect({ pglite }) });
    // Kysely only initializes (and so only destroys) its driver after a first query: close
    // PGlite (which releases the folder) here too.
    return new OpenDatabase('pglite', `pglite ${resolve(config.dataDir)}`, kysely, async () => {
      if (!pglite.closed) await pglite.close();
    });
  }
  if (config.kind === 'postgres') {
    if (typeof config.url !== 'string' || config.url === '') {
      throw new StoreError('TC_STORE_BAD_CONFIG', 'a Postgres store needs a URL');
    }
    // Loaded here: the embedded database never needs the `pg` driver (~3 MB of heap, issue 10).
    const { createPostgresPool, describePostgresUrl } = await import('./postgres/postgres-pool.js');
    const description = describePostgresUrl(config.url);
    const pool = createPostgresPool(config.url);
    const kysely = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    return new OpenDatabase('postgres', description, kysely);
  }
  throw new StoreError(
    'TC_STORE_BAD_CONFIG',
    `unknown store kind ${JSON.stringify((config as { kind?: unknown }).kind)}`,
  );
}

class OpenDatabase implements Database {
  #closing: Promise<void> | undefined;

  constructor(
    readonly kind: StoreConfig['kind'],
    readonly description: string,
    readonly kysely: Kysely<any>,
    private readonly afterDestroy?: () => Promise<void>,
  ) {}

  /** Closes the connections (and releases the PGlite folder). Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.kysely.destroy();
      } finally {
        await this.afterDestroy?.();
      }
    })();
    return this.#closing;
  }
}
