/**
 * Fills the search index (`message_search`, migrations/008 and 010) after the commit, so that storing a
 * message never pays for its ~100 index entries: the write path stays as cheap as it was without
 * search, and the embedded database (one statement at a time) is never busy indexing while a
 * batch of messages waits.
 *
 * Each step takes the messages above `search_state.indexed_upto` in id order, at most `chunk` of
 * them, copies the searchable ones (not deleted, not empty) with their scope keys and what a search
 * hit shows (time, room, sender, recipient: SEARCH_COLUMNS), and moves the
 * mark, all in one transaction that holds the `search_state` row: two nodes never index the same
 * messages (the second one skips its turn), and an edit or delete, which takes that row in share
 * mode (team-features-store.ts), never races a step that copies the text it changes.
 *
 * Schedule (bounds in SEARCH_INDEXER_DEFAULTS):
 * - A step starts only when `busy()` says the writer is quiet (create-server.ts: no batch for
 *   200 ms), or when it has been busy for `maxWaitMs` (a server that is never quiet still gets
 *   searchable, one chunk at a time). A step of 200 messages takes ~10 ms on PGlite, and up to
 *   ~250 ms when it fills GIN's pending list and Postgres merges it (`npm run bench -- search`).
 * - While behind, steps follow one another at most `duty` of the time (a step of d ms is followed
 *   by a pause of d * (1 - duty) / duty ms), so indexing a backlog never takes the database away
 *   from the writer for long.
 * - Once caught up, it looks again every `pollMs` (other cluster nodes write too), and merges the
 *   GIN indexes' pending lists once (PGlite has no autovacuum to do it, and a search reads the
 *   whole list: merged lists halve search time).
 * - A single node says how many messages it has stored (`stored`): while that count stands still,
 *   a look would find nothing and is skipped, so an idle server does not run a 4-statement
 *   transaction every second (each left garbage and malloc churn in both threads: issue 10's idle
 *   RSS crept ~1 MB a minute).
 * Messages above the mark are still found: search walks them (message-search.ts).
 *
 * @example
 * const indexer = new SearchIndexer(database, { busy: () => writer.pending > 0 });
 * indexer.start();
 * await indexer.catchUp(); // tests and benchmarks: until every stored message is indexed
 * await indexer.stop();
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './database.js';

export interface SearchIndexerOptions {
  /** Whether the writer is busy: a step waits for it to be quiet (see `maxWaitMs`). */
  busy?: () => boolean;
  /** Messages read per step. */
  chunk?: number;
  /** Largest share of the time spent indexing while behind (0 < duty <= 1). */
  duty?: number;
  /** How often to look for new messages once caught up. */
  pollMs?: number;
  /** Longest wait for an idle writer before a step runs anyway. */
  maxWaitMs?: number;
  /** Progress and errors (a failing step is retried after `pollMs`). */
  log?: (line: string) => void;
  /**
   * Messages this process has stored so far (a count that only grows), when no other process
   * writes to the database: a caught-up indexer then looks again only once it has moved.
   */
  stored?: () => number;
}

export const SEARCH_INDEXER_DEFAULTS = { chunk: 200, duty: 0.25, pollMs: 1_000, maxWaitMs: 30_000 } as const;

/** How often the schedule checks whether a busy writer has become idle. */
const IDLE_CHECK_MS = 10;
/** A backlog at least this large is reported in the log when indexing starts on it, and again when it is done. */
const REPORT_BACKLOG = 100_000;

/** The scope keys of a message (migrations/007 and 008; message-search.ts asks for the same ones). */
export const SEARCH_KEYS_OF_MESSAGE = sql`CASE WHEN m.room IS NOT NULL THEN ARRAY['#' || m.room, '!' || m.sender_key, '^' || (m.id >> 16)::text]
  ELSE array_remove(ARRAY['@' || m.sender_owner, '@' || m.recipient_owner, '!' || m.sender_key, '^' || (m.id >> 16)::text], NULL) END`;

/**
 * What message_search holds of a message (migrations/010): what a search hit shows, its scope keys
 * and its text, so that a search never reads `messages` for a hit. `SEARCH_COPY` reads them from
 * `messages m`, in the order of `SEARCH_COLUMNS`.
 */
export const SEARCH_COLUMNS = sql.raw('id, created_at, room, sender, recipient, keys, text');
export const SEARCH_COPY = sql`m.id, m.created_at, m.room, m.sender, m.recipient, ${SEARCH_KEYS_OF_MESSAGE}, m.text`;

export class SearchIndexer {
  readonly #db: Kysely<any>;
  readonly #busy: () => boolean;
  readonly #chunk: number;
  readonly #duty: number;
  readonly #pollMs: number;
  readonly #maxWaitMs: number;
  readonly #log: (line: string) => void;
  readonly #stored: (() => number) | undefined;
  /** `stored()` when the index last caught up (undefined: not caught up, or no count). */
  #storedWhenCaughtUp: number | undefined;
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #stepping: Promise<unknown> = Promise.resolve();
  /** Rows indexed since the pending lists were last merged. */
  #unmerged = 0;
  /** When the current wait for an idle writer began (0: not waiting). */
  #waitingSince = 0;
  /** The first step has counted the backlog (and logged it when large). */
  #counted = false;
  /** A large backlog was logged: say when it is done. */
  #announced = false;

