/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The messages of the current window: time, colour-coded nick (your own bold in the default
 * colour), text; a line that mentions you has the nick in inverse and the text bold; notices
 * dimmed, errors in the error colour, `/me` actions in italics, long lines wrapped. When
 * scrolled up, the last row says how many lines are below.
 *
 * @example
 * <MessagePane lines={w.scrollback.lines} rev={w.rev} self="alice" width={60} height={20} bottom={null} />
 */
import { Box, Text } from 'ink';
import chalk, { type ChalkInstance } from 'chalk';
import { memo } from 'react';
import type { Line } from '../state/scrollback.js';
import { visibleRows, type Row } from './layout-rows.js';
import { useTheme, type Theme } from './theme-context.js';

export interface MessagePaneProps {
  lines: readonly Line[];
  /** Changes when lines change (the array itself is appended in place). */
  rev: number;
  self: string;
  width: number;
  height: number;
  /** Index of the bottom line on screen; null follows the newest line. */
  bottom: number | null;
  loadingOlder?: boolean;
  /** Messages of a gap on screen are being fetched (shown at the bottom). */
  loadingGap?: boolean;
  /** Show message ids (`/ids`). */
  ids?: boolean;
  /** The seq of the line shown marked (inverse): the selected result, the message jumped to. */
  markSeq?: number | null;
}

const painted = new WeakMap<Row, { theme: Theme; text: string }>();

/** chalk for an Ink colour string (`ansi256(n)`, `#rrggbb` or a name). */
function colored(style: ChalkInstance, color: string): ChalkInstance {
  const ansi = /^ansi256\((\d+)\)$/.exec(color);
  if (ansi) return style.ansi256(Number(ansi[1]));
  if (color.startsWith('#')) return style.hex(color);
  return (style as unknown as Record<string, ChalkInstance>)[color] ?? style;
}

/** A row as one ANSI string (one Ink node per row instead of one per segment: cheaper layout). */
export function paintRow(row: Row, theme: Theme): string {
  const hit = painted.get(row);
  if (hit && hit.theme === theme) return hit.text;
  let text = '';
  for (const s of row) {
    let style = chalk;
    const color = theme.color(s.color);
    if (color) style = colored(style, color);
    if (s.bold) style = style.bold;
    if (s.dim) style = style.dim;
    if (s.italic) style = style.italic;
    if (s.inverse) style = style.inverse;
    text += style === chalk ? s.text : style(s.text);
  }
  painted.set(row, { theme, text });
  return text;
}

function RowText({ row }: { row: Row }) {
  const theme = useTheme();
  return <Text wrap="truncate">{paintRow(row, theme)}</Text>;
}

function MessagePaneView({
  lines,
  self,
  width,
  height,
  bottom,
  loadingOlder,
  loadingGap,
  ids = false,
  markSeq = null,
}: MessagePaneProps) {
  const scrolled = bottom !== null && bottom < lines.length - 1;
  const below = scrolled ? lines.length - 1 - bottom : 0;
  const extra = (scrolled ? 1 : 0) + (loadingOlder ? 1 : 0) + (loadingGap ? 1 : 0);
  const rows = visibleRows(lines, {
    width,
    height: Math.max(1, height - extra),
    bottom: bottom ?? lines.length - 1,
    self,
    ids,
    markSeq,
  });
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {loadingOlder ? <Text dimColor>-- loading older messages --</Text> : null}
      {height - extra - rows.length > 0 ? <Box height={height - extra - rows.length} /> : null}
      {rows.map((row, i) => (
        <RowText key={i} row={row} />
      ))}
      {loadingGap ? <Text dimColor>-- loading missing messages --</Text> : null}
      {scrolled ? (
        <Text inverse bold wrap="truncate">
          {` -- ${below} more line${below === 1 ? '' : 's'} below (PgDn) -- `}
        </Text>
      ) : null}
    </Box>
  );
}

export const MessagePane = memo(MessagePaneView);
