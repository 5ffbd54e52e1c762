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
  return {
    text: nick,
    bold: true,
    ...(color ? { color } : {}),
    ...(italic ? { italic: true } : {}),
    ...(line.mention ? { inverse: true } : {}),
  };
}

const cache = new WeakMap<Line, { width: number; self: string; ids: boolean; rows: Row[] }>();

/** Cuts a text to `width` characters, with an ellipsis when cut. */
function cut(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : chars.slice(0, Math.max(0, width - 1)).join('') + '…';
}

/** The segments of a text with highlighted [start, end) ranges (search matches, mentions). */
function highlighted(text: string, ranges: ReadonlyArray<readonly [number, number]>): Segment[] {
  const out: Segment[] = [];
  let at = 0;
  for (const [start, end] of [...ranges].sort((a, b) => a[0] - b[0])) {
    const s = Math.max(at, Math.min(start, text.length));
    const e = Math.max(s, Math.min(end, text.length));
    if (s > at) out.push({ text: text.slice(at, s) });
    if (e > s) out.push({ text: text.slice(s, e), bold: true, color: 'warn', inverse: true });
    at = e;
  }
  if (at < text.length) out.push({ text: text.slice(at) });
  return out;
}

/** Wraps segments to rows of `first` then `rest` characters (the rest indented by `indent`). */
function wrapSegments(head: Segment[], body: Segment[], width: number): Row[] {
  const headWidth = head.reduce((n, s) => n + [...s.text].length, 0);
  const indent = headWidth < width / 2 ? headWidth : 2;
  const rows: Row[] = [];
  let row: Segment[] = headWidth < width / 2 ? [...head] : [];
  if (row.length === 0) rows.push(head);
  let free = row.length > 0 ? Math.max(1, width - headWidth) : Math.max(1, width - indent);
  if (row.length === 0) row = [{ text: ' '.repeat(indent) }];
  // Lay the body out word by word (breaking a word longer than a row), keeping each segment's style.
  for (const seg of body) {
    let chars = [...seg.text];
    while (chars.length > 0) {
      if (chars.length <= free) {
        row.push({ ...seg, text: chars.join('') });
        free -= chars.length;
        chars = [];
        break;
      }
      let cutAt = free;
      while (cutAt > 0 && chars[cutAt] !== ' ') cutAt--;
      if (cutAt === 0) cutAt = free;
      // A word that would fit on the next row moves there whole when the row already has text.
      const piece = chars.slice(0, cutAt).join('');
      if (piece !== '') row.push({ ...seg, text: piece });
      rows.push(row);
      chars = chars.slice(cutAt);
      while (chars[0] === ' ') chars.shift();
      row = [{ text: ' '.repeat(indent) }];
      free = Math.max(1, width - indent);
    }
  }
  rows.push(row);
  return rows;
}

/** The rows of one line at a given width (`ids`: with the message id before the nick). */
export function lineRows(line: Line, width: number, self: string, ids = false): Row[] {
  const hit = cache.get(line);
  if (hit && hit.width === width && hit.self === self && hit.ids === ids) return hit.rows;
  const time: Segment = { text: `${hhmm(line.ts)} `, dim: true };
  const idSeg: Segment[] = ids && line.id !== undefined ? [{ text: `#${line.id} `, dim: true }] : [];
  let head: Segment[];
  let body: Segment[];
  switch (line.kind) {
    case 'message': {
      // A mention stands out without colour too: the sender's nick in inverse, the text bold.
      head = [time, ...idSeg, { text: '<', dim: true }, nickSegment(line, self, false), { text: '> ', dim: true }];
      body = line.deleted
        ? [{ text: '(message deleted)', dim: true, italic: true }]
        : [line.mention ? { text: line.text, bold: true } : { text: line.text }];
      break;
    }
    case 'action': {
      head = [time, ...idSeg, { text: ' * ', bold: true }, nickSegment(line, self, true), { text: ' ' }];
      body = line.deleted
        ? [{ text: '(message deleted)', dim: true, italic: true }]
        : [{ text: line.text, italic: true, ...(line.mention ? { bold: true } : {}) }];
      break;
    }
    case 'notice':
      head = [time, { text: '-!- ', dim: true }];
      body = [{ text: line.text, dim: true }];
      break;
    case 'error':
      head = [time, { text: '-!- ', color: 'error', bold: true }];
      body = [{ text: line.text, color: 'error' }];
      break;
    case 'marker': {
      const label = ` ${line.text} `;
      const side = Math.max(2, Math.floor((width - [...label].length) / 2));
      const rows: Row[] = [[{ text: cut(`${'─'.repeat(side)}${label}${'─'.repeat(side)}`, width), color: 'error' }]];
      cache.set(line, { width, self, ids, rows });
      return rows;
    }
    case 'hit': {
      const nick = line.nick ?? '?';
      const color = nickColor(nick, self);
      head = [
        { text: `[${line.index ?? '?'}] `, bold: true },
        { text: `${line.where ?? ''} `, color: 'pm' },
        { text: `${hhmm(line.ts)} `, dim: true },
        { text: '<', dim: true },
        { text: nick, bold: true, ...(color ? { color } : {}) },
        { text: '> ', dim: true },
      ];
      body = highlighted(line.text, line.highlights ?? []);
      break;
    }
  }
  if (line.edited && !line.deleted) body = [...body, { text: ' (edited)', dim: true }];
  const rows = wrapSegments(head, body, width);
  if (line.quote !== undefined && line.replyTo !== undefined) {
    const q = line.quote;
    const text =
      q === null ? `↳ reply to #${line.replyTo}` : `↳ ${q.nick}: ${q.deleted ? '(message deleted)' : q.text}`;
    rows.unshift([{ text: '      ' }, { text: cut(text, Math.max(1, width - 6)), dim: true, italic: true }]);
  }
  if (line.reactions && !line.deleted) {
    const text = Object.entries(line.reactions)
      .map(([emoji, who]) => `${emoji} ${who.length}`)
      .join('  ');
    rows.push([{ text: '      ' }, { text: cut(text, Math.max(1, width - 6)), dim: true }]);
  }
  cache.set(line, { width, self, ids, rows });
  return rows;
}

