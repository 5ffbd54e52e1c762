/**
 * Starts `teamchat serve` as a real child process on free ports: the one server spawner of the
 * end-to-end tests and the benchmarks (bench/ imports it). It resolves when the server prints its
 * machine-readable ready line, `teamchat: ready tcp=HOST:PORT http=HOST:PORT [irc=HOST:PORT]`,
 * read from the server's output as it comes (no polling).
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
import { Backoff } from '@teamchat/client-core';

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
  /** Flags for node itself, before bin/teamchat (a benchmark's `--cpu-prof`). */
  nodeFlags?: string[];
  /**
   * Keep only the last this many characters of each of stdout and stderr (a long benchmark's log
   * would otherwise grow without bound). Default: everything, as tests read the whole log.
   */
  maxOutputChars?: number;
  /** After `stop()`'s signal, SIGKILL a server still running this much later. Default 30 s. */
  stopTimeoutMs?: number;
}

/** The ports of a server's ready line. */
export interface ReadyPorts {
  tcpPort: number;
  httpPort: number;
  /** Only when the IRC gateway listens. */
  ircPort?: number;
}

const READY_LINE = /\bready tcp=[^\s"]+:(\d+) http=[^\s"]+:(\d+)(?: irc=[^\s"]+:(\d+))?/;

/** The ports announced by the ready line among these complete lines of output, or null before it. */
export function parseReadyLine(output: string): ReadyPorts | null {
  const m = READY_LINE.exec(output);
  if (!m) return null;
  return { tcpPort: Number(m[1]), httpPort: Number(m[2]), ...(m[3] !== undefined ? { ircPort: Number(m[3]) } : {}) };
}

export interface SpawnedServer {
  tcpPort: number;
  httpPort: number;
  /** The IRC gateway's port, when it listens (`args: ['--irc-port', '0']`). */
  ircPort: number | undefined;
  dataDir: string;
  /** http://127.0.0.1:<httpPort> */
  url: string;
  /** Everything the current process printed so far (its tail, with `maxOutputChars`). */
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

/** Starts `node [nodeFlags] bin/teamchat <args>`. */
export function spawnTeamchat(args: string[], env?: NodeJS.ProcessEnv, nodeFlags: string[] = []): ChildProcess {
  testHome ??= mkdtempSync(path.join(tmpdir(), 'teamchat-home-'));
  return spawn(process.execPath, [...nodeFlags, TEAMCHAT_BIN, ...args], {
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

/** Resolves with the ports of the child's ready line, read from its stdout as it arrives; rejects when it exits or times out first. */
function readyPorts(child: ChildProcess, timeoutMs: number): Promise<ReadyPorts> {
  return new Promise((resolve, reject) => {
    let head = '';
    const done = (settle: () => void) => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      settle();
    };
    const onData = (d: string) => {
      head += d;
      // Complete lines only: a port cut in two by a chunk boundary must not be read as a shorter one.
      const ports = parseReadyLine(head.slice(0, head.lastIndexOf('\n') + 1));
      if (ports) return done(() => resolve(ports));
      // The ready line comes within a few lines of the start; keep the search bounded all the same.
      if (head.length > 1_000_000) head = head.slice(head.lastIndexOf('\n') + 1);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      done(() => reject(new Error(`exited (${signal ?? `code ${code}`}) before its ready line`)));
    const timer = setTimeout(() => done(() => reject(new Error(`no ready line within ${timeoutMs} ms`))), timeoutMs);
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

export async function spawnServer(options: SpawnServerOptions = {}): Promise<SpawnedServer> {
  const ownDir = options.dataDir === undefined && options.databaseUrl === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'teamchat-e2e-'));
  const keep = options.maxOutputChars ?? Infinity;
  const append = (text: string, d: string) => (text.length + d.length > keep ? (text + d).slice(-keep) : text + d);
  let tcpPort = 0;
  let httpPort = 0;
  let ircPort: number | undefined;
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
      : [
          '--no-flood-control',
          '--max-connections-per-ip',
          '0',
          '--new-rooms-per-minute',
          '0',
          '--new-rooms-per-minute-per-ip',
          '0',
        ];
    // The IRC port (6667 by default) only for the tests that ask for it: parallel servers would collide.
    const irc = options.args?.includes('--irc-port') ? [] : ['--no-irc'];
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
        ...irc,
        ...(options.args ?? []),
      ],
      options.env,
      options.nodeFlags,
    );
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out = append(out, d)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = append(err, d)));
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const ports = await readyPorts(child, options.startTimeoutMs ?? 120_000);
      tcpPort = ports.tcpPort;
      httpPort = ports.httpPort;
      ircPort = ports.ircPort;
    } catch (e) {
      child.kill('SIGKILL');
      throw new Error(`teamchat serve did not start: ${(e as Error).message}:\n${out}\n${err}`);
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
    get ircPort() {
      return ircPort;
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
      const hung = setTimeout(() => child.kill('SIGKILL'), options.stopTimeoutMs ?? 30_000);
      try {
        return await exited;
      } finally {
        clearTimeout(hung);
      }
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await server.stop();
      // The same ports: clients reconnect to where the server was. The old process's ports may
      // take a moment to be free again: retry with the clients' backoff.
      const backoff = new Backoff({ initialMs: 200, maxMs: 2_000 });
      for (;;) {
        try {
          await start();
          return;
        } catch (e) {
          if (backoff.attempt >= 5) throw e;
          await new Promise((r) => setTimeout(r, backoff.next()));
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
