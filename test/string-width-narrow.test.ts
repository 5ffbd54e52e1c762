/**
 * The terminal client's bundle measures text made only of NARROW_TEXT_CLASS by its length
 * (scripts/string-width-narrow.mjs). That holds only if every installed string-width gives each of
 * those characters one column: checked here against the real packages, so an upgrade that changes
 * a width fails the suite instead of misdrawing the screen. Each string-width is also bundled
 * through the plugin, and the result must measure like the original, narrow text or not.
 */
import { mkdtempSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { NARROW_TEXT_CLASS, narrowTextWidth } from '../scripts/string-width-narrow.mjs';
import { importBundled } from './helpers/bundle-with-plugin.js';
import { REPO_ROOT } from './helpers/spawn-server.js';

type StringWidth = (text: string, options?: { ambiguousIsNarrow?: boolean }) => number;

/** Every string-width under node_modules (Ink and wrap-ansi pin different majors). */
function installedStringWidths(): string[] {
  const found: string[] = [];
  const visit = (modules: string, depth: number) => {
    if (!existsSync(modules) || depth > 3) return;
    for (const name of readdirSync(modules)) {
      const dir = path.join(modules, name);
      if (name.startsWith('@')) visit(dir, depth);
      else if (name === 'string-width') found.push(path.join(dir, 'index.js'));
      visit(path.join(dir, 'node_modules'), depth + 1);
    }
  };
  visit(path.join(REPO_ROOT, 'node_modules'), 0);
  return found;
}

const narrow = new RegExp(`^[${NARROW_TEXT_CLASS}]$`);
const narrowCharacters = Array.from({ length: 0x10000 }, (_, code) => String.fromCharCode(code)).filter((c) =>
  narrow.test(c),
);

describe('string-width and the narrow text of the client bundle', () => {
  const files = installedStringWidths();

  it('finds the installed string-width packages', () => {
    expect(files.length).toBeGreaterThanOrEqual(1);
    // ASCII printable, Latin-1's 64 letters (and × ÷), 128 box-drawing characters and three more.
    expect(narrowCharacters).toHaveLength(95 + 64 + 128 + 3);
  });

  it.each(files.map((f) => [path.relative(REPO_ROOT, f), f]))(
    '%s gives every narrow character one column, alone and in a line',
    async (_name, file) => {
      const stringWidth = (await import(pathToFileURL(file).href)).default as StringWidth;
      const wide = narrowCharacters.filter((c) => stringWidth(c) !== 1);
      expect(wide).toEqual([]);
      const line = `│ alice  │ héllo… — ↳ reply ${narrowCharacters.join('')} ┌─┐└─┘`;
      expect(stringWidth(line)).toBe(line.length);
      // Asked to count ambiguous characters as wide, box drawing is wide: the bundle leaves that
      // case to string-width itself.
      expect(stringWidth('│', { ambiguousIsNarrow: false })).toBe(2);
    },
  );

  const bundles = mkdtempSync(path.join(tmpdir(), 'teamchat-string-width-'));
  afterAll(() => rmSync(bundles, { recursive: true, force: true }));

  it.each(files.map((f, i) => [path.relative(REPO_ROOT, f), f, i] as const))(
    '%s through the plugin measures like the original',
    async (_name, file, i) => {
      const original = (await import(pathToFileURL(file).href)).default as StringWidth;
      const patched = (await importBundled(file, narrowTextWidth, bundles, `string-width-${i}`)).default as StringWidth;
      const samples = [
        '',
        'plain ascii',
        '│ alice  │ hello there ─┐',
        '\u001b[1m│ bold\u001b[22m and \u001b[38;5;33mcoloured\u001b[39m │',
        'Grüße, José — déjà vu…',
        'thumbs 👍 up 🎉',
        '日本語のテキスト │',
        'e\u0301 combining, zero\u200bwidth',
        '👨‍👩‍👧 family',
        'tab\there',
        '│'.repeat(50),
      ];
      for (const text of samples) {
        expect(patched(text), JSON.stringify(text)).toBe(original(text));
        expect(patched(text, { ambiguousIsNarrow: false }), JSON.stringify(text)).toBe(
          original(text, { ambiguousIsNarrow: false }),
        );
      }
    },
  );
});
