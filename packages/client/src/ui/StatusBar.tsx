/** @jsxRuntime automatic @jsxImportSource react */
/**
 * One line: connection state (connected / reconnecting in Ns / offline), server, your nick,
 * the current window and its topic.
 *
 * @example
 * <StatusBar connection={state.connection} nick="alice" title="#general" topic="standup at 10" width={80} />
 */
import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import type { ConnectionState } from '../connection/chat-connection.js';
import { useTheme } from './theme-context.js';

export interface StatusBarProps {
  connection: ConnectionState;
  nick: string;
  title: string;
  topic: string | null;
  width: number;
  /** Messages waiting to be sent. */
  queued?: number;
  /** Epoch ms; for tests. */
  now?: number;
}

export function connectionLabel(c: ConnectionState, now: number): string {
  switch (c.status) {
    case 'connected':
      return c.ready ? 'connected' : 'syncing';
    case 'connecting':
      return 'connecting';
    case 'reconnecting':
      return `reconnecting in ${Math.max(0, Math.ceil(((c.retryAt ?? now) - now) / 1000))}s`;
    case 'offline':
      return 'offline';
  }
}

export function StatusBar({ connection, nick, title, topic, width, queued = 0, now }: StatusBarProps) {
  const { color } = useTheme();
  const [tick, setTick] = useState(Date.now());
  useEffect(() => {
    if (connection.status !== 'reconnecting') return;
    const t = setInterval(() => setTick(Date.now()), 500);
    return () => clearInterval(t);
  }, [connection.status]);
  const label = connectionLabel(connection, now ?? tick);
  const stateColor = connection.status === 'connected' ? 'green' : connection.status === 'offline' ? 'red' : 'yellow';
  const left = ` [${label}] ${connection.server} | ${nick} | ${title}${queued > 0 ? ` | ${queued} queued` : ''}`;
  const rest = topic ? ` | ${topic}` : '';
  const pad = ' '.repeat(Math.max(0, width - left.length - rest.length));
  return (
    <Box width={width} height={1}>
      <Text inverse wrap="truncate">
        {' ['}
        <Text color={color(stateColor)} bold>
          {label}
        </Text>
        {`] ${connection.server} | `}
        <Text bold>{nick}</Text>
        {` | ${title}${queued > 0 ? ` | ${queued} queued` : ''}${rest}${pad}`}
      </Text>
    </Box>
  );
}
