/**
 * `teamchat stress`: N real TCP clients chatting against a server, with live figures, a summary
 * table (or `--json`), and exit code 1 when clients failed to connect or messages were lost.
 */
import { appendFileSync, existsSync, statSync } from 'node:fs';
import chalk from 'chalk';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  CSV_HEADER,
  DEFAULT_INTERVAL_MS,
  DEFAULT_PM_CHANCE,
  DEFAULT_RATE_PER_CLIENT,
  DEFAULT_SWITCH_CHANCE,
  formatCsvRow,
  formatProgress,
  formatSummary,
  formatTick,
  paceWarning,
  runStress,
  StressError,
  type ShowEvent,
  type StressTick,
} from '@teamchat/stress';

interface StressFlags {
  clients: number;
  host: { host: string; port: number }[];
  rooms?: string[];
  roomCount: number;
  interval?: number;
  rate?: number;
  duration: number;
  switchChance: number;
  pmChance: number;
  ramp?: number;
  quietRamp?: boolean;
  json?: boolean;
  csv?: string;
  show?: boolean;
  workers?: number;
  drain?: number;
}

// ---------- argument parsers (each throws InvalidArgumentError: a usage error, exit 2) ----------

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A duration: `500ms`, `2s`, `10m`, `1h`; a bare number is seconds. Zero only when `allowZero`. */
export function parseDurationMs(value: string, allowZero = false): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('must be a duration like 500ms, 2s, 10m or 1h');
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? 's']);
  if (ms < 0 || (!allowZero && ms === 0)) throw new InvalidArgumentError('must be greater than zero');
  return ms;
}

/** A whole number >= 1 (or >= 0 with `min` 0). */
export function parseCount(value: string, min = 1): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new InvalidArgumentError(
      min === 0 ? 'must be a whole number (0 or more)' : `must be a whole number of at least ${min}`,
    );
  }
  return n;
}

function parseChance(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1))
    throw new InvalidArgumentError('must be a probability between 0 and 1');
  return n;
}

function parseRate(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0) || n > 1000)
    throw new InvalidArgumentError('must be messages per second per client, above 0 and at most 1000');
  return n;
}

/** `host:port`, `host` (port 5555), `:port` (localhost) or `[v6]:port`. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(value.trim());
  const host = m ? (m[1] ?? m[2] ?? '') : '';
  const port = m?.[3] !== undefined ? Number(m[3]) : 5555;
  if (!m || !(port >= 1 && port <= 65535)) throw new InvalidArgumentError('must be host:port, e.g. localhost:5555');
  return { host: host === '' ? 'localhost' : host, port };
}

function parseRooms(value: string): string[] {
  const rooms = value.split(',').map((r) => r.trim().replace(/^#/, '').toLowerCase());
  if (rooms.some((r) => !/^[a-z0-9][a-z0-9_.-]{0,31}$/.test(r))) {
    throw new InvalidArgumentError(
      'must be a comma-separated list of room names (letters, digits, _ . -; at most 32 characters)',
    );
  }
  return [...new Set(rooms)];
}

const PALETTE = [
  chalk.cyan,
  chalk.green,
  chalk.magenta,
  chalk.yellow,
  chalk.blue,
  chalk.red,
  chalk.cyanBright,
  chalk.greenBright,
  chalk.magentaBright,
  chalk.yellowBright,
];

/** Formats a received message for `--show`, coloured by the receiving client. */
export function formatShow(e: ShowEvent): string {
  const colour = PALETTE[e.client % PALETTE.length];
  const where = e.kind === 'message' ? `${e.room} <${e.from}>` : `[PM ${e.from} -> ${e.to}]`;
  return `${colour(`[${e.nick}]`)} ${where} ${e.text} ${chalk.dim(`(${(e.latencyUs / 1000).toFixed(1)} ms)`)}`;
}

