/**
 * An open database: PGlite in a data folder or a Postgres server, behind one Kysely instance.
 * The message store and the metrics store are both built on it; migrations run against it.
 */
import type { Kysely } from 'kysely';
import type { StoreConfig } from './message-store.js';

export interface Database {
  readonly kind: StoreConfig['kind'];
  /** For logs: where the data lives, never a password. */
  readonly description: string;
  /** Typed per table by the modules that own them (store/schema.ts, metrics/). */
  readonly kysely: Kysely<any>;
  close(): Promise<void>;
}

/** Opens the database described by `config` (creating the PGlite folder if needed). Not migrated yet. */
export async function openDatabase(config: StoreConfig): Promise<Database> {
  throw new Error(`openDatabase(${config.kind}) is built by the storage work (see store/README)`);
}
