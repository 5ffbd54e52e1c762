/**
 * The client bundle's shortcut in @alcalzone/ansi-tokenize's diffAnsiCodes
 * (scripts/ansi-diff-shortcut.mjs): the real module, bundled through the plugin, must return what
 * the original returns, for equal style lists (the shortcut) and for any other pair.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ansiDiffShortcut } from '../scripts/ansi-diff-shortcut.mjs';
import { importBundled } from './helpers/bundle-with-plugin.js';
import { REPO_ROOT } from './helpers/spawn-server.js';

interface AnsiCode {
  type: 'ansi';
  code: string;
  endCode: string;
}
type Diff = (from: AnsiCode[], to: AnsiCode[]) => AnsiCode[];

const ESC = '\u001b[';
/** Codes as the tokenizer makes them: intensity (which share an end code), attributes, colours. */
const CODES: AnsiCode[] = [
  ['1m', '22m'],
  ['2m', '22m'],
  ['3m', '23m'],
  ['4m', '24m'],
  ['7m', '27m'],
  ['31m', '39m'],
  ['32m', '39m'],
  ['38;5;33m', '39m'],
  ['41m', '49m'],
  ['48;5;236m', '49m'],
].map(([code, end]) => ({ type: 'ansi', code: ESC + code, endCode: ESC + end }));

/** A small deterministic generator: the same corpus on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('the client bundle shortcut in diffAnsiCodes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'teamchat-ansi-diff-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns what the original returns, for equal and for different styles', async () => {
    // The copy Ink imports (the package exports only `import`, so resolved as Ink resolves it).
    const fromInk = createRequire(path.join(REPO_ROOT, 'node_modules/ink/package.json'));
    const packageJson = fromInk.resolve('@alcalzone/ansi-tokenize/package.json');
    const diffFile = path.join(path.dirname(packageJson), 'build/diff.js');
    const original = (await import(pathToFileURL(diffFile).href)).diffAnsiCodes as Diff;
    const patched = (await importBundled(diffFile, ansiDiffShortcut, dir, 'diff')).diffAnsiCodes as Diff;

    const next = random(7);
    const styles = (): AnsiCode[] =>
      Array.from({ length: Math.floor(next() * 4) }, () => CODES[Math.floor(next() * CODES.length)]);
    let equalPairs = 0;
    for (let i = 0; i < 3000; i++) {
      const from = styles();
      // A third are equal lists: the same entries, or copies (the tokenizer copies styles per cell).
      const to = i % 3 === 0 ? from.map((c) => (i % 2 ? { ...c } : c)) : styles();
      if (i % 3 === 0) equalPairs++;
      expect(patched(from, to), JSON.stringify({ from, to })).toEqual(original(from, to));
    }
    expect(equalPairs).toBe(1000);
    // The shortcut's own case, checked by value: same codes, same order.
    expect(patched([CODES[0], CODES[5]], [{ ...CODES[0] }, { ...CODES[5] }])).toEqual([]);
    // Same codes in another order go to the original (and its answer).
    expect(patched([CODES[0], CODES[5]], [CODES[5], CODES[0]])).toEqual(
      original([CODES[0], CODES[5]], [CODES[5], CODES[0]]),
    );
  });
});
