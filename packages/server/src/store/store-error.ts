/**
 * Errors the store raises itself (as opposed to errors of the database, which pass through).
 * `code` is stable: callers branch on it, logs print it.
 *
 * @example
 * try { await store.writeBatch(batch); }
 * catch (err) { if (err instanceof StoreError && err.code === 'TC_STORE_BAD_INPUT') dropTheBadMessage(); }
 */
export type StoreErrorCode =
  /** A value the database cannot store (e.g. a NUL character in text), or a malformed write. */
  | 'TC_STORE_BAD_INPUT'
  /** The PGlite data folder is already open in another live process. */
  | 'TC_STORE_LOCKED'
  /** The store configuration is unusable (e.g. an unparsable Postgres URL). */
  | 'TC_STORE_BAD_CONFIG'
  /** A migration file is malformed or failed to apply. */
  | 'TC_STORE_MIGRATION_FAILED'
  /** A new embedded (PGlite) data folder could not be created. */
  | 'TC_STORE_INIT_FAILED';

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
