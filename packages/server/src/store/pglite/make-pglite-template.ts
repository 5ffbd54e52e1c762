/**
 * Writes a pre-initialised PGlite data folder (a gzipped tarball, ~4.5 MB) next to the build, so a
 * first start loads it instead of running initdb: seconds faster, and without initdb's ~700 MB
 * WebAssembly heap. Run by `npm install` (the `build` step after `tsc -b`); made with the PGlite
 * version installed, so it always matches. Without it, a first start runs initdb as before.
 *
 * Usage: node packages/server/dist/store/pglite/make-pglite-template.js
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPGlite, PGLITE_TEMPLATE } from './open-pglite.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'teamchat-template-'));
try {
  const opened = await openPGlite(dir);
  const dump = await opened.pglite.dumpDataDir('gzip');
  await opened.pglite.close();
  opened.unlock();
  writeFileSync(PGLITE_TEMPLATE, Buffer.from(await dump.arrayBuffer()));
  console.log(`teamchat: wrote ${fileURLToPath(PGLITE_TEMPLATE)} (${(dump.size / 1e6).toFixed(1)} MB): new embedded databases skip initdb`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