export function stressCommand(): Command {
  return new Command('stress')
    .description(
      'load-test a server: N clients join rooms and chat; live figures, then a summary (exit 1 on failed clients or lost messages)',
    )
    .option('-c, --clients <n>', 'number of clients', (v) => parseCount(v), 50)
    .addOption(
      new Option(
        '--host <host:port>',
        'server address; several, comma-separated, spread the clients over the nodes of a cluster',
      )
        .default([{ host: 'localhost', port: 5555 }], 'localhost:5555')
        .argParser((v) => v.split(',').map((one) => parseHostPort(one.trim()))),
    )
    .addOption(
      new Option('--rooms <list>', 'comma-separated rooms to use').argParser(parseRooms).conflicts('roomCount'),
    )
    .option('--room-count <n>', 'use rooms room1..roomN', (v) => parseCount(v), 4)
    .addOption(
      new Option(
        '--interval <duration>',
        `mean time between two messages of one client (default ${Math.round(DEFAULT_INTERVAL_MS)}ms)`,
      )
        .argParser((v) => parseDurationMs(v))
        .conflicts('rate'),
    )
    .option(
      '--rate <n>',
      `messages per second per client, instead of --interval (default ${DEFAULT_RATE_PER_CLIENT}: within a default server's flood budget of 2 a second, room switches and private messages included)`,
      parseRate,
    )
    .addOption(
      new Option('--duration <duration>', 'how long to measure after the ramp-up')
        .default(60_000, '60s')
        .argParser((v) => parseDurationMs(v)),
    )
    .option('--switch-chance <p>', 'chance that an action switches rooms', parseChance, DEFAULT_SWITCH_CHANCE)
    .option('--pm-chance <p>', 'chance that an action is a private message', parseChance, DEFAULT_PM_CHANCE)
    .option('--ramp <duration>', 'connect the clients over this time (default: 5ms per client)', (v) =>
      parseDurationMs(v, true),
    )
    .option('--quiet-ramp', 'clients connect during the ramp and start sending when it ends')
    .option('--json', 'print one JSON report on stdout (live lines go to stderr)')
    .option('--csv <file>', 'append the periodic figures to this CSV file')
    .option('--show', 'print the received chat, coloured per client')
    .option(
      '--workers <n>',
      'worker threads for the clients (0: none; default: 0 below 200 clients, else up to 4)',
      (v) => parseCount(v, 0),
    )
    .addOption(
      new Option('--drain <duration>', 'wait this long at the end for messages in flight')
        .default(10_000, '10s')
        .argParser((v) => parseDurationMs(v)),
    )
    .showHelpAfterError()
    .exitOverride()
    .action(async (flags: StressFlags) => {
      const out = flags.json ? process.stderr : process.stdout;
      const rooms = flags.rooms ?? Array.from({ length: flags.roomCount }, (_, i) => `room${i + 1}`);
      const intervalMs = flags.rate ? 1000 / flags.rate : (flags.interval ?? DEFAULT_INTERVAL_MS);
      if (flags.switchChance + flags.pmChance > 1) usage('--switch-chance plus --pm-chance must be at most 1');
      // A pace over a default server's flood budget works only against a server with a larger one.
      const warning = paceWarning({ intervalMs, switchChance: flags.switchChance });
      if (warning) process.stderr.write(`teamchat stress: note: ${warning}\n`);
      if (flags.csv) {
        try {
          if (!existsSync(flags.csv) || statSync(flags.csv).size === 0) appendFileSync(flags.csv, CSV_HEADER + '\n');
        } catch (err) {
          usage(`--csv ${flags.csv}: ${(err as Error).message}`);
        }
      }

      const controller = new AbortController();
      let interrupted = false;
      const onSigint = () => {
        if (interrupted) process.exit(130);
        interrupted = true;
        process.stderr.write('\nteamchat stress: stopping (Ctrl+C again to quit at once)\n');
        controller.abort();
      };
      process.on('SIGINT', onSigint);

      const tty = process.stderr.isTTY === true;
      let progress: (() => string) | null = null;
      const clearProgress = () => tty && progress && process.stderr.write('\r\x1b[2K');
      const drawProgress = () => tty && progress && process.stderr.write(progress());
      let redraw: NodeJS.Timeout | undefined;

      const onTick = (tick: StressTick) => {
        clearProgress();
        process.stderr.write(formatTick(tick) + '\n');
        drawProgress();
        if (flags.csv) appendFileSync(flags.csv, formatCsvRow(tick) + '\n');
      };

      try {
        const report = await runStress(
          {
            host: flags.host[0].host,
            port: flags.host[0].port,
            ...(flags.host.length > 1 ? { moreAddresses: flags.host.slice(1) } : {}),
            clients: flags.clients,
            rooms,
            intervalMs,
            durationMs: flags.duration,
            rampMs: flags.ramp,
            quietRamp: flags.quietRamp,
            switchChance: flags.switchChance,
            pmChance: flags.pmChance,
            workers: flags.workers,
            drainMs: flags.drain,
            signal: controller.signal,
          },
          {
            onTick,
            onShow: flags.show
              ? (e) => {
                  clearProgress();
                  out.write(formatShow(e) + '\n');
                  drawProgress();
                }
              : undefined,
            onStart: ({ rampMs, durationMs }) => {
              const start = Date.now();
              process.stderr.write(
                `teamchat stress: ${flags.clients} clients -> ${flags.host.map((a) => `${a.host}:${a.port}`).join(',')}, rooms ${rooms.join(',')}, ` +
                  `${(1000 / intervalMs).toFixed(2)} msg/s each, ramp ${rampMs / 1000}s, duration ${durationMs / 1000}s\n`,
              );
              progress = () => {
                const t = Date.now() - start;
                return t < rampMs
                  ? formatProgress('ramp-up', t / rampMs, rampMs - t)
                  : formatProgress('running', (t - rampMs) / durationMs, rampMs + durationMs - t);
              };
              if (tty) redraw = setInterval(() => (clearProgress(), drawProgress()), 250);
            },
            onPhase: (phase) => {
              if (phase !== 'drain') return;
              clearInterval(redraw);
              clearProgress();
              progress = null;
              process.stderr.write('teamchat stress: stopped sending; waiting for messages in flight\n');
            },
          },
        );
        clearInterval(redraw);
        process.off('SIGINT', onSigint);
        const code = report.ok ? 0 : 1;
        const text = flags.json ? JSON.stringify(report) + '\n' : '\n' + formatSummary(report) + '\n';
        process.stdout.write(text, () => process.exit(code));
      } catch (err) {
        clearInterval(redraw);
        if (err instanceof StressError && err.isUsageError) usage(err.message);
        throw err;
      }
    });
}

function usage(message: string): never {
  process.stderr.write(`teamchat stress: ${message}\n`);
  process.exit(2);
}
