/**
 * The two labels that stand for several rooms in snapshots, `/metrics`, `/api/metrics`, CSV and the
 * live feed. Room names are 1-32 of `a-z 0-9 _ . -` (protocol), so a label in parentheses can never
 * be a room's own name.
 */

/** Keyed (+k) and invite-only (+i) rooms, summed: they are never named in public output. */
export const PRIVATE_ROOMS = '(private)';

/** Public rooms beyond the per-snapshot (or per-answer) cap, summed. */
export const OTHER_ROOMS = '(other)';

/**
 * @example
 * isAggregateLabel('(other)') // true
 * isAggregateLabel('general') // false
 */
export function isAggregateLabel(name: string): boolean {
  return name === PRIVATE_ROOMS || name === OTHER_ROOMS;
}
