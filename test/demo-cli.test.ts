/**
 * `teamchat demo` end to end, shortened: server, scripted conversation, stress clients, CSV. The
 * join command it prints is run as printed (a real `teamchat connect` in line mode, while the demo
 * runs), and the metrics CSV is where the demo says it is: in its own folder under the temp folder
 * by default, in the data folder with --data-dir, or where --csv says.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTeamchat, spawnTeamchat } from './helpers/spawn-server.js';

const LONG_HEADER =
  'ts,room,mps,moving_avg,joins,leaves,joins_total,leaves_total,members,messages,messages_total,rooms,private_messages,private_messages_total,connections,rooms_omitted';

/** Flags that keep a demo short: about 20 s in all (the stress clients run 5 s at least, then drain). */
const SHORT = ['--seconds', '8', '--clients', '3', '--step-delay', '0'];

/** Runs `teamchat demo <args>` to its end; `onStdout` sees the output so far as it comes. */
const runDemo = (args: string[], onStdout?: (stdout: string) => void) => runTeamchat(['demo', ...args], onStdout);

/** The path after `metrics CSV: ` on the demo's last line. */
function csvPathOf(stdout: string): string {
  const m = /teamchat demo: done; metrics CSV: (.+)$/m.exec(stdout);
  if (!m) throw new Error(`no CSV path in the demo's output:\n${stdout}`);
  return m[1];
}

const dir = mkdtempSync(path.join(tmpdir(), 'teamchat-demo-test-'));
const runDirs: string[] = [];
afterAll(() => {
  for (const d of [dir, ...runDirs]) rmSync(d, { recursive: true, force: true });
});

describe('teamchat demo', () => {
  it(
    'prints a join command that connects as printed, and writes the CSV to its own folder in the temp folder',
    { timeout: 120_000 },
    async () => {
      let joined: Promise<{ code: number | null; out: string }> | undefined;
      let command = '';
      const run = await runDemo(SHORT, (stdout) => {
        const m = /^teamchat demo: join in with: (.+)$/m.exec(stdout);
        if (!m || joined) return;
        command = m[1]!;
        // Run it as printed (the `teamchat` or `npx teamchat` part is this repo's bin), in line mode:
        // one message, then EOF, which sends what is queued and quits.
        const args = command.replace(/^(npx )?teamchat /, '').split(' ');
        const client: ChildProcess = spawnTeamchat(args);
        let out = '';
        client.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
        client.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
        client.stdin!.end('hello from the join command\n');
        joined = new Promise((resolve) => client.once('close', (code) => resolve({ code, out })));
      });
      expect(run.code, run.stderr).toBe(0);
      expect(command).toMatch(/^(npx )?teamchat connect 127\.0\.0\.1:\d+ --nick [A-Za-z][\w-]* --room room1$/);
      expect(command).not.toContain('--host');
      const nick = /--nick (\S+)/.exec(command)![1];
      const client = await joined!;
      expect(client.code, client.out).toBe(0);
      expect(client.out).toContain(`[room1] ${nick}: hello from the join command`);

      const csv = csvPathOf(run.stdout);
      runDirs.push(path.dirname(csv));
      expect(run.stdout).toContain(`the metrics CSV will be written to ${csv}`);
      expect(path.isAbsolute(csv)).toBe(true);
      expect(path.dirname(path.dirname(csv))).toBe(path.resolve(tmpdir()));
      expect(path.basename(path.dirname(csv))).toMatch(/^teamchat-demo-\d{8}-\d{6}(-\w+)?$/);
      expect(path.basename(csv)).toBe('metrics.csv');
      // The temporary database is gone; the CSV stays.
      expect(readdirSync(path.dirname(csv))).toEqual(['metrics.csv']);
      const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
      expect(lines[0]).toBe(LONG_HEADER);
      expect(lines.some((l) => l.split(',')[1] === 'room1')).toBe(true);
      expect(lines.some((l) => l.split(',')[1] === '(total)')).toBe(true);
      // Nothing was written to the folder it ran in.
      expect(existsSync(path.join(process.cwd(), 'metrics_log.csv'))).toBe(false);
    },
  );

  it('plays the conversation, runs the clients, and writes the CSV into --data-dir', { timeout: 120_000 }, async () => {
    const dataDir = path.join(dir, 'data');
    const run = await runDemo([...SHORT, '--data-dir', dataDir]);
    expect(run.code, run.stderr).toBe(0);
    // The scripted conversation, as each user saw it.
    expect(run.stdout).toContain('Alice> /join room1');
    expect(run.stdout).toContain('[Bob] Alice: Morning Bob! Is the release build green?');
    expect(run.stdout).toContain('[Charlie] [PM] Alice: Could you help Bob with the flaky test?');
    expect(run.stdout).toMatch(/\[Charlie\] \* Users in room1 \(3\): Alice, Bob, Charlie/);
    expect(run.stdout).toMatch(/dashboard http:\/\/127\.0\.0\.1:\d+\//);
    const csv = csvPathOf(run.stdout);
    expect(path.dirname(csv)).toBe(dataDir);
    expect(path.basename(csv)).toMatch(/^metrics-\d{8}-\d{6}\.csv$/);
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(LONG_HEADER);
    expect(lines.length).toBeGreaterThan(1);
    // The database stays in --data-dir.
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
  });

  it('writes the CSV where --csv says, and leaves no folder of its own behind', { timeout: 120_000 }, async () => {
    const csv = path.join(dir, 'chosen.csv');
    const run = await runDemo([...SHORT, '--csv', csv]);
    expect(run.code, run.stderr).toBe(0);
    expect(csvPathOf(run.stdout)).toBe(csv);
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toBe(LONG_HEADER);
    // The run's folder held only the temporary database: it is gone.
    const database = /\(database: (.+), removed at the end\)/.exec(run.stdout)![1];
    expect(path.basename(path.dirname(database))).toMatch(/^teamchat-demo-\d{8}-\d{6}(-\w+)?$/);
    expect(existsSync(path.dirname(database))).toBe(false);
  });

  it('refuses a --csv it cannot write before starting anything', async () => {
    const run = await runDemo(['--csv', path.join(dir, 'missing', 'x.csv')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot write --csv .*x\.csv: the folder .*missing does not exist/);
    expect(run.stdout).not.toContain('server on');
  });
});
