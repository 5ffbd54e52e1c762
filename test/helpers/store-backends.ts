/**
 * The backends every storage suite loops over: PGlite in a folder the suite chooses, and a real
 * Postgres server from the harness (skipped, with the harness's reason, when there is none).
 *
 * @example
 * for (const backend of storeBackends(await startPostgres(), () => freshDir())) {
 *   describe.skipIf(backend.skip !== undefined)(`on ${backend.name}`, () => { ... });
 * }
 */
import type { StoreConfig } from '@teamchat/server';
import type { PostgresStart } from './postgres-cluster.js';

export interface StoreBackend {
  name: 'PGlite' | 'Postgres';
  /** Why this backend is skipped, when it is. */
  skip?: string;
  config: () => StoreConfig;
}

export function storeBackends(postgres: PostgresStart, pgliteDataDir: () => string): StoreBackend[] {
  return [
    { name: 'PGlite', config: () => ({ kind: 'pglite', dataDir: pgliteDataDir() }) },
    'skip' in postgres
      ? { name: 'Postgres', skip: postgres.skip, config: () => ({ kind: 'postgres', url: '' }) }
      : { name: 'Postgres', config: () => ({ kind: 'postgres', url: postgres.url }) },
  ];
}
