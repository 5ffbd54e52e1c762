/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The messages of the current window: time, colour-coded nick, text; notices dimmed, `/me`
 * actions in italics, long lines wrapped. When scrolled up, the last row says how many lines
 * are below.
 *
 * @example
 * <MessagePane lines={w.scrollback.lines} rev={w.rev} self="alice" width={60} height={20} bottom={null} />
 */
import { Box, Text } from 'ink';
import { memo } from 'react';
import type { Line } from '../state/scrollback.js';
import { visibleRows, type Row } from './layout-rows.js';
import { useTheme } from './theme-context.js';

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
}

function RowText({ row }: { row: Row }) {
  const { color } = useTheme();
  return (
    <Text wrap="truncate">
      {row.map((s, i) => (
        <Text key={i} color={color(s.color)} dimColor={s.dim} bold={s.bold} italic={s.italic}>
          {s.text}
        </Text>
      ))}
    </Text>
  );
}

function MessagePaneView({ lines, self, width, height, bottom, loadingOlder }: MessagePaneProps) {
  const scrolled = bottom !== null && bottom < lines.length - 1;
  const below = scrolled ? lines.length - 1 - bottom : 0;
  const extra = (scrolled ? 1 : 0) + (loadingOlder ? 1 : 0);
  const rows = visibleRows(lines, { width, height: Math.max(1, height - extra), bottom: bottom ?? lines.length - 1, self });
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {loadingOlder ? <Text dimColor>-- loading older messages --</Text> : null}
      {height - extra - rows.length > 0 ? <Box height={height - extra - rows.length} /> : null}
      {rows.map((row, i) => (
        <RowText key={i} row={row} />
      ))}
      {scrolled ? (
        <Text inverse bold wrap="truncate">
          {` -- ${below} more line${below === 1 ? '' : 's'} below (PgDn) -- `}
        </Text>
      ) : null}
    </Box>
  );
}

export const MessagePane = memo(MessagePaneView);
