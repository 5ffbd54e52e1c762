/**
 * Gaps in a window's scrollback: after a jump into older history (a search result, a mention)
 * the page around the message and the newest lines are held, but not what lies between. A gap
 * line (`Line.gap`) stands for those messages. When the user scrolls to it they are fetched a
 * bounded page at a time from the side the user comes from, until the scrollback is continuous:
 *
 * - `after`: the user reads downward and the gap is the bottom line on screen: the oldest
 *   missing messages (`history {after, before}`), shown below what is on screen.
 * - `before`: the user scrolls up from the newer messages: the newest missing ones
 *   (`history {before}`), shown right above what is on screen.
 *
 * @example
 * const gap = gapAt(w.scrollback.lines, seq);
 * const frame = gap && gapRequest(w, gap, 'after', GAP_PAGE);
 */
import type { HistoryFrame, PmHistoryFrame } from '@teamchat/protocol';
import type { ChatWindow } from './chat-state.js';
import type { Line } from './scrollback.js';

/** Messages fetched per page when filling a gap. */
export const GAP_PAGE = 50;

/** Which side of a gap a page is fetched from. */
export type GapSide = 'after' | 'before';

/** A gap line and the ids around it (null: no message on that side). */
export interface Gap {
  seq: number;
  /** The newest message held before the gap. */
  after: number | null;
  /** The oldest message held after the gap. */
  before: number | null;
}

/** The gap whose line has this seq, with the message ids that bound it; null when there is none. */
export function gapAt(lines: readonly Line[], seq: number): Gap | null {
  const i = lines.findIndex((l) => l.seq === seq && l.gap === true);
  if (i < 0) return null;
  let after: number | null = null;
  let before: number | null = null;
  for (let k = i - 1; k >= 0 && after === null; k--) after = lines[k].id ?? null;
  for (let k = i + 1; k < lines.length && before === null; k++) before = lines[k].id ?? null;
  return { seq, after, before };
}

/**
 * The side to fill a gap at line index `gapIndex` from, given the bottom line on screen: from
 * the older side when the gap is the bottom line (the user reads down to it), else from the newer
 * side (it is above the bottom: the user scrolls up to it). Either way the new lines land off
 * screen or right above the bottom, so what the user reads does not move.
 */
export function gapSide(gapIndex: number, bottomIndex: number): GapSide {
  return gapIndex >= bottomIndex ? 'after' : 'before';
}

/** The history request that fetches one page of a gap in a room or private conversation, or null. */
export function gapRequest(
  w: ChatWindow,
  gap: Gap,
  side: GapSide,
  limit = GAP_PAGE,
): HistoryFrame | PmHistoryFrame | null {
  let bounds: { after?: number; before?: number };
  if (side === 'after') {
    if (gap.after === null) return null;
    bounds = { after: gap.after, ...(gap.before !== null ? { before: gap.before } : {}) };
  } else {
    if (gap.before === null) return null;
    bounds = { before: gap.before };
  }
  if (w.kind === 'room') return { type: 'history', room: w.name, limit, ...bounds };
  if (w.kind === 'pm') return { type: 'pm-history', with: w.name, limit, ...bounds };
  return null;
}

/**
 * A page of a gap arrived (its messages already added). From the older side it moves the gap
 * line after the page, or removes it when the page reached the newer messages; from the newer
 * side the gap line stays where it is (the page went in after it), unless the page reached the
 * older messages. Returns whether the gap is closed.
 */
export function gapPageArrived(
  w: ChatWindow,
  gap: Gap,
  side: GapSide,
  messages: ReadonlyArray<{ id: number }>,
  more: boolean,
): boolean {
  const first = messages[0];
  const last = messages.at(-1);
  const line = w.scrollback.lines.find((l) => l.seq === gap.seq && l.gap === true);
  if (!line) return true;
  if (side === 'after') {
    w.scrollback.removeAt(gap.seq);
    if (!more || !last) return true;
    w.scrollback.add({ ...line, seq: last.id + 0.75 });
    return false;
  }
  const closed = !more || !first || (gap.after !== null && first.id <= gap.after);
  if (closed) w.scrollback.removeAt(gap.seq);
  return closed;
}
