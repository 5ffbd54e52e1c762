/**
 * An esbuild plugin for the terminal client's bundle (bundle-tui.mjs): string-width without its
 * start-up cost for the text the client's screen is made of.
 */
import { readFileSync } from 'node:fs';

/**
 * Characters the terminal client's screen is made of besides printable ASCII: box drawing (the
 * sidebar and user list borders), the — … ↳ of its text, and the accented letters of Latin-1
 * (names and words in European languages). Each is one column wide in
 * string-width unless ambiguous-width characters are asked to be wide; the plugin below measures
 * text made only of them by its length; test/string-width-narrow.test.ts checks the premise
 * against every installed string-width, and the plugin's output against the original.
 */
export const NARROW_TEXT_CLASS = String.raw`\u0020-\u007E\u00C0-\u00FF\u2500-\u257F\u2014\u2026\u21B3`;

/**
 * string-width measures any text with a non-ASCII character grapheme by grapheme: an
 * Intl.Segmenter and regular expressions with the v flag (emoji, marks), all built when the module
 * loads (esbuild turns those literals into `new RegExp` calls for node20) and ~75 ms of first use
 * on this machine, then 0.2-0.5 ms a line. Every line of the client's screen has a box border, and
 * Ink measures each line several times a frame: ~70 ms of the client's start-up in all (issue
 * #10: the full UI in 0.5 s). In the bundle, string-width answers text made only of the
 * characters of NARROW_TEXT_CLASS by its length, as its own fast path does for ASCII, and builds
 * the original (its module body, run once) for the first text that needs it.
 */
export const narrowTextWidth = {
  name: 'string-width-narrow-text',
  setup(build) {
    build.onLoad({ filter: /[\\/]string-width[\\/]index\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const exported = 'export default function stringWidth(';
      const lines = source.split('\n');
      const imports = lines.filter((line) => line.startsWith('import '));
      const body = lines.filter((line) => !line.startsWith('import ')).join('\n');
      if (
        !body.includes(exported) ||
        !imports.includes("import stripAnsi from 'strip-ansi';") ||
        /^(export|import)\b/m.test(body.replace(exported, ''))
      ) {
        return { contents: source, warnings: [{ text: 'string-width changed: no fast path for box drawing' }] };
      }
      const contents = `${imports.join('\n')}
let teamchatStringWidthBySegments;
function teamchatLoadStringWidth() {
${body.replace(exported, 'function stringWidth(')}
return stringWidth;
}
const teamchatNarrowText = /^[${NARROW_TEXT_CLASS}]*$/;
export default function stringWidth(string, options = {}) {
	if (typeof string === 'string' && !options.countAnsiEscapeCodes && (options.ambiguousIsNarrow ?? true)) {
		const plain = string.includes('\\u001B') || string.includes('\\u009B') ? stripAnsi(string) : string;
		if (teamchatNarrowText.test(plain)) return plain.length;
	}
	teamchatStringWidthBySegments ??= teamchatLoadStringWidth();
	return teamchatStringWidthBySegments(string, options);
}
`;
      return { contents };
    });
  },
};
