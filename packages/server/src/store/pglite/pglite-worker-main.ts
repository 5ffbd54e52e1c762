/**
 * Runs in a worker thread: owns the PGlite instance (Postgres compiled to WebAssembly) so that its
 * CPU work and file I/O never run on the server's event loop. Answers one request at a time; the
 * first is `open` (the thread starts, and loads PGlite, while the server is still making the folder).
 */
import { setFlagsFromString } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import type { PGlite } from '@electric-sql/pglite';
import { openPGlite, type OpenedPGlite } from './open-pglite.js';
import { copyTemplate, isInitialized } from './pglite-template.js';
import type { WorkerReply, WorkerRequest } from './pglite-worker.js';
import { collectGarbage, startIdleCollector } from '../../runtime/idle-collector.js';

// Postgres's WebAssembly runs on V8's baseline compiler only (Liftoff): optimized (TurboFan) code
// for the functions start-up makes hot cost ~60 MB of resident memory that an idle server never
// gives back (issue 10: idle RSS 240 -> 175 MB). Batch writes cost the same CPU per message either
// way within this machine's noise (25-38 us per row in batches of 1000), and TurboFan's own
// compiling cost CPU at start. The flag is the process's, read when a module is compiled: set
// before PGlite's is.
setFlagsFromString('--liftoff-only');
const port = parentPort!;
let opened: OpenedPGlite | null = null;
let stopIdleCollector = (): void => {};

function errorReply(id: number, err: unknown): WorkerReply {
  const e = err as Error & { code?: string };
  return {
    id,
    ok: false,
    error: { message: e.message, name: e.name, ...(e.code !== undefined ? { code: String(e.code) } : {}) },
  };
}

async function handle(request: WorkerRequest): Promise<WorkerReply> {
  const pglite: PGlite | undefined = opened?.pglite;
  switch (request.op) {
    case 'query':
      if (!pglite) throw new Error('PGlite is not open');
      return { id: request.id, ok: true, result: await pglite.query(request.sql, request.params) };
    case 'exec':
      if (!pglite) throw new Error('PGlite is not open');
      return { id: request.id, ok: true, result: await pglite.exec(request.sql) };
    case 'open':
      if (opened) throw new Error('PGlite is already open');
      if (request.fromTemplate && !isInitialized(request.dataDir)) copyTemplate(request.dataDir);
      opened = await openPGlite(request.dataDir);
      // Starting PGlite read its WebAssembly (9 MB) and file bundle (6 MB) into buffers that are
      // garbage once it runs; this thread then allocates almost nothing, so V8 would free them
      // only 10-30 s later: one full collection now (~10 MB of an idle server's RSS). The new
      // space start-up grew is given back once the thread is idle (idle-collector.ts).
      collectGarbage();
      stopIdleCollector = startIdleCollector();
      return { id: request.id, ok: true, result: opened.dataDir };
    case 'close':
      stopIdleCollector();
      if (opened) {
        if (!opened.pglite.closed) await opened.pglite.close();
        opened.unlock();
        opened = null;
      }
      return { id: request.id, ok: true, result: null };
  }
}

let queue = Promise.resolve();
port.on('message', (request: WorkerRequest) => {
  queue = queue.then(async () => {
    let reply: WorkerReply;
    try {
      reply = await handle(request);
    } catch (err) {
      reply = errorReply(request.id, err);
    }
    port.postMessage(reply);
  });
});
