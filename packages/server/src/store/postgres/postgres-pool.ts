/**
 * A `pg` Pool for the store: int8 parsed as numbers (message ids), timestamps as Dates, and a
 * description of the server for logs that never includes the password.
 */
import pg from 'pg';
import { StoreError } from '../store-error.js';

const INT8_OID = 20;

/** Type parsers for this pool only (the global `pg.types` stays untouched). */
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return (pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (value: string) => unknown)(
      oid,
      format,
    );
  },
};

export interface PostgresPoolOptions {
  /** Connections in the pool (default 5). */
  max?: number;
}

/**
 * @example
 * const pool = createPostgresPool('postgres://teamchat:secret@db:5432/teamchat');
 */
export function createPostgresPool(url: string, options: PostgresPoolOptions = {}): pg.Pool {
  describePostgresUrl(url); // validates
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 5,
    types: typeParsers,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (server restart) must not crash the process;
  // the next query gets a fresh connection or a clear error.
  pool.on('error', () => {});
  return pool;
}

/**
 * `postgres://user@host:port/db` for logs: the password (and query options) left out.
 *
 * @example
 * describePostgresUrl('postgres://u:secret@h:5432/d') // 'postgres://u@h:5432/d'
 */
export function describePostgresUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreError(
      'TC_STORE_BAD_CONFIG',
      'the Postgres URL is not a valid URL (expected postgres://user:password@host:port/database)',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new StoreError(
      'TC_STORE_BAD_CONFIG',
      `the Postgres URL must start with postgres:// (got ${parsed.protocol}//)`,
    );
  }
  const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : '';
  const host = parsed.host || parsed.searchParams.get('host') || 'localhost';
  return `postgres://${user}${host}${parsed.pathname}`;
}
