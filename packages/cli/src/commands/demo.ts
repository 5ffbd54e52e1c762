/**
 * `teamchat demo`: the original design's demo launcher. Starts a server in this process (so it
 * can pass the demo's end time to the dashboard and shut it down cleanly without managing a child
 * process), plays the scripted Alice/Bob/Charlie conversation, starts the stress clients, shows the
 * dashboard URL and the command to join in, and at the end writes the metrics CSV (long layout, as
 * `teamchat export-metrics` writes by default) and stops everything.
 *
 * Where things go: with `--data-dir DIR` the database stays in DIR and the CSV goes in it too, as
 * DIR/metrics-<time>.csv (Postgres ignores files it does not know there); without, the run gets a
 * folder <temp>/teamchat-demo-<time>/ whose database is removed at the end and whose metrics.csv stays. `--csv FILE` puts the CSV elsewhere. The full
 * path is printed at the start and at the end.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import chalk from 'chalk';
import { Command, InvalidArgumentError, Option } from 'commander';
import { isValidNick } from '@teamchat/protocol';
import type { TeamchatServer } from '@teamchat/server';
import {
  CSV_HEADER,
  formatCsvRow,
  formatSummary,
  formatTick,
  playScript,
  runStress,
  type ScriptLine,
  type StressTick,
} from '@teamchat/stress';
import { parseCount, parseDurationMs } from './stress.js';

interface DemoFlags {
  minutes: number;
  seconds?: number;
  clients: number;
  csv?: string;
  open?: boolean;
  dataDir?: string;
  port: number;
  httpPort: number;
  host: string;
  stepDelay: number;
}

/** Least time the stress clients run, even when the demo time is already up. */
const MIN_STRESS_MS = 5_000;

const USER_COLOURS: Record<string, (s: string) => string> = {
  Alice: chalk.cyan,
  Bob: chalk.green,
  Charlie: chalk.magenta,
};

function parseMinutes(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0) || n > 24 * 60)
    throw new InvalidArgumentError('must be a number of minutes above 0 (at most 1440)');
  return n;
}

function parsePortOrZero(value: string): number {
  const n = parseCount(value, 0);
  if (n > 65535) throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
}

