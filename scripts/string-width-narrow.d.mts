/** Types for string-width-narrow.mjs (imported by test/string-width-narrow.test.ts). */
import type { Plugin } from 'esbuild';
export declare const NARROW_TEXT_CLASS: string;
export declare const narrowTextWidth: Plugin;
