/**
 * Before any test: bring the build up to date (`tsc -b`, incremental: a second or two when nothing
 * changed, then the terminal client's bundle). End-to-end tests start `bin/teamchat`, which runs the build, so a test must never meet
 * a build older than the sources it was written against. Type errors do not stop the build (tsc
 * still emits); `npx tsc -b` in CI reports them.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  try {
    execFileSync(
      process.execPath,
      [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-b'],
      { cwd: root, stdio: 'pipe' },
    );
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '');
    process.stderr.write(
      `global-setup: tsc -b reported errors (the build was still written):\n${out.slice(0, 4000)}\n`,
    );
  }
  // The terminal client's bundle (what `teamchat connect` runs), from that build: a stale bundle
  // is never used (connect falls back to the modules), but the tests should run what users run.
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/bundle-tui.mjs', import.meta.url))], {
    cwd: root,
    stdio: 'pipe',
  });
}