/** The rows of a line shown as selected or jumped to: inverse. */
const marked = new WeakMap<Row[], Row[]>();
function markedRows(rows: Row[]): Row[] {
  let out = marked.get(rows);
  if (!out) {
    out = rows.map((r) => r.map((s) => ({ ...s, inverse: !s.inverse })));
    marked.set(rows, out);
  }
  return out;
}

export interface VisibleOptions {
  width: number;
  height: number;
  /** Index of the bottom line on screen. */
  bottom: number;
  self: string;
  /** Show message ids (`/ids`). */
  ids?: boolean;
  /** The seq of a line shown marked (the selected result, the message jumped to). */
  markSeq?: number | null;
}

/** The last `height` rows ending with line `bottom` (fewer when the scrollback is short). */
export function visibleRows(lines: readonly Line[], o: VisibleOptions): Row[] {
  const collected: Row[][] = [];
  let count = 0;
  for (let i = Math.min(o.bottom, lines.length - 1); i >= 0 && count < o.height; i--) {
    const line = lines[i];
    const rows = lineRows(line, o.width, o.self, o.ids);
    collected.push(o.markSeq !== undefined && o.markSeq !== null && line.seq === o.markSeq ? markedRows(rows) : rows);
    count += rows.length;
  }
  const out: Row[] = [];
  for (let k = collected.length - 1; k >= 0; k--) out.push(...collected[k]);
  return out.slice(Math.max(0, out.length - o.height));
}

/** The index of the top line on screen (shown at least in part) when line `bottom` is the bottom one of `rows` rows. */
export function topIndex(
  lines: readonly Line[],
  bottom: number,
  rows: number,
  width: number,
  self: string,
  ids = false,
): number {
  let i = Math.min(bottom, lines.length - 1);
  let used = 0;
  while (i >= 0) {
    used += lineRows(lines[i], width, self, ids).length;
    if (used >= rows || i === 0) break;
    i--;
  }
  return Math.max(0, i);
}

/**
 * The bottom line index after scrolling up one page of `rows` rows from `bottom`; `atTop` when
 * the first line is on screen (time to fetch an older page).
 */
export function pageUp(
  lines: readonly Line[],
  bottom: number,
  rows: number,
  width: number,
  self: string,
  ids = false,
): { bottom: number; atTop: boolean } {
  let i = Math.min(bottom, lines.length - 1);
  let used = 0;
  while (i > 0 && used < rows) {
    used += lineRows(lines[i], width, self, ids).length;
    i--;
  }
  // Is the whole screen above i filled? If not, we are at the top.
  let above = 0;
  for (let k = i; k >= 0 && above < rows; k--) above += lineRows(lines[k], width, self, ids).length;
  if (above < rows) {
    // Show the first page.
    let j = 0;
    let filled = 0;
    while (j < lines.length && filled + lineRows(lines[j], width, self, ids).length <= rows)
      filled += lineRows(lines[j++], width, self, ids).length;
    return { bottom: Math.max(0, Math.min(lines.length - 1, j - 1)), atTop: true };
  }
  return { bottom: Math.max(0, i), atTop: false };
}

/** The bottom line index after scrolling down one page; null when back at the end (following new lines). */
export function pageDown(
  lines: readonly Line[],
  bottom: number,
  rows: number,
  width: number,
  self: string,
  ids = false,
): number | null {
  let i = bottom;
  let used = 0;
  while (i < lines.length - 1 && used < rows) {
    i++;
    used += lineRows(lines[i], width, self, ids).length;
  }
  return i >= lines.length - 1 ? null : i;
}
