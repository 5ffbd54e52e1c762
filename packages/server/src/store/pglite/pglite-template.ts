/**
 * The build's template database (written by make-pglite-template.ts): a new data folder starts as
 * a copy of it instead of running initdb and the migrations.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StoreError } from '../store-error.js';
import { PGLITE_LOCK_FILE } from './pglite-files.js';

/** Where the build keeps it: dist/ in a build, nothing next to the sources. */
export const PGLITE_TEMPLATE_DIR = fileURLToPath(new URL('../../pglite-template/', import.meta.url));

/** True when the folder already holds a database (PGlite runs no initdb in it). */
export function isInitialized(dataDir: string): boolean {
  return existsSync(join(resolve(dataDir), 'PG_VERSION'));
}

/**
 * Copies the template into `dataDir` (new, or an empty folder), without the template's lock file.
 * The copy is made beside the folder and moved into place at once, so a first start cut short
 * (Ctrl+C, a kill) never leaves half a database for the next start to open.
 */
export function copyTemplate(dataDir: string, templateDir: string = PGLITE_TEMPLATE_DIR): void {
  const target = resolve(dataDir);
  mkdirSync(dirname(target), { recursive: true });
  const staging = mkdtempSync(join(dirname(target), `.${basename(target)}-new-`));
  try {
    cpSync(templateDir, staging, { recursive: true, filter: (src) => basename(src) !== PGLITE_LOCK_FILE });
    try {
      rmdirSync(target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST')
        throw new StoreError(
          'TC_STORE_INIT_FAILED',
          `${target} holds files but no database: give --data-dir a new or empty folder`,
        );
      if (code !== 'ENOENT') throw err;
    }
    renameSync(staging, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
