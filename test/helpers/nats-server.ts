/**
 * A real NATS server (core only, no JetStream) for tests: the message bus of cluster mode.
 *
 * - Finds `nats-server` (PATH, then /usr/sbin, /usr/bin, /usr/local/bin; Debian's package puts it
 *   in /usr/sbin) and starts it on a free 127.0.0.1 port with its pid file and log in a temp
 *   folder. Ready means a TCP client has read the server's `INFO {...}` line.
 * - `stop()` kills it by PID and waits for it to exit (a bus outage); `start()` brings it back on
 *   the same port. `cleanup()` stops it and removes the folder; the process is also killed if the
 *   test process exits first.
 * - Without the binary: `{ skip: 'why' }`, for `describe.skipIf`.
 *
 * @example
 * const nats = await startNatsServer();
 * describe.skipIf('skip' in nats)('over NATS', () => { ... });
 * afterAll(() => ('cleanup' in nats ? nats.cleanup() : undefined));
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, isExecutable } from './local-tools.js';

export interface NatsServerHandle {
  /** nats://127.0.0.1:<port>, for `--nats`. */
  readonly url: string;
  readonly port: number;
  /** PID of the running server; undefined while stopped. */
  readonly pid: number | undefined;
  /** Kills the server by PID (SIGTERM by default; SIGKILL if it lingers 5 s) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and waits until it sends INFO. No-op when running. */
  start(): Promise<void>;
  /** Stops the server (if running) and removes its temp folder. Safe to call twice. */
  cleanup(): Promise<void>;
  /** The server's log so far (last 4,000 characters), for failure messages. */
  log(): string;
}

export type NatsServerStart = NatsServerHandle | { skip: string };

/** What a NATS server says first to every client (the fields tests use). */
export interface NatsInfo {
  server_id: string;
  version: string;
  port: number;
  [key: string]: unknown;
}

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

export async function startNatsServer(): Promise<NatsServerStart> {
  const bin = findNatsServer();
  if (!bin) return { skip: 'no nats-server: install it (apt install nats-server) or put it on PATH' };

  const root = mkdtempSync(join(tmpdir(), 'teamchat-nats-'));
  const logFile = join(root, 'nats-server.log');
  const pidFile = join(root, 'nats-server.pid');
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-4000) : '');

  let port = 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let removed = false;

  const killNow = () => {
    // Last resort on process exit: synchronous.
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', killNow);

  const isRunning = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!child || !isRunning()) return;
    const pid = child.pid!;
    try {
      process.kill(pid, signal);
    } catch {
      // exited between the check and the kill
    }
    const lingering = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, STOP_GRACE_MS);
    await exited;
    clearTimeout(lingering);
  };

  const launch = async () => {
    const proc = spawn(
      bin,
      [
        '--addr',
        '127.0.0.1',
        '--port',
        String(port),
        '--name',
        `teamchat-test-${port}`,
        '--pid',
        pidFile,
        '--log',
        logFile,
      ],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    let early = '';
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (early = (early + d).slice(-4000)));
    exited = new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else {
        proc.once('exit', () => resolve());
        proc.once('error', () => resolve()); // could not spawn: there is nothing to wait for
      }
    });
    const spawnError = new Promise<never>((_, reject) => proc.once('error', reject));
    spawnError.catch(() => {});
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const info = await Promise.race([readInfo(port, 1_000).catch(() => undefined), spawnError]);
      if (info && info.port === port) return;
      if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > deadline) {
        if (isRunning()) await stop('SIGKILL');
        throw new Error(
          `nats-server did not start on 127.0.0.1:${port} (exit ${proc.exitCode ?? proc.signalCode}):\n${readLog()}${early}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  try {
    // A free port can be taken between probing and binding: retry a few times.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await launch();
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  } catch (err) {
    process.removeListener('exit', killNow);
    await stop('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    throw err;
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return isRunning() ? child!.pid : undefined;
    },
    stop,
    async start() {
      if (removed) throw new Error('this nats-server was removed by cleanup()');
      if (isRunning()) return;
      // The same port: clients reconnect to where the server was. Retry briefly in case the
      // old socket is not released yet.
      for (let attempt = 1; ; attempt++) {
        try {
          await launch();
          return;
        } catch (err) {
          if (attempt >= 5) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
    async cleanup() {
      if (removed) return;
      removed = true;
      process.removeListener('exit', killNow);
      await stop('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    },
    log: readLog,
  };
}

/**
 * Connects to a NATS server over plain TCP and resolves with its `INFO {...}` line, parsed.
 * Rejects when the connection fails, closes first, or nothing comes within `timeoutMs`.
 *
 * @example
 * const info = await readInfo(nats.port); // { server_id: 'N...', version: '2.9.10', port: 4222, ... }
 */
export function readInfo(port: number, timeoutMs = 2_000, host = '127.0.0.1'): Promise<NatsInfo> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffered = '';
    const done = (err: Error | undefined, info?: NatsInfo) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(info!);
    };
    const timer = setTimeout(() => done(new Error(`no INFO from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\r\n');
      if (end === -1) {
        if (buffered.length > 64 * 1024) done(new Error('INFO line too long'));
        return;
      }
      const line = buffered.slice(0, end).trim(); // NATS ends it with ' \r\n'
      const match = /^INFO\s+(\{.*\})$/.exec(line);
      if (!match)
        return done(new Error(`expected INFO from ${host}:${port}, got ${JSON.stringify(line.slice(0, 200))}`));
      try {
        done(undefined, JSON.parse(match[1]) as NatsInfo);
      } catch (err) {
        done(err as Error);
      }
    });
    socket.once('error', (err) => done(err));
    socket.once('close', () => done(new Error(`${host}:${port} closed the connection before INFO`)));
  });
}

// ---------- helpers ----------

function findNatsServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (dir && isExecutable(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  }
  return undefined;
}
