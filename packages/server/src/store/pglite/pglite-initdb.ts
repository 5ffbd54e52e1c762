/**
 * Creates a new PGlite data folder (initdb), then exits: run as a child process by
 * PGliteWorker.open on a first start when the build has no template folder. initdb grows the
 * WebAssembly heap to ~700 MB; a process gives all of it back when it ends (a worker thread did
 * not), so the server keeps only what a restart needs.
 *
 * Usage: node pglite-initdb.js <dataDir>
 */
import { openPGlite } from './open-pglite.js';

try {
  const opened = await openPGlite(process.argv[2]);
  await opened.pglite.close();
  opened.unlock();
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
}