/** The command that opens a URL in the default browser here, or null when there is none. */
export function browserOpener(platform = process.platform): { command: string; args: string[] } | null {
  if (platform === 'darwin') return { command: 'open', args: [] };
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""'] };
  const found = spawnSync('sh', ['-c', 'command -v xdg-open'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() ? { command: found.stdout.trim(), args: [] } : null;
}

/** The room the scripted conversation happens in: where a person joining in lands. */
const DEMO_ROOM = 'room1';

/** Local time as `20261124-093000`, for file and folder names. */
function stamp(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${two(date.getMonth() + 1)}${two(date.getDate())}-${two(date.getHours())}${two(date.getMinutes())}${two(date.getSeconds())}`;
}

/** `<temp>/teamchat-demo-<time>`, or with a random suffix when a demo of the same second has it. */
function makeRunDir(time: string): string {
  const dir = path.join(tmpdir(), `teamchat-demo-${time}`);
  try {
    mkdirSync(dir);
    return dir;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return mkdtempSync(`${dir}-`);
  }
}

/** Why `file` cannot be written (its folder missing or read-only, or it is a folder), or null. */
function unwritable(file: string): string | null {
  const dir = path.dirname(file);
  if (existsSync(file) && statSync(file).isDirectory()) return `${file} is a folder`;
  if (!existsSync(dir)) return `the folder ${dir} does not exist`;
  try {
    accessSync(existsSync(file) ? file : dir, constants.W_OK);
    return null;
  } catch {
    return `permission denied in ${dir}`;
  }
}

/** An address a client on this machine can reach a server listening on `host` at. */
function reachable(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

/** `host:port`, with an IPv6 address in brackets (as `teamchat connect` and URLs take it). */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The nick the join command suggests: the login name when it is a valid nick, else `you`. */
function suggestedNick(): string {
  let name = '';
  try {
    name = userInfo()
      .username.replace(/[^A-Za-z0-9_-]/g, '')
      .slice(0, 24);
  } catch {
    // no user name (some containers)
  }
  return isValidNick(name) && !['alice', 'bob', 'charlie'].includes(name.toLowerCase()) ? name : 'you';
}

/**
 * The command that joins the demo's chat, as the user can paste it: `npx teamchat` when the demo
 * was started through npm (npx, npm run), `teamchat` otherwise.
 *
 * @example
 * joinCommand('127.0.0.1', 5555) // 'teamchat connect 127.0.0.1:5555 --nick you --room room1'
 */
export function joinCommand(
  host: string,
  port: number,
  nick = suggestedNick(),
  env: NodeJS.ProcessEnv = process.env,
): string {
  const teamchat = env.npm_command ? 'npx teamchat' : 'teamchat';
  return `${teamchat} connect ${hostPort(reachable(host), port)} --nick ${nick} --room ${DEMO_ROOM}`;
}

function printScriptLine(line: ScriptLine): void {
  const colour = USER_COLOURS[line.user] ?? chalk.white;
  if (line.kind === 'typed') process.stdout.write(colour(chalk.bold(`${line.user}> ${line.text}`)) + '\n');
  else process.stdout.write(colour(`  [${line.user}] ${line.text}`) + '\n');
}

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'run the full demo: a server, a scripted conversation, stress clients and the live dashboard, then a metrics CSV',
    )
    .option('--minutes <n>', 'how long the demo runs', parseMinutes, 10)
    .addOption(
      new Option('--seconds <n>', 'demo length in seconds (overrides --minutes; for tests)')
        .argParser((v) => parseCount(v))
        .hideHelp(),
    )
    .option('--clients <n>', 'stress clients', (v) => parseCount(v), 30)
    .option(
      '--csv <file>',
      'where to write the metrics CSV at the end (default: metrics-<time>.csv in --data-dir, else metrics.csv in a teamchat-demo-<time> folder in the temp folder; the path is printed)',
    )
    .option('--open', 'open the dashboard in the default browser')
    .option(
      '--data-dir <dir>',
      'keep the embedded database in this folder (default: a temporary folder, removed at the end)',
    )
    .option('--host <address>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'TCP port (0: any free port)', parsePortOrZero, 0)
    .option('--http-port <port>', 'HTTP port for the dashboard (0: any free port)', parsePortOrZero, 0)
    .addOption(
      new Option('--step-delay <duration>', 'pause between scripted lines')
        .default(600, '600ms')
        .argParser((v) => parseDurationMs(v, true))
        .hideHelp(),
    )
    .showHelpAfterError()
    .exitOverride()
    .action(async (flags: DemoFlags) => {
      const totalMs = flags.seconds !== undefined ? flags.seconds * 1000 : Math.round(flags.minutes * 60_000);
      const time = stamp(new Date());
      if (flags.csv !== undefined) {
        const why = unwritable(path.resolve(flags.csv));
        if (why) {
          process.stderr.write(`teamchat demo: cannot write --csv ${path.resolve(flags.csv)}: ${why}\n`);
          process.exit(2);
        }
      }
      // Without --data-dir the run has its own folder: the database (removed at the end) and the CSV.
      const runDir = flags.dataDir ? null : makeRunDir(time);
      const dataDir = flags.dataDir ? path.resolve(flags.dataDir) : path.join(runDir!, 'data');
      const csvPath =
        flags.csv !== undefined
          ? path.resolve(flags.csv)
          : flags.dataDir
            ? path.join(dataDir, `metrics-${time}.csv`)
            : path.join(runDir!, 'metrics.csv');
      let csvWritten = false;
      const startedAt = Date.now();
      const demoEndsAt = startedAt + totalMs;

      const controller = new AbortController();
      let interrupted = false;
      process.on('SIGINT', () => {
        if (interrupted) process.exit(130);
        interrupted = true;
        process.stderr.write('\nteamchat demo: stopping (Ctrl+C again to quit at once)\n');
        controller.abort();
      });

      let server: TeamchatServer | null = null;
      let exitCode = 0;
      try {
        const { createServer } = await import('@teamchat/server');
        server = await createServer({
          host: flags.host,
          port: flags.port,
          httpPort: flags.httpPort,
          store: { kind: 'pglite', dataDir },
          demoEndsAt,
          // The demo's bots all connect from this machine and chat at full speed: the abuse limits
          // (16 connections per address, 2 messages/s) are for strangers, not for them.
          security: { flood: false, maxConnectionsPerIp: 0 },
          // Joins and leaves of 30 bots would drown the demo: only errors reach the terminal.
          log: (line) => {
            if (line.startsWith('error')) process.stderr.write(`teamchat server: ${line}\n`);
          },
        });
        const info = await server.listen();
        const dashboard = `http://${hostPort(reachable(info.host), info.httpPort)}/`;
        const kept = runDir ? ', removed at the end' : '';
        process.stdout.write(
          chalk.bold(
            `teamchat demo: server on ${hostPort(info.host, info.tcpPort)} (database: ${dataDir}${kept}), ${Math.round(totalMs / 1000)}s\n`,
          ),
        );
        process.stdout.write(`teamchat demo: dashboard ${dashboard}\n`);
        process.stdout.write(`teamchat demo: join in with: ${joinCommand(info.host, info.tcpPort)}\n`);
        if (info.host === '0.0.0.0' || info.host === '::') {
          process.stdout.write(
            `teamchat demo: from another machine: ${joinCommand(hostname(), info.tcpPort, 'guest')}\n`,
          );
        }
        process.stdout.write(`teamchat demo: the metrics CSV will be written to ${csvPath}\n\n`);
        if (flags.open) {
          const opener = browserOpener();
          if (!opener) {
            process.stdout.write(
              'teamchat demo: no browser opener found (xdg-open, open or start); open the dashboard URL yourself\n',
            );
          } else {
            process.stdout.write(`teamchat demo: opening the dashboard with ${path.basename(opener.command)}\n`);
            const child = spawn(opener.command, [...opener.args, dashboard], { stdio: 'ignore', detached: true });
            child.on('error', (err) =>
              process.stderr.write(`teamchat demo: could not open the browser: ${err.message}\n`),
            );
            child.unref();
          }
        }

        // 1. The scripted conversation.
        if (!controller.signal.aborted) {
          process.stdout.write(chalk.bold('--- scripted conversation ---\n'));
          const script = await playScript({
            host: info.host,
            port: info.tcpPort,
            onLine: printScriptLine,
            stepDelayMs: flags.stepDelay,
          });
          if (script.errors.length > 0) {
            process.stderr.write(
              `teamchat demo: the scripted conversation got errors:\n  ${script.errors.join('\n  ')}\n`,
            );
            exitCode = 1;
          }
        }

        // 2. The stress clients, until the demo time is up or Ctrl+C.
        // The demo's clock starts at launch; when a very short demo has used its time up starting the
        // server (slow machine), the clients still run a few seconds so the dashboard and CSV show them.
        const remainingMs = Math.max(MIN_STRESS_MS, demoEndsAt - Date.now());
        const ticks: StressTick[] = [];
        if (!controller.signal.aborted) {
          process.stdout.write(
            chalk.bold(
              `\n--- ${flags.clients} stress clients for ${Math.round(remainingMs / 1000)}s (dashboard: ${dashboard}) ---\n`,
            ),
          );
          const rampMs = Math.min(flags.clients * 50, remainingMs / 4);
          const report = await runStress(
            {
              host: info.host,
              port: info.tcpPort,
              clients: flags.clients,
              rooms: ['room1', 'room2', 'room3', 'room4'],
              intervalMs: 500,
              rampMs,
              durationMs: Math.max(1, Math.round(remainingMs - rampMs)),
              drainMs: 5_000,
              workers: 0,
              nickPrefix: `bot${Math.random().toString(36).slice(2, 5)}_`,
              signal: controller.signal,
            },
            {
              onTick: (tick) => {
                ticks.push(tick);
                const left = Math.max(0, Math.ceil((demoEndsAt - Date.now()) / 1000));
                process.stdout.write(`${formatTick(tick)}  (${left}s left)\n`);
              },
            },
          );
          process.stdout.write('\n' + formatSummary(report) + '\n');
        }

        // 3. The metrics CSV, from the server's own snapshots (or the load figures if it has none).
        const csv = await fetchMetricsCsv(info.host, info.httpPort, startedAt);
        if (csv) {
          writeFileSync(csvPath, csv);
          const snapshots = csv.split('\n').filter((line) => line.includes(',(total),')).length;
          process.stdout.write(
            `\nteamchat demo: metrics CSV (${snapshots} snapshots, a row per room and a (total) row each) written to ${csvPath}\n`,
          );
        } else {
          writeFileSync(csvPath, [CSV_HEADER, ...ticks.map((t) => formatCsvRow(t))].join('\n') + '\n');
          process.stdout.write(
            `\nteamchat demo: the server gave no metrics CSV; wrote the load generator's figures to ${csvPath}\n`,
          );
        }
        csvWritten = true;
      } catch (err) {
        process.stderr.write(`teamchat demo: ${(err as Error).message}\n`);
        exitCode = 1;
      } finally {
        if (server) {
          process.stdout.write('teamchat demo: shutting the server down\n');
          await server.close();
        }
        if (runDir) {
          // The database goes; the run's folder stays only for the CSV written in it.
          const keep = csvWritten && path.dirname(csvPath) === runDir;
          rmSync(keep ? dataDir : runDir, { recursive: true, force: true });
        }
      }
      const end = csvWritten ? `metrics CSV: ${csvPath}` : 'no metrics CSV written';
      process.stdout.write(`teamchat demo: done${exitCode ? ' (with errors)' : ''}; ${end}\n`, () =>
        process.exit(exitCode),
      );
    });
}

/** The server's stored metric snapshots since `from` as CSV (long layout), or null when it has none to give. */
async function fetchMetricsCsv(host: string, port: number, from: number): Promise<string | null> {
  try {
    const res = await fetch(
      `http://${hostPort(reachable(host), port)}/api/metrics.csv?format=long&from=${from}&to=${Date.now()}`,
    );
    if (!res.ok) return null;
    const text = await res.text();
    return text.includes('\n') ? text : null;
  } catch {
    return null;
  }
}
