/**
 * `teamchat export-metrics` end to end: against a running server over HTTP, and straight from the
 * database folder once the server has stopped; in the long layout (the default) and the wide one.
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import { waitForSnapshots } from './helpers/metrics.js';
import { REPO_ROOT, spawnServer, TEAMCHAT_BIN, type SpawnedServer } from './helpers/spawn-server.js';

const WIDE_HEADER =
  'timestamp,general_mps,general_avg_mps,general_joins,general_leaves,general_members,total_mps,total_avg_mps,total_messages,connections';
const LONG_COLUMNS = [
  'ts',
  'room',
  'mps',
  'moving_avg',
  'joins',
  'leaves',
  'joins_total',
  'leaves_total',
  'members',
  'messages',
  'messages_total',
  'rooms',
  'private_messages',
  'private_messages_total',
  'connections',
  'rooms_omitted',
];
const LONG_HEADER = LONG_COLUMNS.join(',');

/** The data rows of a long CSV, as objects keyed by column. */
function longRows(lines: string[]): Record<string, string>[] {
  return lines.slice(1).map((line) => Object.fromEntries(line.split(',').map((cell, i) => [LONG_COLUMNS[i], cell])));
}

let server: SpawnedServer;
let outDir: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exportMetrics(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TEAMCHAT_BIN, 'export-metrics', ...args],
      { cwd: outDir, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A TCP port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Files in outDir other than what the test put there (a temp file left behind would show up). */
const leftovers = () => readdirSync(outDir).filter((f) => f.includes('.tmp'));

beforeAll(async () => {
  outDir = mkdtempSync(path.join(tmpdir(), 'teamchat-export-'));
  server = await spawnServer({ args: ['--metrics-interval', '200ms'] });
  const alice = await JsonClient.connect(server.tcpPort);
  await alice.hello('alice');
  await alice.join('general');
  for (let i = 0; i < 4; i++) alice.send({ type: 'msg', room: 'general', text: `m${i}`, ref: `r${i}` });
  await alice.next('ack', (f) => f.ref === 'r3');
  // And one private message, to herself: the long layout's totals count it.
  alice.send({ type: 'pm', to: 'alice', text: 'note to self', ref: 'p1' });
  await alice.next('ack', (f) => f.ref === 'p1');
  // Wait until a stored snapshot holds the four messages and the private one.
  await waitForSnapshots(server.url, (snapshots) =>
    snapshots.some((s) => s.totals.messagesTotal === 4 && s.totals.privateMessagesTotal === 1),
  );
  alice.close();
});

afterAll(async () => {
  await server?.cleanup();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('teamchat export-metrics with a running server', () => {
  it('asks the server over HTTP and writes the long CSV by default: a row per snapshot and room, and a (total) row', async () => {
    const run = await exportMetrics(['out.csv', '--server', server.url]);
    expect(run.code, run.stderr).toBe(0);
    const said = /wrote (\d+) snapshots as (\d+) rows to out\.csv \(from server http:\/\/127\.0\.0\.1:\d+\)/.exec(
      run.stderr,
    );
    expect(said, run.stderr).not.toBeNull();
    const lines = readFileSync(path.join(outDir, 'out.csv'), 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(LONG_HEADER);
    const rows = longRows(lines);
    expect(rows.every((r) => Object.keys(r).length === LONG_COLUMNS.length)).toBe(true);
    expect(new Set(rows.map((r) => r.room))).toEqual(new Set(['general', '(total)']));
    const totals = rows.filter((r) => r.room === '(total)');
    expect([Number(said![1]), Number(said![2])]).toEqual([totals.length, rows.length]);
    // Every snapshot ends with its (total) row, after its rooms.
    expect(new Set(totals.map((r) => r.ts)).size).toBe(totals.length);
    expect(rows[rows.length - 1].room).toBe('(total)');
    // The room's figures, and the totals with the private message.
    expect(rows.some((r) => r.room === 'general' && r.messages_total === '4' && r.joins_total === '1')).toBe(true);
    expect(
      totals.some((r) => r.messages_total === '4' && r.private_messages_total === '1' && r.rooms_omitted === '0'),
    ).toBe(true);
    expect(totals.every((r) => r.connections !== '' && r.members === '')).toBe(true);
    expect(leftovers()).toEqual([]);
  });

  it('writes the wide layout with --format wide, as before', async () => {
    const run = await exportMetrics(['wide.csv', '--server', server.url, '--format', 'wide']);
    expect(run.stderr).toMatch(/wrote \d+ snapshots to wide\.csv \(from server /);
    expect(run.code).toBe(0);
    const lines = readFileSync(path.join(outDir, 'wide.csv'), 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(WIDE_HEADER);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.some((l) => l.split(',')[8] === '4')).toBe(true); // total_messages reached 4
  });

  it('lists the long columns it writes in --help', async () => {
    const run = await exportMetrics(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(LONG_HEADER);
  });

  it('serves both layouts on /api/metrics.csv (format=), wide by default, and refuses an unknown one', async () => {
    const plain = await fetch(`${server.url}/api/metrics.csv`);
    expect((await plain.text()).split('\n')[0]).toBe(WIDE_HEADER);
    const long = await fetch(`${server.url}/api/metrics.csv?format=long&rooms=0`);
    expect(long.headers.get('content-disposition')).toContain('teamchat-metrics-long.csv');
    const rows = longRows((await long.text()).trimEnd().split('\n'));
    // rooms=0: the one room is summed under (other), one room's worth.
    expect(rows.find((r) => r.room === '(other)')).toMatchObject({ rooms: '1' });
    expect(rows.some((r) => r.room === 'general')).toBe(false);
    const bad = await fetch(`${server.url}/api/metrics.csv?format=tall`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: {
        code: 'TC_HTTP_BAD_PARAM',
        message: 'a query parameter is invalid: format: "tall" is not one of wide, long',
      },
    });
  });

  it('says so when a server older than --format long answers the wide layout, and writes nothing', async () => {
    // What a server before the long layout does: ignores format= and answers wide.
    const old = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
      res.end(`${WIDE_HEADER}\n2026-11-24T09:00:00.000Z,1,1,0,0,1,1,1,4,1\n`);
    });
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(old.address() as { port: number }).port}`;
      const run = await exportMetrics(['old.csv', '--server', base]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `the server at ${base} answered the wide layout, not long: it is older than --format long; upgrade it, or export with --format wide`,
      );
      expect(existsSync(path.join(outDir, 'old.csv'))).toBe(false);
      expect(leftovers()).toEqual([]);
      const wide = await exportMetrics(['-', '--server', base, '--format', 'wide']);
      expect(wide.code).toBe(0);
      expect(wide.stdout.split('\n')[0]).toBe(WIDE_HEADER);
    } finally {
      await new Promise((resolve) => old.close(resolve));
    }
  });

  it('refuses to open the data folder the server holds, and says to ask the server', async () => {
    const run = await exportMetrics(['locked.csv', '--data-dir', server.dataDir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/already open in process \d+.*--server/);
    expect(existsSync(path.join(outDir, 'locked.csv'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('writes to stdout with - and honours --from/--to', async () => {
    const all = (await exportMetrics(['-', '--server', server.url])).stdout.trimEnd().split('\n');
    // A snapshot with a room in it: its rows are the room's and the (total) one.
    const rows = longRows(all);
    const ts = rows.find((r) => r.room === 'general')!.ts;
    const run = await exportMetrics(['-', '--server', server.url, '--from', ts, '--to', ts]);
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toEqual([LONG_HEADER, ...all.filter((l) => l.startsWith(`${ts},`))]);
    expect(
      run.stdout
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[1]),
    ).toEqual(['general', '(total)']);
    const wide = await exportMetrics(['-', '--server', server.url, '--from', ts, '--to', ts, '--format', 'wide']);
    expect(wide.stdout.trimEnd().split('\n')).toHaveLength(2);
  });
});

describe('teamchat export-metrics without a server', () => {
  it('reads the database folder directly once the server has stopped, in both layouts', async () => {
    const viaHttp = readFileSync(path.join(outDir, 'out.csv'), 'utf8').trimEnd().split('\n');
    const wideViaHttp = readFileSync(path.join(outDir, 'wide.csv'), 'utf8').trimEnd().split('\n');
    expect(await server.stop()).toBe(0);
    const run = await exportMetrics(['direct.csv', '--data-dir', server.dataDir]);
    expect(run.stderr).toMatch(/wrote \d+ snapshots as \d+ rows to direct\.csv \(from pglite /);
    expect(run.code).toBe(0);
    const direct = readFileSync(path.join(outDir, 'direct.csv'), 'utf8').trimEnd().split('\n');
    expect(direct[0]).toBe(LONG_HEADER);
    // Everything the HTTP export had is there (plus the snapshots taken since, and the final one).
    expect(direct.slice(0, viaHttp.length)).toEqual(viaHttp);
    const wide = await exportMetrics(['direct-wide.csv', '--data-dir', server.dataDir, '--format', 'wide']);
    expect(wide.code).toBe(0);
    const directWide = readFileSync(path.join(outDir, 'direct-wide.csv'), 'utf8').trimEnd().split('\n');
    expect(directWide.slice(0, wideViaHttp.length)).toEqual(wideViaHttp);
  });

  it('falls back to the database when no server answers on the default port', async () => {
    const port = await closedPort();
    const run = await exportMetrics(['fallback.csv'], {
      TEAMCHAT_HTTP_PORT: String(port),
      TEAMCHAT_DATA_DIR: server.dataDir,
    });
    expect(run.code).toBe(0);
    expect(readFileSync(path.join(outDir, 'fallback.csv'), 'utf8').split('\n')[0]).toBe(LONG_HEADER);
  });

  it('fails clearly when the named server is unreachable, leaving no file and an existing one intact', async () => {
    writeFileSync(path.join(outDir, 'keep.csv'), 'old contents\n');
    const port = await closedPort();
    const fresh = await exportMetrics(['nope.csv', '--server', `http://127.0.0.1:${port}`]);
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toContain(`cannot reach the teamchat server at http://127.0.0.1:${port}`);
    expect(existsSync(path.join(outDir, 'nope.csv'))).toBe(false);
    const existing = await exportMetrics(['keep.csv', '--server', `http://127.0.0.1:${port}`]);
    expect(existing.code).toBe(1);
    expect(readFileSync(path.join(outDir, 'keep.csv'), 'utf8')).toBe('old contents\n');
    expect(leftovers()).toEqual([]);
  });

  it('reports a folder it cannot write to', async () => {
    const run = await exportMetrics([path.join(outDir, 'missing-folder', 'x.csv'), '--data-dir', server.dataDir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot write .*x\.csv: the folder .*missing-folder does not exist/);
    if (process.getuid?.() !== 0) {
      const locked = path.join(outDir, 'read-only');
      rmSync(locked, { recursive: true, force: true });
      mkdirSync(locked);
      chmodSync(locked, 0o500);
      const denied = await exportMetrics([path.join(locked, 'x.csv'), '--data-dir', server.dataDir]);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(/permission denied/);
    }
  });

  it('reports a folder that holds no teamchat data, without creating a database there', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'teamchat-empty-'));
    try {
      const run = await exportMetrics(['x.csv', '--data-dir', empty]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/is not a teamchat data folder/);
      expect(readdirSync(empty)).toEqual([]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it.each([
    [['x.csv', '--from', 'yesterday'], /--from: "yesterday" is not an ISO 8601 date/],
    [['x.csv', '--from', '2026-11-24T10:00:00Z', '--to', '2026-11-24T09:00:00Z'], /is after --to/],
    [['x.csv', '--server', 'http://a:1', '--data-dir', 'b'], /only one of/],
    [['x.csv', '--format', 'tall'], /argument 'tall' is invalid\. Allowed choices are long, wide/],
  ])('exits 2 on the usage error in %j', async (args, message) => {
    const run = await exportMetrics(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(existsSync(path.join(outDir, 'x.csv'))).toBe(false);
  });
});

// The repo root is where `npx teamchat` runs from; keep the import used.
void REPO_ROOT;
