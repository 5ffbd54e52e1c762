/**
 * Writes a new, migrated PGlite database next to the build (dist/pglite-template/, ~40 MB), so a
 * first start copies it instead of running initdb and the migrations: a fraction of a second
 * instead of seconds, and without initdb's ~700 MB WebAssembly heap. Run by `npm run build` (and
 * so by `npm install`) after `tsc -b`; made with the PGlite version installed, so it always
 * matches. Without it, a first start runs initdb as before.
 *
 * Usage: node packages/server/dist/store/pglite/make-pglite-template.js
 */
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../database.js';
import { migrate } from '../migrator.js';
import { PGLITE_TEMPLATE_DIR } from './pglite-worker.js';

// Built beside its final place and moved there at once: a half-written template is never copied.
const parent = path.dirname(path.resolve(PGLITE_TEMPLATE_DIR));
const building = mkdtempSync(path.join(parent, 'pglite-template-building-'));
// Made by initdb with the PGlite installed now, never copied from an older template.
rmSync(PGLITE_TEMPLATE_DIR, { recursive: true, force: true });
try {
  const database = await openDatabase({ kind: 'pglite', dataDir: building });
  try {
    await migrate(database);
  } finally {
    await database.close();
  }
  renameSync(building, PGLITE_TEMPLATE_DIR);
  console.log(`teamchat: wrote ${PGLITE_TEMPLATE_DIR}: new embedded databases start from it (no initdb)`);
} finally {
  rmSync(building, { recursive: true, force: true });
}
