/**
 * An esbuild plugin for the terminal client's bundle (bundle-tui.mjs): a shortcut in the ANSI
 * style diff Ink runs between every two neighbouring cells of the screen.
 *
 * Ink turns each frame into styled cells and back into text with @alcalzone/ansi-tokenize, whose
 * `diffAnsiCodes(from, to)` builds three Sets and four arrays per cell, even when both cells have
 * the same style, as nearly all neighbours do. For a 120x40 screen that is ~5,000 calls a frame:
 * ~45 ms of the client's first frames and a third of their garbage collection (issue #10: the full
 * UI in 0.5 s). Two style lists with the same codes in the same order differ by nothing: the
 * function's result depends only on the `code` and `endCode` of each entry, and for equal lists
 * every entry of `from` is kept and none of `to` is added, so it is empty. The bundle answers that
 * case at once and leaves every other to the original (test/ansi-diff-shortcut.test.ts compares
 * the two).
 */
import { readFileSync } from 'node:fs';

export const ansiDiffShortcut = {
  name: 'ansi-diff-shortcut',
  setup(build) {
    build.onLoad({ filter: /[\\/]@alcalzone[\\/]ansi-tokenize[\\/]build[\\/]diff\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const exported = 'export function diffAnsiCodes(from, to) {';
      if (!source.includes(exported)) {
        return {
          contents: source,
          warnings: [{ text: '@alcalzone/ansi-tokenize changed: no shortcut for equal styles' }],
        };
      }
      const shortcut = `${exported}
    if (from.length === to.length && from.every((code, i) => code.code === to[i].code && code.endCode === to[i].endCode)) {
        return [];
    }`;
      return { contents: source.replace(exported, shortcut) };
    });
  },
};
