/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The users of the current room, each nick in its colour (yours bold in the default colour).
 *
 * @example
 * <UserList users={['alice', 'bob']} self="alice" width={16} height={20} />
 */
import { Box, Text } from 'ink';
import { nickColor } from '../state/nick-color.js';
import { useTheme } from './theme-context.js';

export interface UserListProps {
  users: readonly string[];
  self: string;
  width: number;
  height: number;
}

export function UserList({ users, self, width, height }: UserListProps) {
  const { color } = useTheme();
  const shown = users.slice(0, Math.max(0, height - 1));
  const hidden = users.length - shown.length;
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      borderStyle="single"
      borderTop={false}
      borderBottom={false}
      borderRight={false}
      borderDimColor
    >
      <Text bold wrap="truncate">
        Users ({users.length})
      </Text>
      {shown.map((u, i) => {
        const c = nickColor(u, self);
        return (
          <Text key={u} color={color(c)} bold={c === null} wrap="truncate">
            {i === shown.length - 1 && hidden > 0 ? `+${hidden + 1} more` : u}
          </Text>
        );
      })}
    </Box>
  );
}
