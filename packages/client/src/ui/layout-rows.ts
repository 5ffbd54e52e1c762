/**
 * Turns scrollback lines into screen rows: time, nick and text, wrapped to the pane width with
 * a hanging indent. Only the rows on screen are computed (walking back from the bottom line),
 * and each line's rows are cached per width, so a long scrollback costs nothing per frame.
 *
 * @example
 * const rows = visibleRows(lines, { width: 80, height: 20, bottom: lines.length - 1, self: 'alice' });
 */
import type { Line } from '../state/scrollback.js';
import { nickColor } from '../state/nick-color.js';

export interface Segment {
  text: string;
  /** A theme colour token (`nick:3`, `error`, ...), resolved when painted. */
  color?: string;
  dim?: boolean;
  bold?: boolean;
  italic?: boolean;
  inverse?: boolean;
}

export type Row = Segment[];

/** Splits text into pieces of at most `width` characters, breaking at spaces when it can. */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    const chars = [...para];
    if (chars.length <= w) {
      out.push(para);
      continue;
    }
    let i = 0;
    while (i < chars.length) {
      if (chars.length - i <= w) {
        out.push(chars.slice(i).join(''));
        break;
      }
      let cut = i + w;
      let j = cut;
      while (j > i && chars[j] !== ' ') j--;
      if (j > i) cut = j;
      out.push(chars.slice(i, cut).join(''));
      i = cut;
      while (chars[i] === ' ') i++;
    }
  }
  return out;
}

function hhmm(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** The nick of a message: its colour (none for your own: bold in the default colour), inverse when it mentions you. */
function nickSegment(line: Line, self: string, italic: boolean): Segment {
  const nick = line.nick ?? '?';
  const color = nickColor(nick, self);
  return { text: nick, bold: true, ...(color ? { color } : {}), ...(italic ? { italic: true } : {}), ...(line.mention ? { inverse: true } : {}) };
}

const cache = new WeakMap<Line, { width: number; self: string; rows: Row[] }>();

/** The rows of one line at a given width. */
export function lineRows(line: Line, width: number, self: string): Row[] {
  const hit = cache.get(line);
  if (hit && hit.width === width && hit.self === self) return hit.rows;
  const time: Segment = { text: `${hhmm(line.ts)} `, dim: true };
  let head: Segment[];
  let body: Segment;
  switch (line.kind) {
    case 'message': {
      // A mention stands out without colour too: the sender's nick in inverse, the text bold.
      head = [time, { text: '<', dim: true }, nickSegment(line, self, false), { text: '> ', dim: true }];
      body = line.mention ? { text: line.text, bold: true } : { text: line.text };
      break;
    }
    case 'action': {
      head = [time, { text: ' * ', bold: true }, nickSegment(line, self, true), { text: ' ' }];
      body = { text: line.text, italic: true, ...(line.mention ? { bold: true } : {}) };
      break;
    }
    case 'notice':
      head = [time, { text: '-!- ', dim: true }];
      body = { text: line.text, dim: true };
      break;
    case 'error':
      head = [time, { text: '-!- ', color: 'error', bold: true }];
      body = { text: line.text, color: 'error' };
      break;
  }
  const headWidth = head.reduce((n, s) => n + [...s.text].length, 0);
  const indent = headWidth < width / 2 ? headWidth : 2;
  const firstWidth = Math.max(1, width - headWidth);
  const restWidth = Math.max(1, width - indent);
  const pieces = wrapText(body.text, firstWidth);
  const rows: Row[] = [];
  if (pieces.length <= 1 || headWidth >= width / 2) {
    if (headWidth < width / 2) {
      rows.push([...head, { ...body, text: pieces[0] ?? '' }]);
    } else {
      rows.push(head);
      for (const p of wrapText(body.text, restWidth)) rows.push([{ text: ' '.repeat(indent) }, { ...body, text: p }]);
    }
  } else {
    rows.push([...head, { ...body, text: pieces[0]! }]);
    const rest = pieces.slice(1).join(' ');
    for (const p of wrapText(rest, restWidth)) rows.push([{ text: ' '.repeat(indent) }, { ...body, text: p }]);
  }
  cache.set(line, { width, self, rows });
  return rows;
}

export interface VisibleOptions {
  width: number;
  height: number;
  /** Index of the bottom line on screen. */
  bottom: number;
  self: string;
}

/** The last `height` rows ending with line `bottom` (fewer when the scrollback is short). */
export function visibleRows(lines: readonly Line[], o: VisibleOptions): Row[] {
  const collected: Row[][] = [];
  let count = 0;
  for (let i = Math.min(o.bottom, lines.length - 1); i >= 0 && count < o.height; i--) {
    const rows = lineRows(lines[i]!, o.width, o.self);
    collected.push(rows);
    count += rows.length;
  }
  const out: Row[] = [];
  for (let k = collected.length - 1; k >= 0; k--) out.push(...collected[k]!);
  return out.slice(Math.max(0, out.length - o.height));
}

/**
 * The bottom line index after scrolling up one page of `rows` rows from `bottom`; `atTop` when
 * the first line is on screen (time to fetch an older page).
 */
export function pageUp(lines: readonly Line[], bottom: number, rows: number, width: number, self: string): { bottom: number; atTop: boolean } {
  let i = Math.min(bottom, lines.length - 1);
  let used = 0;
  while (i > 0 && used < rows) {
    used += lineRows(lines[i]!, width, self).length;
    i--;
  }
  // Is the whole screen above i filled? If not, we are at the top.
  let above = 0;
  for (let k = i; k >= 0 && above < rows; k--) above += lineRows(lines[k]!, width, self).length;
  if (above < rows) {
    // Show the first page.
    let j = 0;
    let filled = 0;
    while (j < lines.length && filled + lineRows(lines[j]!, width, self).length <= rows) filled += lineRows(lines[j++]!, width, self).length;
    return { bottom: Math.max(0, Math.min(lines.length - 1, j - 1)), atTop: true };
  }
  return { bottom: Math.max(0, i), atTop: false };
}

/** The bottom line index after scrolling down one page; null when back at the end (following new lines). */
export function pageDown(lines: readonly Line[], bottom: number, rows: number, width: number, self: string): number | null {
  let i = bottom;
  let used = 0;
  while (i < lines.length - 1 && used < rows) {
    i++;
    used += lineRows(lines[i]!, width, self).length;
  }
  return i >= lines.length - 1 ? null : i;
}
