/**
 * Applies the SQL migrations (`NNN_name.sql` in the repo's migrations/ folder) in order, each once,
 * each in its own transaction together with its row in `teamchat_migrations`.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Database } from './database.js';
import { StoreError } from './store-error.js';

/** The repo's migrations/ folder (from this file, not from the current directory). */
/**
 * The repo's migrations/ folder: four levels up from src/store/ or dist/store/ in a checkout, five
 * in an installed package (where this package sits in node_modules/@teamchat/server).
 */
export const MIGRATIONS_DIR = findMigrations();

function findMigrations(): string {
  const candidates = ['../../../../migrations/', '../../../../../migrations/'].map((up) =>
    fileURLToPath(new URL(up, import.meta.url)),
  );
  return candidates.find((dir) => existsSync(join(dir, '001_chat.sql'))) ?? candidates[0];
}

const MIGRATION_FILE = /^(\d{3})_[a-z0-9_-]+\.sql$/i;

/** Session-level lock key, so two servers starting on one Postgres do not migrate at once. */
const ADVISORY_LOCK_KEY = 7_355_608_001;

export interface MigrationResult {
  /** Names (file names without .sql) applied by this call, in order. */
  applied: string[];
}

/**
 * @example
 * const { applied } = await migrate(database); // ['001_chat', '002_metric_snapshots'] the first time, [] after
 */
export async function migrate(database: Database, dir: string = MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = await listMigrations(dir);
  const db = database.kysely;
  await db.transaction().execute(async (trx) => {
    // Serializes concurrent migrators on one Postgres server (released at commit/rollback).
    await sql`SELECT pg_advisory_xact_lock(${sql.lit(ADVISORY_LOCK_KEY)})`.execute(trx);
    await sql`
      CREATE TABLE IF NOT EXISTS teamchat_migrations (
        name       text PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`.execute(trx);
  });

  const applied: string[] = [];
  for (const file of files) {
    const name = file.slice(0, -'.sql'.length);
    const text = await readFile(join(dir, file), 'utf8');
    const did = await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${sql.lit(ADVISORY_LOCK_KEY)})`.execute(trx);
      const done = await sql<{ name: string }>`SELECT name FROM teamchat_migrations WHERE name = ${name}`.execute(trx);
      if (done.rows.length > 0) return false;
      try {
        // No parameters: runs on the simple query protocol, which accepts many statements.
        await sql.raw(text).execute(trx);
      } catch (err) {
        throw new StoreError('TC_STORE_MIGRATION_FAILED', `migration ${file} failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      await sql`INSERT INTO teamchat_migrations (name) VALUES (${name})`.execute(trx);
      return true;
    });
    if (did) applied.push(name);
  }
  return { applied };
}

async function listMigrations(dir: string): Promise<string[]> {
  const entries = await readdir(dir);
  const files = entries.filter((f) => f.endsWith('.sql')).sort();
  const seen = new Map<string, string>();
  for (const file of files) {
    const match = MIGRATION_FILE.exec(file);
    if (!match) {
      throw new StoreError('TC_STORE_MIGRATION_FAILED', `migration file name ${file} does not match NNN_name.sql`);
    }
    const number = match[1];
    const other = seen.get(number);
    if (other)
      throw new StoreError('TC_STORE_MIGRATION_FAILED', `migrations ${other} and ${file} share the number ${number}`);
    seen.set(number, file);
  }
  return files;
}
