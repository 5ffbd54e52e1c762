/**
 * PGlite in a worker thread, behind the small part of PGlite's API the Kysely driver uses
 * (`query`, `exec`, `close`, `closed`). Storage work then runs on its own core instead of between
 * the server's deliveries: under fan-out load PGlite took a third of the event loop.
 *
 * @example
 * const pglite = await PGliteWorker.open('./.teamchat/data');
 * const { rows } = await pglite.query('select 1 as one');
 * await pglite.close();
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Results } from '@electric-sql/pglite';
import { StoreError, type StoreErrorCode } from '../store-error.js';
import { isInitialized, PGLITE_TEMPLATE_DIR } from './pglite-template.js';

export type WorkerRequest =
  | { id: number; op: 'query'; sql: string; params: unknown[] }
  | { id: number; op: 'exec'; sql: string }
  | { id: number; op: 'open'; dataDir: string; fromTemplate: boolean }
  | { id: number; op: 'close' };

export type WorkerReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { message: string; name: string; code?: string } };

/** What the Kysely driver needs of a PGlite instance, in this process or in a worker. */
export interface PGliteLike {
  readonly closed: boolean;
  query<T>(sql: string, params?: unknown[]): Promise<Results<T>>;
  exec(sql: string): Promise<Results[]>;
  close(): Promise<void>;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * The worker's JavaScript allocates little (query results, which cross to the server's thread as
 * messages): a small young generation saves ~10 MB of resident memory over V8's default.
 */
const WORKER_YOUNG_GENERATION_MB = 4;

export class PGliteWorker implements PGliteLike {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  #exited: Error | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (reply: WorkerReply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if (reply.ok) pending.resolve(reply.result);
      else pending.reject(rebuildError(reply.error));
    });
    const fail = (error: Error) => {
      this.#exited = error;
      this.#closed = true;
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
    };
    worker.on('error', (err) =>
      fail(Object.assign(new Error(`PGlite worker failed: ${err.message}`), { code: 'ECONNRESET' })),
    );
    worker.on('exit', (code) =>
      fail(Object.assign(new Error(`PGlite worker exited (${code}): not queryable`), { code: 'ECONNRESET' })),
    );
  }

  /** Workers started by prestart(), by resolved data folder, until an open() adopts them. */
  static readonly #early = new Map<string, Promise<PGliteWorker>>();

  /**
   * Starts opening `dataDir` now, for a later open() of the same folder to adopt: `serve` calls it
   * before it loads the server's modules, so the database's start-up (a thread, Postgres's
   * WebAssembly, a template copy on a first start: ~1 s) runs alongside theirs (~0.5 s) instead
   * of after them (first-contact issue: ready in ≤ 1.5 s). A failure is reported by that open().
   */
  static prestart(dataDir: string): void {
    const key = resolve(dataDir);
    if (PGliteWorker.#early.has(key)) return;
    const opening = PGliteWorker.#open(key);
    opening.catch(() => {});
    PGliteWorker.#early.set(key, opening);
  }

  /**
   * Starts the worker and opens (or creates, and locks) the data folder in it. A new folder is a
   * copy of the build's template folder (an initialised, migrated database: pglite-template.ts),
   * which takes a fraction of a second; without a template it is made by initdb in a child process
   * (pglite-initdb.ts), because initdb grows the WebAssembly heap to ~700 MB, which a thread never
   * gives back and a process does.
   */
  static open(dataDir: string): Promise<PGliteWorker> {
    const key = resolve(dataDir);
    const early = PGliteWorker.#early.get(key);
    if (early === undefined) return PGliteWorker.#open(key);
    PGliteWorker.#early.delete(key);
    return early;
  }

  static async #open(dataDir: string): Promise<PGliteWorker> {
    // The thread loads PGlite while the folder is being made; it opens the folder when asked.
    const worker = new Worker(workerEntry(), {
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    const client = new PGliteWorker(worker);
    try {
      // A new folder: a copy of the build's template, made by the thread (a synchronous copy there
      // is quicker than an asynchronous one here); without a template, initdb.
      const fromTemplate = !isInitialized(dataDir) && isInitialized(PGLITE_TEMPLATE_DIR);
      if (!fromTemplate && !isInitialized(dataDir)) await initdb(dataDir);
      await client.#call({ id: 0, op: 'open', dataDir, fromTemplate });
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    return client;
  }

  get closed(): boolean {
    return this.#closed;
  }

  query<T>(sql: string, params: unknown[] = []): Promise<Results<T>> {
    return this.#call({ id: 0, op: 'query', sql, params }) as Promise<Results<T>>;
  }

  exec(sql: string): Promise<Results[]> {
    return this.#call({ id: 0, op: 'exec', sql }) as Promise<Results[]>;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#call({ id: 0, op: 'close' });
    } finally {
      this.#closed = true;
      await this.#worker.terminate();
    }
  }

  #call(request: WorkerRequest): Promise<unknown> {
    if (this.#exited) return Promise.reject(this.#exited);
    if (this.#closed)
      return Promise.reject(Object.assign(new Error('PGlite is closed: not queryable'), { code: 'ECONNRESET' }));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...request, id });
    });
  }
}

/** Errors cross the thread as data: give them back their class and code. */
function rebuildError(e: { message: string; name: string; code?: string }): Error {
  if (e.name === 'StoreError' && e.code) {
    const err = new StoreError(e.code as StoreErrorCode, e.message.replace(/^[A-Z_]+: /, ''));
    return err;
  }
  return Object.assign(new Error(e.message), { name: e.name, ...(e.code !== undefined ? { code: e.code } : {}) });
}

/**
 * The worker's entry: the build's JavaScript when this module is the build; from the sources
 * (tests, tsx), a small .mjs that registers tsx in the worker thread first.
 */
function workerEntry(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('./pglite-worker.mjs', import.meta.url)
    : new URL('./pglite-worker-main.js', import.meta.url);
}

/** Runs pglite-initdb in a child process (through tsx when running from the sources). */
async function initdb(dataDir: string): Promise<void> {
  const fromSources = import.meta.url.endsWith('.ts');
  const script = new URL(fromSources ? './pglite-initdb.ts' : './pglite-initdb.js', import.meta.url);
  const child = spawn(process.execPath, [...(fromSources ? ['--import', 'tsx'] : []), fileURLToPath(script), dataDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0)
    throw new StoreError(
      'TC_STORE_INIT_FAILED',
      `could not create the embedded database in ${dataDir}: ${stderr.trim() || `exit ${code}`}`,
    );
}
