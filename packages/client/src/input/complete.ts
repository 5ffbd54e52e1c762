/**
 * Tab completion of the word before the cursor: slash commands at the start of the line, nicks
 * elsewhere (a nick completed at the start of the line gets `: `). Pure.
 *
 * @example
 * completions('/jo', 3, { commands: ['join'], nicks: [] }) // ['/join ']
 * applyCompletion('hi bo', 5, 'bob ') // { line: 'hi bob ', cursor: 7 }
 */
export interface CompletionSources {
  commands: readonly string[];
  nicks: readonly string[];
}

/** The word being completed: from `start` to the cursor. */
export function wordBefore(line: string, cursor: number): { start: number; word: string } {
  let start = cursor;
  while (start > 0 && !/\s/.test(line[start - 1])) start--;
  return { start, word: line.slice(start, cursor) };
}

/** Candidate replacements for the word before the cursor, in a stable order. */
export function completions(line: string, cursor: number, sources: CompletionSources): string[] {
  const { start, word } = wordBefore(line, cursor);
  if (start === 0 && word.startsWith('/')) {
    const prefix = word.slice(1).toLowerCase();
    return [...new Set(sources.commands)]
      .filter((c) => c.startsWith(prefix))
      .sort()
      .map((c) => `/${c} `);
  }
  const prefix = word.replace(/^@/, '').toLowerCase();
  if (prefix === '' && word !== '@') return [];
  const at = word.startsWith('@') ? '@' : '';
  const suffix = start === 0 ? ': ' : ' ';
  return [...new Set(sources.nicks)]
    .filter((n) => n.toLowerCase().startsWith(prefix))
    .sort((a, b) => a.localeCompare(b))
    .map((n) => `${at}${n}${suffix}`);
}

/** Replaces the word before the cursor with `replacement`. */
export function applyCompletion(line: string, cursor: number, replacement: string): { line: string; cursor: number } {
  const { start } = wordBefore(line, cursor);
  const rest = line.slice(cursor);
  const rep = rest.startsWith(' ') && replacement.endsWith(' ') ? replacement.trimEnd() : replacement;
  return { line: line.slice(0, start) + rep + rest, cursor: start + rep.length };
}
