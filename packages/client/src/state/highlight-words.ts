/**
 * Highlight words as the client handles them: the server keeps the list per person (the
 * `highlights` frame), so a message naming one counts as a mention on every device and while you
 * are offline. These pure helpers compute a new list from `/highlight add|remove|clear`, merge the
 * words given on the command line (`--highlight`) into the server's list at login, and describe a
 * list for the user.
 *
 * @example
 * changeHighlightWords(['deploy'], { op: 'add', words: ['OnCall'] }) // ['deploy', 'oncall']
 * mergeHighlightWords(['deploy'], ['deploy', 'release']) // ['deploy', 'release']
 */
import { HIGHLIGHT_WORD_PATTERN, HIGHLIGHT_WORDS_MAX } from '@teamchat/protocol';

/** A change typed as `/highlight add|remove|clear`. */
export type HighlightChange = { op: 'add' | 'remove'; words: string[] } | { op: 'clear' };

/** Valid words, lower-case, without repeats, in order. */
function clean(words: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const word = w.trim().toLowerCase();
    if (HIGHLIGHT_WORD_PATTERN.test(word) && !out.includes(word)) out.push(word);
  }
  return out;
}

/** The list after a change (not capped: the server refuses more than HIGHLIGHT_WORDS_MAX, with its code). */
export function changeHighlightWords(current: readonly string[], change: HighlightChange): string[] {
  switch (change.op) {
    case 'clear':
      return [];
    case 'add':
      return clean([...current, ...change.words]);
    case 'remove': {
      const gone = new Set(clean(change.words));
      return clean(current).filter((w) => !gone.has(w));
    }
  }
}

/**
 * The server's list with the command line's words added (what a login adopts), capped at
 * HIGHLIGHT_WORDS_MAX: the server's words come first.
 */
export function mergeHighlightWords(server: readonly string[], local: readonly string[]): string[] {
  return clean([...server, ...local]).slice(0, HIGHLIGHT_WORDS_MAX);
}

/** `deploy, oncall`, or a hint when there are none. */
export function highlightList(words: readonly string[]): string {
  return words.length === 0 ? 'none (/highlight add <word> adds one)' : words.join(', ');
}
