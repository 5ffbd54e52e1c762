/**
 * Whether a text mentions a nick: the nick as a whole word, case-insensitively
 * (`alice:`, `@alice`, `hi Alice!` — not `malice`).
 *
 * @example
 * mentions('ping @alice', 'alice') // true
 */
export function mentions(text: string, nick: string): boolean {
  if (nick === '') return false;
  const escaped = nick.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_-])${escaped}($|[^A-Za-z0-9_-])`, 'i').test(text);
}
