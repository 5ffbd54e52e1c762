/** Types for ansi-diff-shortcut.mjs (imported by test/ansi-diff-shortcut.test.ts). */
import type { Plugin } from 'esbuild';
export declare const ansiDiffShortcut: Plugin;
