/**
 * Opens (or creates) a PGlite database in a folder that this process then owns.
 * A lock file in the folder records the owner's pid; a second live process is refused with
 * TC_STORE_LOCKED, and a lock left by a dead process is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { StoreError } from '../store-error.js';

import { PGLITE_LOCK_FILE } from './pglite-files.js';

export { PGLITE_LOCK_FILE };

/**
 * Postgres memory settings for the embedded database. Its defaults (128 MB of shared buffers,
 * sized for a dedicated server) kept an idle teamchat at 300-430 MB; the embedded database serves
 * one process, and reads also go through the OS page cache, so 16 MB of buffers suffices (PGlite
 * alone in a bare node process: ~150 MB instead of ~300 MB; the whole server's idle figures are
 * in BENCHMARKS.md, `npm run bench -- footprint`). A Postgres server (--database-url) is tuned by
 * its own administrator.
 *
 * More buffers would make large searches faster (a page read through PGlite's file system layer
 * costs ~15-30 us, a buffer hit next to nothing), but they are resident from the start, used or
 * not: `teamchat serve` on a new data folder, RSS at ready + 5 s, was 176-180 MB with 16 MB,
 * 226-236 MB with 64 MB and 281-295 MB with 128 MB (2026-12-06). Search is made to need few
 * pages instead (message-search.ts).
 */
export const PGLITE_MEMORY_SETTINGS = [
  'shared_buffers=16MB',
  'work_mem=2MB',
  'maintenance_work_mem=16MB',
  'wal_buffers=1MB',
  'temp_buffers=2MB',
];

/**
 * Postgres extensions the migrations create (`CREATE EXTENSION`), loaded into every PGlite we open:
 * PGlite ships each contrib module as a bundle that must be loaded at start, before the database
 * can use it (migrations/007_search.sql creates pg_trgm, for the trigram index of search). The
 * build's template folder is made through this function too, so it has them.
 */
export const PGLITE_EXTENSIONS = { pg_trgm };

export interface OpenedPGlite {
  pglite: PGlite;
  /** Absolute path of the data folder. */
  dataDir: string;
  /** Removes the lock file (call after closing PGlite). */
  unlock(): void;
}

/**
 * @example
 * const { pglite, unlock } = await openPGlite('./data');
 * // ...
 * await pglite.close(); unlock();
 */
export async function openPGlite(dataDir: string): Promise<OpenedPGlite> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const lockPath = join(dir, PGLITE_LOCK_FILE);
  takeLock(lockPath, dir);
  try {
    const pglite = await PGlite.create(dir, {
      // int8 (message ids, counts) as JS numbers: ids stay far below 2^53.
      parsers: { [types.INT8]: (value: string) => Number(value) },
      postgresqlconf: PGLITE_MEMORY_SETTINGS,
      extensions: PGLITE_EXTENSIONS,
    });
    return { pglite, dataDir: dir, unlock: () => releaseLock(lockPath) };
  } catch (err) {
    releaseLock(lockPath);
    throw err;
  }
}

function takeLock(lockPath: string, dir: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number.parseInt(readLock(lockPath), 10);
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      const who = owner === process.pid ? 'this process' : `process ${owner}`;
      throw new StoreError(
        'TC_STORE_LOCKED',
        `data folder ${dir} is already open in ${who}; only one process may open it`,
      );
    }
    // Stale lock from a process that is gone: take it over.
    rmSync(lockPath, { force: true });
  }
  throw new StoreError('TC_STORE_LOCKED', `could not lock data folder ${dir}`);
}

function readLock(lockPath: string): string {
  try {
    return readFileSync(lockPath, 'utf8');
  } catch {
    return '';
  }
}

function releaseLock(lockPath: string): void {
  if (Number.parseInt(readLock(lockPath), 10) === process.pid) rmSync(lockPath, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
