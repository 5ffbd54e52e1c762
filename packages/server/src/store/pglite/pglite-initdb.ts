/**
 * Creates a new PGlite data folder, then exits: run as a child process by PGliteWorker.open on a
 * first start. initdb grows the WebAssembly heap to ~700 MB (loading the build's template, ~270
 * MB); a process gives all of it back when it ends (a worker thread did not), so the server keeps
 * only what a restart needs.
 *
 * Usage: node pglite-initdb.js <dataDir>
 */
import { existsSync, readFileSync } from 'node:fs';
import { openPGlite, PGLITE_TEMPLATE } from './open-pglite.js';

try {
  // From the build's pre-initialised folder when there is one (a second instead of initdb's several).
  const template = existsSync(PGLITE_TEMPLATE) ? readFileSync(PGLITE_TEMPLATE) : undefined;
  const opened = await openPGlite(process.argv[2]!, template ? { template } : {});
  await opened.pglite.close();
  opened.unlock();
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
}
