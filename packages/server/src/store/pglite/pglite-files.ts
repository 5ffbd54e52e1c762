/** Names inside a PGlite data folder that teamchat adds, shared by the modules that need them without loading PGlite. */

/** The lock file, inside the data folder (Postgres ignores unknown files in its data folder). */
export const PGLITE_LOCK_FILE = 'teamchat.lock';
