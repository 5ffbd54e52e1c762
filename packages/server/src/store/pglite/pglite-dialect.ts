/**
 * Kysely dialect for PGlite (Postgres in WebAssembly, in this process). SQL, adapter and
 * introspection are Postgres'; only the driver differs.
 *
 * @example
 * const kysely = new Kysely<ChatSchema>({ dialect: new PGliteDialect({ pglite: await PGlite.create('./data') }) });
 */
import {
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
} from 'kysely';
import { PGliteDriver, type PGliteDriverConfig } from './pglite-driver.js';

export class PGliteDialect implements Dialect {
  readonly #config: PGliteDriverConfig;

  constructor(config: PGliteDriverConfig) {
    this.#config = config;
  }

  createDriver(): Driver {
    return new PGliteDriver(this.#config);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}
