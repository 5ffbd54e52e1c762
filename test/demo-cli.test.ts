/**
 * `teamchat demo` end to end, shortened: server, scripted conversation, stress clients, CSV.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnTeamchat } from './helpers/spawn-server.js';

describe('teamchat demo', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'teamchat-demo-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('plays the conversation, runs the clients, writes a metrics CSV and exits 0', { timeout: 120_000 }, async () => {
    const csv = path.join(dir, 'metrics.csv');
    const child = spawnTeamchat(['demo', '--seconds', '10', '--clients', '4', '--csv', csv, '--step-delay', '0', '--data-dir', path.join(dir, 'data')]);
    child.stdin!.end();
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code, stderr).toBe(0);
    // The scripted conversation, as each user saw it.
    expect(stdout).toContain('Alice> /join room1');
    expect(stdout).toContain('[Bob] Alice: Morning Bob! Is the release build green?');
    expect(stdout).toContain('[Charlie] [PM] Alice: Could you help Bob with the flaky test?');
    expect(stdout).toMatch(/\[Charlie\] \* Users in room1 \(3\): Alice, Bob, Charlie/);
    expect(stdout).toMatch(/dashboard http:\/\/127\.0\.0\.1:\d+\//);
    expect(stdout).toContain(`metrics CSV: ${csv}`);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^timestamp,|^time,/);
    expect(lines.length).toBeGreaterThan(1);
  });
});
