/**
 * A real Postgres server for tests.
 *
 * - With TEAMCHAT_TEST_DATABASE_URL set: creates a uniquely named throwaway database on that
 *   server (dropped by `stop`). The server itself is not ours: stopServer/startServer reject.
 * - Otherwise: finds initdb/pg_ctl (PATH, then /usr/lib/postgresql/<newest>/bin) and starts a
 *   throwaway cluster in a temp folder on a free port (trust auth, fsync off, socket in the
 *   folder). As root, the folder is handed to the `postgres` system user and the binaries run
 *   through `runuser -u postgres --`, because initdb refuses to run as root.
 * - With neither: `{ skip: 'why' }`, for `describe.skipIf`.
 *
 * @example
 * const pg = await startPostgres();
 * describe.skipIf('skip' in pg)('on Postgres', () => { ... });
 * afterAll(() => ('stop' in pg ? pg.stop() : undefined));
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, isExecutable } from './local-tools.js';
import { until } from './waits.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface PostgresHandle {
  /** Connection URL of the throwaway database. */
  url: string;
  /** Stops the server (if ours) and removes everything it created. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops the server, keeping its data (simulates a database outage). */
  stopServer(): Promise<void>;
  /** Starts the same server again, on the same port, and waits until it accepts connections. */
  startServer(): Promise<void>;
}

export type PostgresStart = PostgresHandle | { skip: string };

export async function startPostgres(): Promise<PostgresStart> {
  const external = process.env.TEAMCHAT_TEST_DATABASE_URL;
  if (external) return useExternalServer(external);
  const bin = findBinDir();
  if (!bin) {
    return { skip: 'no Postgres: set TEAMCHAT_TEST_DATABASE_URL or install initdb/pg_ctl (apt install postgresql)' };
  }
  const asRoot = process.getuid?.() === 0;
  let postgresUser: { uid: number; gid: number } | undefined;
  if (asRoot) {
    postgresUser = systemUser('postgres');
    if (!postgresUser) return { skip: 'running as root and there is no `postgres` system user to run initdb as' };
    if (!commandExists('runuser')) return { skip: 'running as root and `runuser` is missing' };
  }
  return startCluster(bin, postgresUser);
}

// ---------- a throwaway cluster ----------

async function startCluster(bin: string, owner: { uid: number; gid: number } | undefined): Promise<PostgresStart> {
  const root = mkdtempSync(join(tmpdir(), 'teamchat-pg-'));
  if (owner) chownSync(root, owner.uid, owner.gid);
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  const run = (tool: string, args: string[]) =>
    runTool(owner ? 'runuser' : join(bin, tool), owner ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args);

  let port = 0;
  const pgCtl = (action: 'start' | 'stop', extra: string[] = []) =>
    run('pg_ctl', [action, '-D', dataDir, '-w', '-t', '60', ...extra]);
  const start = async () => {
    await pgCtl('start', [
      '-l',
      logFile,
      '-o',
      `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50`,
    ]);
    await waitForConnections(adminUrl('postgres'));
  };
  const adminUrl = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;

  let running = false;
  const killNow = () => {
    // Last resort on process exit: synchronous, immediate shutdown.
    if (!running) return;
    const args = ['stop', '-D', dataDir, '-m', 'immediate', '-w'];
    if (owner) spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args], { stdio: 'ignore' });
    else spawnSync(join(bin, 'pg_ctl'), args, { stdio: 'ignore' });
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', killNow);

  try {
    await run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    // A free port can be taken between probing and binding: retry a few times.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await start();
        break;
      } catch (err) {
        await pgCtl('stop', ['-m', 'immediate']).catch(() => {});
        if (attempt >= 3) throw err;
      }
    }
    running = true;
  } catch (err) {
    process.removeListener('exit', killNow);
    await pgCtl('stop', ['-m', 'immediate']).catch(() => {});
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    rmSync(root, { recursive: true, force: true });
    throw new Error(`could not start a throwaway Postgres cluster: ${(err as Error).message}\n${log}`);
  }

  let stopped = false;
  return {
    url: adminUrl('postgres'),
    async stopServer() {
      if (!running) return;
      await pgCtl('stop', ['-m', 'fast']);
      running = false;
    },
    async startServer() {
      if (stopped) throw new Error('this Postgres cluster was removed by stop()');
      if (running) return;
      await start();
      running = true;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', killNow);
      if (running) await pgCtl('stop', ['-m', 'immediate']).catch(() => {});
      running = false;
      rmSync(root, { recursive: true, force: true });
    },
  };
}

// ---------- a database on someone else's server ----------

async function useExternalServer(url: string): Promise<PostgresStart> {
  const name = `teamchat_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  const notOurs = async () => {
    throw new Error('stopServer/startServer need a throwaway cluster; unset TEAMCHAT_TEST_DATABASE_URL to get one');
  };
  let stopped = false;
  return {
    url: dbUrl.toString(),
    stopServer: notOurs,
    startServer: notOurs,
    async stop() {
      if (stopped) return;
      stopped = true;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

// ---------- helpers ----------

function findBinDir(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'pg_ctl'))) return dir;
  }
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = join(base, v, 'bin');
    if (isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'pg_ctl'))) return dir;
  }
  return undefined;
}

function commandExists(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && isExecutable(join(dir, name)));
}

function systemUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

function runTool(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    // cwd: a folder the postgres user may enter (the test's cwd may be private to root).
    execFile(file, args, { cwd: tmpdir(), timeout: 120_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function waitForConnections(url: string): Promise<void> {
  let lastError = '';
  await until(
    async () => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return true;
      } catch (err) {
        await client.end().catch(() => {});
        lastError = (err as Error).message;
        return false;
      }
    },
    'Postgres to accept connections',
    { timeoutMs: 30_000, everyMs: 100, describe: () => lastError },
  );
}
