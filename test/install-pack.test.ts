/**
 * Installs like a real tool: `npm pack` makes a tarball, `npm install -g` puts it into a fresh
 * prefix, and the installed `teamchat` runs from a folder that has nothing to do with the repo.
 * (The tarball bundles the workspaces with their builds; see package.json `bundleDependencies`,
 * and the terminal client's esbuild bundle, which `teamchat connect` loads: scripts/bundle-tui.mjs.)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleState } from '../packages/cli/src/commands/connect-client.js';
import { REPO_ROOT } from './helpers/spawn-server.js';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'teamchat-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe('npm pack, then npm install -g', () => {
  it('installs a teamchat command that runs from any folder', async () => {
    // The build is current (the test set-up ran tsc -b): no need to run prepare again; only the
    // client's bundle, when tsc -b rewrote what it was made from (a second).
    const manifest = pathToFileURL(join(REPO_ROOT, 'packages/client/dist/bundle/inputs.json'));
    if (bundleState(manifest).kind !== 'fresh')
      await run(process.execPath, ['scripts/bundle-tui.mjs'], { cwd: REPO_ROOT });
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: REPO_ROOT, maxBuffer: 64 << 20 });
    const tarball = readdirSync(work).find((f) => /^teamchat-.*\.tgz$/.test(f));
    expect(tarball).toBeDefined();
    const prefix = join(work, 'prefix');
    await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(work, tarball!)], {
      cwd: work,
      maxBuffer: 64 << 20,
    });
    const elsewhere = mkdtempSync(join(work, 'elsewhere-'));
    const help = await run(join(prefix, 'bin', 'teamchat'), ['--help'], { cwd: elsewhere });
    expect(help.stdout).toMatch(/Usage: teamchat/);
    expect(help.stdout).toMatch(/serve/);
    const serve = await run(join(prefix, 'bin', 'teamchat'), ['serve', '--help'], { cwd: elsewhere });
    expect(serve.stdout).toMatch(/--data-dir/);

    // The client's bundle came along, counts as current there, and loads, UI chunk (Ink, React, Yoga's wasm) included.
    const installed = join(prefix, 'lib', 'node_modules', 'teamchat', 'node_modules', '@teamchat');
    const probe = `
      const { bundleState } = await import(${JSON.stringify(pathToFileURL(join(installed, 'cli/dist/commands/connect-client.js')).href)});
      const state = bundleState();
      if (state.kind !== 'fresh') throw new Error('bundle ' + JSON.stringify(state));
      const { readdirSync } = await import('node:fs');
      const ui = readdirSync(new URL('.', state.entry)).find((f) => f.startsWith('mount-app-'));
      const { mountApp } = await import(new URL(ui, state.entry).href);
      const { runTui, runLineMode } = await import(state.entry.href);
      console.log([typeof mountApp, typeof runTui, typeof runLineMode].join(' '));`;
    const loaded = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: elsewhere });
    expect(loaded.stdout.trim()).toBe('function function function');
    // And the installed client runs on it: line mode, a server that is not there.
    const port = await closedPort();
    const down = await run(
      join(prefix, 'bin', 'teamchat'),
      ['connect', `127.0.0.1:${port}`, '--nick', 'packed', '--connect-timeout', '1s'],
      { cwd: elsewhere },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`teamchat connect: cannot reach 127.0.0.1:${port}`);
  }, 300_000);
});
