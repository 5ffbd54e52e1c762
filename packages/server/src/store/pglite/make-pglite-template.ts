/**
 * Writes a new, migrated PGlite database next to the build (dist/pglite-template/, ~25 MB), so a
 * first start copies it instead of running initdb and the migrations: a fraction of a second
 * instead of seconds, and without initdb's ~700 MB WebAssembly heap. Run by `npm run build` (and
 * so by `npm install`) after `tsc -b`; made with the PGlite version installed, so it always
 * matches. Without it, a first start runs initdb as before.
 *
 * Usage: node packages/server/dist/store/pglite/make-pglite-template.js
 */
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from '../database.js';
import { migrate } from '../migrator.js';
import { PGLITE_TEMPLATE_DIR } from './pglite-template.js';

// Built beside its final place and moved there at once: a half-written template is never copied.
const parent = path.dirname(path.resolve(PGLITE_TEMPLATE_DIR));
const building = mkdtempSync(path.join(parent, 'pglite-template-building-'));
// Made by initdb with the PGlite installed now, never copied from an older template.
rmSync(PGLITE_TEMPLATE_DIR, { recursive: true, force: true });
try {
  const database = await openDatabase({ kind: 'pglite', dataDir: building });
  try {
    await migrate(database);
    // PGlite opens the `postgres` database only: initdb's template0 and template1 are 600 of the
    // folder's ~1,050 files, which every first start would copy (first-contact issue: ready in
    // ≤ 1.5 s). Nothing here creates databases, which is all they are for.
    for (const name of ['template0', 'template1']) {
      await sql.raw(`ALTER DATABASE ${name} IS_TEMPLATE false`).execute(database.kysely);
      await sql.raw(`DROP DATABASE ${name}`).execute(database.kysely);
    }
    await sql.raw('CHECKPOINT').execute(database.kysely);
  } finally {
    await database.close();
  }
  renameSync(building, PGLITE_TEMPLATE_DIR);
  console.log(`teamchat: wrote ${PGLITE_TEMPLATE_DIR}: new embedded databases start from it (no initdb)`);
} finally {
  rmSync(building, { recursive: true, force: true });
}
