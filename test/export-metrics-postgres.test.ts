/**
 * `teamchat export-metrics --database-url`: reads snapshots straight from Postgres, with and
 * without the server running (Postgres, unlike a PGlite folder, may be read while the server runs).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import { startPostgres } from './helpers/postgres-cluster.js';
import { waitForSnapshots } from './helpers/metrics.js';
import { spawnServer, TEAMCHAT_BIN, type SpawnedServer } from './helpers/spawn-server.js';

const postgres = await startPostgres();
let server: SpawnedServer | undefined;
let outDir: string;

function exportMetrics(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TEAMCHAT_BIN, 'export-metrics', ...args],
      { cwd: outDir, timeout: 60_000 },
      (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

beforeAll(async () => {
  outDir = mkdtempSync(path.join(tmpdir(), 'teamchat-export-pg-'));
  if ('skip' in postgres) return;
  server = await spawnServer({ databaseUrl: postgres.url, args: ['--metrics-interval', '200ms'] });
  const alice = await JsonClient.connect(server.tcpPort);
  await alice.hello('alice');
  await alice.join('pg-room');
  alice.send({ type: 'msg', room: 'pg-room', text: 'on postgres', ref: 'p1' });
  await alice.next('ack', (f) => f.ref === 'p1');
  await waitForSnapshots(server.url, (snapshots) => snapshots.some((s) => s.totals.messagesTotal === 1));
  alice.close();
});

afterAll(async () => {
  await server?.cleanup();
  if ('stop' in postgres) await postgres.stop();
  rmSync(outDir, { recursive: true, force: true });
});

describe.skipIf('skip' in postgres)('teamchat export-metrics on Postgres', () => {
  it('reads the snapshots from the database while the server runs, and after it stopped', async () => {
    const url = 'url' in postgres ? postgres.url : '';
    const live = await exportMetrics(['live.csv', '--database-url', url, '--format', 'wide']);
    expect(live.stderr).toMatch(/wrote \d+ snapshots to live\.csv/);
    expect(live.code).toBe(0);
    const header = readFileSync(path.join(outDir, 'live.csv'), 'utf8').split('\n')[0];
    expect(header).toBe(
      'timestamp,pg-room_mps,pg-room_avg_mps,pg-room_joins,pg-room_leaves,pg-room_members,total_mps,total_avg_mps,total_messages,connections',
    );

    await server!.stop();
    const after = await exportMetrics(['after.csv', '--database-url', url, '--format', 'wide']);
    expect(after.code).toBe(0);
    const lines = readFileSync(path.join(outDir, 'after.csv'), 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(header);
    expect(lines[lines.length - 1].split(',')[8]).toBe('1'); // total_messages
    // The password never shows in what the command prints.
    expect(after.stderr).not.toMatch(/:[^:@/]+@/);
  });
});
