/**
 * Installs like a real tool: `npm pack` makes a tarball, `npm install -g` puts it into a fresh
 * prefix, and the installed `teamchat` runs from a folder that has nothing to do with the repo.
 * (The tarball bundles the workspaces with their builds; see package.json `bundleDependencies`.)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/spawn-server.js';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'teamchat-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack, then npm install -g', () => {
  it('installs a teamchat command that runs from any folder', async () => {
    // The build is current (the test set-up ran tsc -b): no need to run prepare again.
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: REPO_ROOT, maxBuffer: 64 << 20 });
    const tarball = readdirSync(work).find((f) => /^teamchat-.*\.tgz$/.test(f));
    expect(tarball).toBeDefined();
    const prefix = join(work, 'prefix');
    await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(work, tarball!)], { cwd: work, maxBuffer: 64 << 20 });
    const elsewhere = mkdtempSync(join(work, 'elsewhere-'));
    const help = await run(join(prefix, 'bin', 'teamchat'), ['--help'], { cwd: elsewhere });
    expect(help.stdout).toMatch(/Usage: teamchat/);
    expect(help.stdout).toMatch(/serve/);
    const serve = await run(join(prefix, 'bin', 'teamchat'), ['serve', '--help'], { cwd: elsewhere });
    expect(serve.stdout).toMatch(/--data-dir/);
  }, 300_000);
});
