/** @jsxRuntime automatic @jsxImportSource react */
/**
 * One line: connection state (connected / reconnecting in Ns / offline), server, your nick,
 * the current window and its topic. Below 60 columns (no sidebar) the activity list
 * (`[act: 3,4!]`, `!` where you were mentioned) comes first, so it is never cut off, and the
 * server is left out.
 *
 * The reconnect countdown is computed from the clock at every render (the state only holds
 * the epoch ms of the next attempt) and re-rendered each time the shown number changes.
 *
 * @example
 * <StatusBar connection={state.connection} nick="alice" title="2:#general" topic="standup at 10" width={80} />
 */
import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import type { ConnectionState } from '../connection/chat-connection.js';
import { activityText, connectionLabel } from './status-text.js';
import { useTheme } from './theme-context.js';

export interface StatusBarProps {
  connection: ConnectionState;
  nick: string;
  title: string;
  topic: string | null;
  width: number;
  /** Messages waiting to be sent. */
  queued?: number;
  /** Windows with news, as `[window number, mentioned]`; shown when `compact`. */
  activity?: ReadonlyArray<readonly [number, boolean]>;
  /** No sidebar: activity first, no server. */
  compact?: boolean;
  /** Never connected yet: a failed attempt says "retrying", not "reconnecting". */
  everConnected?: boolean;
  /** Replaces the connection label (e.g. while the user chooses a nick). */
  label?: string;
  /** Epoch ms; for tests (default: the clock at render time). */
  now?: number;
}

/** Re-renders whenever the countdown to `retryAt` shows another number. */
function useCountdownTick(status: ConnectionState['status'], retryAt: number | null): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (status !== 'reconnecting' || retryAt === null) return;
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      const left = retryAt - Date.now();
      if (left <= 0) return;
      // ceil(left / 1000) changes when left crosses the next whole second.
      timer = setTimeout(
        () => {
          setTick((n) => n + 1);
          schedule();
        },
        (left % 1000 || 1000) + 2,
      );
    };
    schedule();
    return () => clearTimeout(timer);
  }, [status, retryAt]);
}

export function StatusBar({
  connection,
  nick,
  title,
  topic,
  width,
  queued = 0,
  activity = [],
  compact = false,
  everConnected = true,
  label,
  now,
}: StatusBarProps) {
  const { color } = useTheme();
  useCountdownTick(connection.status, connection.retryAt);
  const shown = label ?? connectionLabel(connection, now ?? Date.now(), everConnected);
  const stateColor =
    label !== undefined
      ? 'warn'
      : connection.status === 'connected'
        ? 'ok'
        : connection.status === 'offline'
          ? 'error'
          : 'warn';
  const act = compact && activity.length > 0 ? activity : [];
  const server = compact ? '' : `${connection.server} | `;
  const tail = ` | ${title}${queued > 0 ? ` | ${queued} queued` : ''}${topic ? ` | ${topic}` : ''}`;
  const actText = act.length > 0 ? ` ${activityText(act)}` : '';
  const used = actText.length + ` [${shown}] `.length + server.length + nick.length + tail.length;
  const pad = ' '.repeat(Math.max(0, width - used));
  return (
    <Box width={width} height={1}>
      <Text inverse wrap="truncate">
        {act.length > 0 ? (
          <>
            {' [act: '}
            {act.map(([n, mentioned], i) => (
              <Text key={n} bold={mentioned} color={mentioned ? color('error') : undefined}>
                {`${i > 0 ? ',' : ''}${n}${mentioned ? '!' : ''}`}
              </Text>
            ))}
            {']'}
          </>
        ) : null}
        {' ['}
        <Text color={color(stateColor)} bold>
          {shown}
        </Text>
        {`] ${server}`}
        <Text bold>{nick}</Text>
        {`${tail}${pad}`}
      </Text>
    </Box>
  );
}
