/**
 * Starts `teamchat serve` as a real child process on free ports, for end-to-end tests.
 *
 * @example
 * const server = await spawnServer();
 * const client = await JsonClient.connect(server.tcpPort);
 * await server.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TEAMCHAT_BIN = path.join(REPO_ROOT, 'bin/teamchat');

export interface SpawnServerOptions {
  /** PGlite folder; a fresh temp folder by default (removed by `cleanup`). */
  dataDir?: string;
  /** Use this Postgres server instead of PGlite. */
  databaseUrl?: string;
  /** Extra flags for `teamchat serve`. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /**
   * Keep the production defaults of flood control (burst 5, 2 msg/s), the per-IP connection
   * limit (16; loopback, where tests connect from, is exempt unless `--no-exempt-loopback`) and the
   * room-creation limits (10 a minute per connection, 30 per address). By default tests lift them,
   * as benchmarks do, because they send bursts from one address; the tests of those limits set this.
   */
  productionLimits?: boolean;
  /** How long to wait for the server to listen. */
  startTimeoutMs?: number;
}

export interface SpawnedServer {
  tcpPort: number;
  httpPort: number;
  dataDir: string;
  /** http://127.0.0.1:<httpPort> */
  url: string;
  /** Everything the current process printed so far. */
  stdout(): string;
  stderr(): string;
  readonly process: ChildProcess;
  /** Sends a signal (SIGTERM by default) and waits for exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** kill -9, waits for exit. */
  kill(): Promise<void>;
  /** Starts the server again on the same ports and data (after stop or kill). */
  restart(): Promise<void>;
  /** Stops (if running) and removes the temp data folder it created. */
  cleanup(): Promise<void>;
}

/** One throwaway TEAMCHAT_HOME for every process the tests start: resume tokens never reach the real home. */
let testHome: string | undefined;

/** Starts `node bin/teamchat <args>` with the repo's tsx loader. */
export function spawnTeamchat(args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  testHome ??= mkdtempSync(path.join(tmpdir(), 'teamchat-home-'));
  return spawn(process.execPath, [TEAMCHAT_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', TEAMCHAT_HOME: testHome, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** What a finished `teamchat` command printed, and its exit code. */
export interface CommandRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `teamchat <args>` with nothing on stdin, to its end; `onStdout` sees the output so far as
 * it comes.
 */
export function runTeamchat(args: string[], onStdout: (stdout: string) => void = () => {}): Promise<CommandRun> {
  const child = spawnTeamchat(args);
  child.stdin!.end();
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    onStdout(stdout);
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

export async function spawnServer(options: SpawnServerOptions = {}): Promise<SpawnedServer> {
  const ownDir = options.dataDir === undefined && options.databaseUrl === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'teamchat-e2e-'));
  let tcpPort = 0;
  let httpPort = 0;
  let child!: ChildProcess;
  let out = '';
  let err = '';
  let exited: Promise<number | null>;

  const start = async () => {
    out = '';
    err = '';
    const db = options.databaseUrl ? ['--database-url', options.databaseUrl] : ['--data-dir', dataDir];
    const limits = options.productionLimits
      ? []
      : ['--no-flood-control', '--max-connections-per-ip', '0', '--new-rooms-per-minute', '0', '--new-rooms-per-minute-per-ip', '0'];
    child = spawnTeamchat(
      [
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(tcpPort),
        '--http-port',
        String(httpPort),
        ...db,
        ...limits,
        // The IRC port (6667 by default) only for the tests that ask for it: parallel servers would collide.
        ...(options.args?.includes('--irc-port') ? [] : ['--no-irc']),
        ...(options.args ?? []),
      ],
      options.env,
    );
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
    for (;;) {
      // The ready line: `teamchat: ready tcp=HOST:PORT http=HOST:PORT`.
      const ready = /ready tcp=\S+:(\d+) http=\S+:(\d+)/.exec(out);
      if (ready) {
        tcpPort = Number(ready[1]);
        httpPort = Number(ready[2]);
        return;
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`teamchat serve did not start (exit ${child.exitCode}):\n${out}\n${err}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await start();

  const server: SpawnedServer = {
    get tcpPort() {
      return tcpPort;
    },
    get httpPort() {
      return httpPort;
    },
    dataDir,
    get url() {
      return `http://127.0.0.1:${httpPort}`;
    },
    stdout: () => out,
    stderr: () => err,
    get process() {
      return child;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await server.stop();
      // The same ports: clients reconnect to where the server was.
      for (let attempt = 0; ; attempt++) {
        try {
          await start();
          return;
        } catch (e) {
          if (attempt >= 5) throw e;
          await new Promise((r) => setTimeout(r, 300));
        }
      }
    },
    async cleanup() {
      await server.kill();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}