  constructor(database: Database, options: SearchIndexerOptions = {}) {
    this.#db = database.kysely;
    this.#busy = options.busy ?? (() => false);
    this.#chunk = options.chunk ?? SEARCH_INDEXER_DEFAULTS.chunk;
    this.#duty = options.duty ?? SEARCH_INDEXER_DEFAULTS.duty;
    this.#pollMs = options.pollMs ?? SEARCH_INDEXER_DEFAULTS.pollMs;
    this.#maxWaitMs = options.maxWaitMs ?? SEARCH_INDEXER_DEFAULTS.maxWaitMs;
    this.#log = options.log ?? (() => {});
    this.#stored = options.stored;
    if (!(this.#chunk >= 1) || !(this.#duty > 0 && this.#duty <= 1))
      throw new RangeError('SearchIndexer: chunk must be >= 1 and duty in (0, 1]');
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#later(0);
  }

  /** Stops the schedule and waits for a step in progress (call before closing the database). */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#stepping.catch(() => {});
  }

  /**
   * One step: indexes up to `chunk` messages above the mark. Resolves with how many messages it
   * read (0: caught up, or another node holds the mark right now).
   */
  step(): Promise<number> {
    const run = this.#stepping.catch(() => {}).then(() => this.#step());
    this.#stepping = run;
    return run;
  }

  /** Steps until every message stored so far is indexed, then merges the pending lists. */
  async catchUp(): Promise<void> {
    while ((await this.step()) > 0);
    await this.#merge();
  }

  /** Messages stored above the mark: the backlog search walks instead of asking the index. */
  async backlog(): Promise<number> {
    const result = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM messages WHERE id > (SELECT indexed_upto FROM search_state)`.execute(this.#db);
    return Number(result.rows[0]?.n ?? 0);
  }

  #later(ms: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => void this.#tick(), ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    this.#timer = null;
    if (!this.#running) return;
    const now = Date.now();
    if (this.#busy()) {
      if (this.#waitingSince === 0) this.#waitingSince = now;
      if (now - this.#waitingSince < this.#maxWaitMs) return this.#later(IDLE_CHECK_MS);
    }
    this.#waitingSince = 0;
    const started = performance.now();
    // Read before the step: whatever was stored by then is visible to it.
    const stored = this.#stored?.();
    let read = 0;
    try {
      const nothingNew = stored !== undefined && stored === this.#storedWhenCaughtUp;
      if (!nothingNew) read = await this.step();
      if (read === 0 && this.#unmerged > 0 && !this.#busy()) await this.#merge();
    } catch (err) {
      this.#log(`warn: search indexer: ${(err as Error).message} (retrying in ${this.#pollMs} ms)`);
      return this.#later(this.#pollMs);
    }
    if (read < this.#chunk) {
      this.#storedWhenCaughtUp = stored;
      if (this.#announced) this.#log('search indexer: caught up, search reaches all history');
      this.#announced = false;
      return this.#later(this.#pollMs);
    }
    const took = performance.now() - started;
    this.#later(Math.ceil((took * (1 - this.#duty)) / this.#duty));
  }

  async #step(): Promise<number> {
    return this.#db.transaction().execute(async (trx) => {
      // Another node indexing right now holds the row: skip this turn rather than wait.
      const mark = await sql<{
        upto: string;
      }>`SELECT indexed_upto AS upto FROM search_state FOR UPDATE SKIP LOCKED`.execute(trx);
      if (mark.rows.length === 0) return 0;
      const upto = Number(mark.rows[0].upto);
      // Read after the lock, in a new snapshot: every commit below the mark is visible.
      const result = await sql<{ read: number; last: string | null; backlog: number | null }>`
        WITH batch AS (
          SELECT m.id, m.created_at, m.room, m.sender, m.recipient, m.sender_key, m.sender_owner, m.recipient_owner,
            m.text, m.deleted_at
          FROM messages m WHERE m.id > ${upto} ORDER BY m.id LIMIT ${this.#chunk}
        ), copied AS (
          INSERT INTO message_search (${SEARCH_COLUMNS})
          SELECT ${SEARCH_COPY} FROM batch m WHERE m.deleted_at IS NULL AND m.text <> ''
          ON CONFLICT (id) DO NOTHING
        )
        SELECT count(*)::int AS read, max(id)::text AS last,
          CASE WHEN ${this.#counted} THEN NULL ELSE (SELECT count(*)::int FROM messages WHERE id > ${upto}) END AS backlog
        FROM batch`.execute(trx);
      const row = result.rows[0];
      const read = Number(row?.read ?? 0);
      if (read === 0 || row?.last == null) return 0;
      await sql`UPDATE search_state SET indexed_upto = ${row.last}`.execute(trx);
      this.#unmerged += read;
      if (!this.#counted) {
        this.#counted = true;
        const backlog = Number(row.backlog ?? 0);
        if (backlog >= REPORT_BACKLOG) {
          this.#announced = true;
          this.#log(`search indexer: ${backlog} messages to index; until then search finds the newest and the indexed`);
        }
      }
      return read;
    });
  }

  /** Merges the GIN pending lists (what inserts set aside) into the indexes proper. */
  async #merge(): Promise<void> {
    for (const index of ['message_search_words', 'message_search_parts']) {
      await sql`SELECT gin_clean_pending_list(${index}::regclass)`.execute(this.#db);
    }
    this.#unmerged = 0;
  }
}
