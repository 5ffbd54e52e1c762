/**
 * The storage layer: open a database, migrate it, and talk to it through the MessageStore port.
 *
 * @example
 * const database = await openDatabase({ kind: 'pglite', dataDir: './data' });
 * await migrate(database);
 * const store = new KyselyMessageStore(database);
 */
export type {
  HistoryQuery,
  MessageStore,
  NewMessage,
  NewPrivateMessage,
  NewRoomMessage,
  StateWrite,
  StoreConfig,
  StoreSnapshot,
  StoredRoom,
  WriteBatch,
} from './message-store.js';
export { openDatabase, type Database } from './database.js';
export { migrate, MIGRATIONS_DIR, type MigrationResult } from './migrator.js';
export { KyselyMessageStore } from './kysely-message-store.js';
export { StoreError, type StoreErrorCode } from './store-error.js';
export type { ChatSchema } from './schema.js';
export { PGliteDialect } from './pglite/pglite-dialect.js';
export { PGliteDriver, type PGliteDriverConfig } from './pglite/pglite-driver.js';
export { openPGlite, PGLITE_LOCK_FILE } from './pglite/open-pglite.js';
export { createPostgresPool, describePostgresUrl } from './postgres/postgres-pool.js';
