/**
 * `teamchat demo`: the original design's demo launcher. Starts a server in this process (so it
 * can pass the demo's end time to the dashboard and shut it down cleanly without managing a child
 * process), plays the scripted Alice/Bob/Charlie conversation, starts the stress clients, shows the
 * dashboard URL, and at the end writes the metrics CSV and stops everything.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import chalk from 'chalk';
import { Command, InvalidArgumentError, Option } from 'commander';
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
  csv: string;
  open?: boolean;
  dataDir?: string;
  port: number;
  httpPort: number;
  host: string;
  stepDelay: number;
}

/** Least time the stress clients run, even when the demo time is already up. */
const MIN_STRESS_MS = 5_000;

const USER_COLOURS: Record<string, (s: string) => string> = { Alice: chalk.cyan, Bob: chalk.green, Charlie: chalk.magenta };

function parseMinutes(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0) || n > 24 * 60) throw new InvalidArgumentError('must be a number of minutes above 0 (at most 1440)');
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

function printScriptLine(line: ScriptLine): void {
  const colour = USER_COLOURS[line.user] ?? chalk.white;
  if (line.kind === 'typed') process.stdout.write(colour(chalk.bold(`${line.user}> ${line.text}`)) + '\n');
  else process.stdout.write(colour(`  [${line.user}] ${line.text}`) + '\n');
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the full demo: a server, a scripted conversation, stress clients and the live dashboard, then a metrics CSV')
    .option('--minutes <n>', 'how long the demo runs', parseMinutes, 10)
    .addOption(new Option('--seconds <n>', 'demo length in seconds (overrides --minutes; for tests)').argParser((v) => parseCount(v)).hideHelp())
    .option('--clients <n>', 'stress clients', (v) => parseCount(v), 30)
    .option('--csv <file>', 'where to write the metrics CSV at the end', 'metrics_log.csv')
    .option('--open', 'open the dashboard in the default browser')
    .option('--data-dir <dir>', 'keep the embedded database in this folder (default: a temporary folder, removed at the end)')
    .option('--host <address>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'TCP port (0: any free port)', parsePortOrZero, 0)
    .option('--http-port <port>', 'HTTP port for the dashboard (0: any free port)', parsePortOrZero, 0)
    .addOption(new Option('--step-delay <duration>', 'pause between scripted lines').default(600, '600ms').argParser((v) => parseDurationMs(v, true)).hideHelp())
    .showHelpAfterError()
    .exitOverride()
    .action(async (flags: DemoFlags) => {
      const totalMs = flags.seconds !== undefined ? flags.seconds * 1000 : Math.round(flags.minutes * 60_000);
      const csvPath = path.resolve(flags.csv);
      try {
        writeFileSync(csvPath, '', { flag: 'a' });
      } catch (err) {
        process.stderr.write(`teamchat demo: cannot write --csv ${csvPath}: ${(err as Error).message}\n`);
        process.exit(2);
      }
      const tempDir = flags.dataDir ? null : mkdtempSync(path.join(tmpdir(), 'teamchat-demo-'));
      const dataDir = flags.dataDir ? path.resolve(flags.dataDir) : path.join(tempDir!, 'data');
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
        const dashboard = `http://${info.host}:${info.httpPort}/`;
        process.stdout.write(chalk.bold(`teamchat demo: server on ${info.host}:${info.tcpPort} (database: ${dataDir}), ${Math.round(totalMs / 1000)}s\n`));
        process.stdout.write(`teamchat demo: dashboard ${dashboard}\n`);
        process.stdout.write(`teamchat demo: join in with: teamchat connect --host ${info.host}:${info.tcpPort}\n\n`);
        if (flags.open) {
          const opener = browserOpener();
          if (!opener) {
            process.stdout.write('teamchat demo: no browser opener found (xdg-open, open or start); open the dashboard URL yourself\n');
          } else {
            process.stdout.write(`teamchat demo: opening the dashboard with ${path.basename(opener.command)}\n`);
            const child = spawn(opener.command, [...opener.args, dashboard], { stdio: 'ignore', detached: true });
            child.on('error', (err) => process.stderr.write(`teamchat demo: could not open the browser: ${err.message}\n`));
            child.unref();
          }
        }

        // 1. The scripted conversation.
        if (!controller.signal.aborted) {
          process.stdout.write(chalk.bold('--- scripted conversation ---\n'));
          const script = await playScript({ host: info.host, port: info.tcpPort, onLine: printScriptLine, stepDelayMs: flags.stepDelay });
          if (script.errors.length > 0) {
            process.stderr.write(`teamchat demo: the scripted conversation got errors:\n  ${script.errors.join('\n  ')}\n`);
            exitCode = 1;
          }
        }

        // 2. The stress clients, until the demo time is up or Ctrl+C.
        // The demo's clock starts at launch; when a very short demo has used its time up starting the
        // server (slow machine), the clients still run a few seconds so the dashboard and CSV show them.
        const remainingMs = Math.max(MIN_STRESS_MS, demoEndsAt - Date.now());
        const ticks: StressTick[] = [];
        if (!controller.signal.aborted) {
          process.stdout.write(chalk.bold(`\n--- ${flags.clients} stress clients for ${Math.round(remainingMs / 1000)}s (dashboard: ${dashboard}) ---\n`));
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
          process.stdout.write(`\nteamchat demo: metrics CSV (${csv.trimEnd().split('\n').length - 1} snapshots) written to ${csvPath}\n`);
        } else {
          writeFileSync(csvPath, [CSV_HEADER, ...ticks.map((t) => formatCsvRow(t))].join('\n') + '\n');
          process.stdout.write(`\nteamchat demo: the server gave no metrics CSV; wrote the load generator's figures to ${csvPath}\n`);
        }
      } catch (err) {
        process.stderr.write(`teamchat demo: ${(err as Error).message}\n`);
        exitCode = 1;
      } finally {
        if (server) {
          process.stdout.write('teamchat demo: shutting the server down\n');
          await server.close();
        }
        if (tempDir) rmSync(tempDir, { recursive: true, force: true });
      }
      process.stdout.write(`teamchat demo: done${exitCode ? ' (with errors)' : ''}; metrics CSV: ${csvPath}\n`, () => process.exit(exitCode));
    });
}

/** The server's stored metric snapshots since `from` as CSV, or null when it has none to give. */
async function fetchMetricsCsv(host: string, port: number, from: number): Promise<string | null> {
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  try {
    const res = await fetch(`http://${shown}:${port}/api/metrics.csv?from=${from}&to=${Date.now()}`);
    if (!res.ok) return null;
    const text = await res.text();
    return text.includes('\n') ? text : null;
  } catch {
    return null;
  }
}
