/**
 * Runs in a worker thread: owns the PGlite instance (Postgres compiled to WebAssembly) so that its
 * CPU work and file I/O never run on the server's event loop. Answers one request at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PGlite } from '@electric-sql/pglite';
import { openPGlite, type OpenedPGlite } from './open-pglite.js';
import type { WorkerReply, WorkerRequest } from './pglite-worker.js';

const port = parentPort!;
let opened: OpenedPGlite | null = null;

function errorReply(id: number, err: unknown): WorkerReply {
  const e = err as Error & { code?: string };
  return { id, ok: false, error: { message: e.message, name: e.name, ...(e.code !== undefined ? { code: String(e.code) } : {}) } };
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
    case 'close':
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

try {
  opened = await openPGlite((workerData as { dataDir: string }).dataDir);
  port.postMessage({ id: 0, ok: true, result: opened.dataDir } satisfies WorkerReply);
} catch (err) {
  port.postMessage(errorReply(0, err));
}
