/**
 * `teamchat stress` end to end: a real server process, the real CLI as another process, real TCP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runTeamchat, spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

const teamchat = (args: string[]) => runTeamchat(args);

describe('teamchat stress', () => {
  let server: SpawnedServer;
  let dir: string;
  beforeAll(async () => {
    server = await spawnServer();
    dir = mkdtempSync(path.join(tmpdir(), 'teamchat-stress-test-'));
  });
  afterAll(async () => {
    await server?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs 5 clients for 3 s and prints a consistent JSON report with nothing lost', async () => {
    const csv = path.join(dir, 'figures.csv');
    const run = await teamchat([
      'stress',
      '--clients',
      '5',
      '--host',
      `127.0.0.1:${server.tcpPort}`,
      '--duration',
      '3s',
      '--rate',
      '4',
      '--json',
      '--csv',
      csv,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(true);
    expect(report.clients).toEqual({ requested: 5, connected: 5, failed: 0, disconnected: 0 });
    expect(report.messages.sent).toBeGreaterThan(10);
    expect(report.messages.sent).toBe(report.messages.room + report.messages.private);
    expect(report.messages.acked).toBe(report.messages.sent);
    expect(report.deliveries.expected).toBeGreaterThan(0);
    expect(report.deliveries.delivered).toBe(report.deliveries.expected);
    expect(report.deliveries.lost).toBe(0);
    expect(report.deliveries.deliveredPct).toBe(100);
    expect(report.errors.total).toBe(0);
    expect(report.latencyMs.samples).toBeGreaterThan(0);
    expect(report.latencyMs.p50).toBeGreaterThan(0);
    expect(report.latencyMs.p50).toBeLessThanOrEqual(report.latencyMs.p99);
    expect(report.latencyMs.p99).toBeLessThanOrEqual(report.latencyMs.max);
    expect(report.rates.deliveriesPerSec).toBeGreaterThan(0);
    // 4 a second is over a default server's flood budget (this one has none): said before and after the run.
    expect(run.stderr).toMatch(
      /note: each client will spend 4\.1 flood tokens a second .*--rate 1\.5 or less, or start the server with --flood-rate 6 \(or --no-flood-control\)/,
    );
    expect(report.config.floodTokensPerSec).toBe(4.1);
    // One note about the pace: `over-budget`, or `flood-delayed` when this (loaded) machine's latency
    // crossed the threshold that reads as waiting behind flood control.
    expect(report.notes.map((n: { code: string }) => n.code)).toHaveLength(1);
    expect(['over-budget', 'flood-delayed']).toContain(report.notes[0].code);
    // Live figures went to stderr, the CSV got a header and rows.
    expect(run.stderr).toMatch(/msgs \d+/);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^time,elapsed_s,phase,/);
    expect(lines.length).toBeGreaterThan(1);
  });

  it('prints a summary table without --json, at a default pace that fits a default server', async () => {
    const run = await teamchat([
      'stress',
      '--clients',
      '2',
      '--host',
      `127.0.0.1:${server.tcpPort}`,
      '--duration',
      '1s',
      '--rooms',
      'alpha',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/1\.50 msg\/s each/);
    expect(run.stderr).not.toMatch(/note:/);
    expect(run.stdout).not.toMatch(/why:/);
    expect(run.stdout).toMatch(/clients connected\s+2 \/ 2/);
    expect(run.stdout).toMatch(/delivered\s+100%/);
    expect(run.stdout).toMatch(/latency p99\s+[\d.]+ ms/);
  });

  it('exits 2 with a clear message for zero clients, an unknown flag and an unreachable host', async () => {
    const zero = await teamchat(['stress', '--clients', '0', '--host', `127.0.0.1:${server.tcpPort}`]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--clients.*'0' is invalid/);
    const unknown = await teamchat(['stress', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--bogus'/);
    const unreachable = await teamchat(['stress', '--clients', '1', '--host', '127.0.0.1:1', '--duration', '1s']);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(/cannot reach 127\.0\.0\.1:1/);
  });
});
