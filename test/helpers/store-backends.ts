/**
 * The backends every storage suite loops over: PGlite in a folder the suite chooses, and a real
 * Postgres server from the harness (skipped, with the harness's reason, when there is none).
 *
 * @example
 * for (const backend of storeBackends(await startPostgres(), () => freshDir())) {
 *   describe.skipIf(backend.skip !== undefined)(`on ${backend.name}`, () => { ... });
 * }
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreConfig } from '@teamchat/server';
import { afterAll } from 'vitest';
import { startPostgres, type PostgresStart } from './postgres-cluster.js';

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

/**
 * For a test file: starts the harness's Postgres, and returns both backends with a fresh PGlite
 * folder (named `prefix`...) on every `config()`; the folders and the server go at the end of the file.
 *
 * @example
 * const backends = await suiteBackends('teamchat-metrics-');
 */
export async function suiteBackends(prefix: string): Promise<StoreBackend[]> {
  const tempDirs: string[] = [];
  const postgres = await startPostgres();
  afterAll(async () => {
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
    if ('stop' in postgres) await postgres.stop();
  });
  return storeBackends(postgres, () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    tempDirs.push(dir);
    return join(dir, 'data');
  });
}
