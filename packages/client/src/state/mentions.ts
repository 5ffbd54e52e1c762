/**
 * Whether a text mentions you: your nick as a whole word, case-insensitively (`alice:`,
 * `@alice`, `hi Alice!`, not `malice`), a room-wide `@room` / `@all` / `@here` (as the server
 * counts mentions), or one of your extra highlight words (`--highlight deploy,oncall`).
 *
 * @example
 * mentions('ping @alice', 'alice') // true
 * mentions('@here standup', 'alice') // true
 * mentions('the deploy broke', 'alice', ['deploy']) // true
 */
const WORD = 'A-Za-z0-9_-';

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

const cache = new Map<string, RegExp | null>();

/** One regex for a nick and its highlight words (global: for ranges too). */
function pattern(nick: string, words: readonly string[]): RegExp | null {
  const key = `${nick}\u0000${words.join('\u0000')}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const alts = [nick, ...words].filter((w) => w.trim() !== '').map((w) => `(?:${escape(w.trim())})`);
  const re =
    alts.length === 0 ? null : new RegExp(`(^|[^${WORD}])(${alts.join('|')}|@room|@all|@here)(?=$|[^${WORD}])`, 'gi');
  if (cache.size > 50) cache.clear();
  cache.set(key, re);
  return re;
}

export function mentions(text: string, nick: string, words: readonly string[] = []): boolean {
  if (nick === '' && words.length === 0) return false;
  const re = pattern(nick, words);
  if (!re) return false;
  re.lastIndex = 0;
  return re.test(text);
}

/** The [start, end) ranges of `text` that mention you (for highlighting). */
export function mentionRanges(text: string, nick: string, words: readonly string[] = []): Array<[number, number]> {
  const re = pattern(nick, words);
  if (!re) return [];
  re.lastIndex = 0;
  const out: Array<[number, number]> = [];
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = m.index + m[1].length;
    out.push([start, start + m[2].length]);
    if (m[0].length === 0) re.lastIndex++;
  }
  return out;
}
