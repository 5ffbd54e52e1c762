/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The window list: status window, rooms and private conversations, the current one highlighted,
 * each with its unread count; a window where you were mentioned shows `!` after the count.
 *
 * @example
 * <Sidebar windows={state.windows} current={state.current} width={18} height={20} />
 */
import { Box, Text } from 'ink';
import type { ChatWindow } from '../state/chat-state.js';
import { windowLabel } from './status-text.js';
import { useTheme } from './theme-context.js';

export interface SidebarProps {
  windows: readonly ChatWindow[];
  current: string;
  width: number;
  height: number;
}

export function Sidebar({ windows, current, width, height }: SidebarProps) {
  const { color } = useTheme();
  const inner = Math.max(4, width - 1);
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      borderStyle="single"
      borderTop={false}
      borderBottom={false}
      borderLeft={false}
      borderDimColor
    >
      {windows.slice(0, height).map((w, i) => {
        const badge =
          w.unread > 0 ? ` ${w.unread > 999 ? '999+' : w.unread}${w.mentioned ? '!' : ''}` : w.mentioned ? ' !' : '';
        const num = i < 9 ? `${i + 1} ` : '  ';
        const room = windowLabel(w);
        const roomWidth = Math.max(1, inner - num.length - badge.length);
        const name = room.length > roomWidth ? room.slice(0, roomWidth - 1) + '…' : room;
        const pad = ' '.repeat(Math.max(0, inner - num.length - name.length - badge.length));
        const isCurrent = w.key === current;
        return (
          <Text key={w.key} inverse={isCurrent} wrap="truncate">
            <Text dimColor={!isCurrent}>{num}</Text>
            <Text
              bold={isCurrent || w.unread > 0}
              color={isCurrent ? undefined : color(w.kind === 'pm' ? 'pm' : undefined)}
            >
              {name}
            </Text>
            {pad}
            <Text color={color(w.mentioned ? 'error' : 'warn')} bold={w.mentioned}>
              {badge}
            </Text>
          </Text>
        );
      })}
    </Box>
  );
}
