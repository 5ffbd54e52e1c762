/**
 * `teamchat export-metrics` end to end: against a running server over HTTP, and straight from the
 * database folder once the server has stopped.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import { waitForSnapshots } from './helpers/metrics.js';
import { REPO_ROOT, spawnServer, TEAMCHAT_BIN, type SpawnedServer } from './helpers/spawn-server.js';

const HEADER =
  'timestamp,general_mps,general_avg_mps,general_joins,general_leaves,general_members,total_mps,total_avg_mps,total_messages,connections';

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
  // Wait until a stored snapshot holds the four messages.
  await waitForSnapshots(server.url, (snapshots) => snapshots.some((s) => s.totals.messagesTotal === 4));
  alice.close();
});

afterAll(async () => {
  await server?.cleanup();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('teamchat export-metrics with a running server', () => {
  it('asks the server over HTTP and writes the CSV file', async () => {
    const run = await exportMetrics(['out.csv', '--server', server.url]);
    expect(run.stderr).toMatch(/wrote \d+ snapshots to out\.csv \(from server http:\/\/127\.0\.0\.1:\d+\)/);
    expect(run.code).toBe(0);
    const lines = readFileSync(path.join(outDir, 'out.csv'), 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(HEADER);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.some((l) => l.split(',')[8] === '4')).toBe(true); // total_messages reached 4
    expect(leftovers()).toEqual([]);
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
    const third = all[3]!.split(',')[0]!;
    const run = await exportMetrics(['-', '--server', server.url, '--from', third, '--to', third]);
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toEqual([HEADER, all[3]]);
  });
});

describe('teamchat export-metrics without a server', () => {
  it('reads the database folder directly once the server has stopped', async () => {
    const viaHttp = readFileSync(path.join(outDir, 'out.csv'), 'utf8').trimEnd().split('\n');
    expect(await server.stop()).toBe(0);
    const run = await exportMetrics(['direct.csv', '--data-dir', server.dataDir]);
    expect(run.stderr).toMatch(/wrote \d+ snapshots to direct\.csv \(from pglite /);
    expect(run.code).toBe(0);
    const direct = readFileSync(path.join(outDir, 'direct.csv'), 'utf8').trimEnd().split('\n');
    expect(direct[0]).toBe(HEADER);
    // Everything the HTTP export had is there (plus the snapshots taken since, and the final one).
    expect(direct.slice(0, viaHttp.length)).toEqual(viaHttp);
  });

  it('falls back to the database when no server answers on the default port', async () => {
    const port = await closedPort();
    const run = await exportMetrics(['fallback.csv'], { TEAMCHAT_HTTP_PORT: String(port), TEAMCHAT_DATA_DIR: server.dataDir });
    expect(run.code).toBe(0);
    expect(readFileSync(path.join(outDir, 'fallback.csv'), 'utf8').split('\n')[0]).toBe(HEADER);
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
  ])('exits 2 on the usage error in %j', async (args, message) => {
    const run = await exportMetrics(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(existsSync(path.join(outDir, 'x.csv'))).toBe(false);
  });
});

// The repo root is where `npx teamchat` runs from; keep the import used.
void REPO_ROOT;
