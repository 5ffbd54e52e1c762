/**
 * The words of the status bar and window titles, without Ink: shared by `StatusBar`, `Sidebar`
 * and the boot screen that is painted before Ink is loaded.
 *
 * @example
 * connectionLabel({ status: 'reconnecting', retryAt: now + 2_500, ... }, now) // 'reconnecting in 3s'
 */
import type { ConnectionState } from '../connection/chat-connection.js';
import type { ChatWindow } from '../state/chat-state.js';

/** `#room`, `@nick`, or the status window's server name. */
export function windowLabel(w: Pick<ChatWindow, 'kind' | 'name'>): string {
  if (w.kind === 'room') return `#${w.name}`;
  if (w.kind === 'pm') return `@${w.name}`;
  if (w.kind === 'search') return '?search';
  if (w.kind === 'mentions') return '?mentions';
  if (w.kind === 'thread') return `~${w.name}`;
  return w.name;
}

/**
 * The connection state in a word or three. The countdown is computed from `now` (the clock at
 * render time): the state only holds the epoch ms of the next attempt.
 */
export function connectionLabel(c: ConnectionState, now: number, everConnected = true): string {
  switch (c.status) {
    case 'connected':
      return c.ready ? 'connected' : 'syncing';
    case 'connecting':
      return 'connecting';
    case 'reconnecting': {
      const secs = Math.max(0, Math.ceil(((c.retryAt ?? now) - now) / 1000));
      return `${everConnected ? 'reconnecting' : 'retrying'} in ${secs}s`;
    }
    case 'offline':
      return 'offline';
  }
}

/** `[act: 3,4!]` for windows with news (`!`: you were mentioned), or '' when there are none. */
export function activityText(activity: ReadonlyArray<readonly [number, boolean]>): string {
  return activity.length > 0 ? `[act: ${activity.map(([n, m]) => `${n}${m ? '!' : ''}`).join(',')}]` : '';
}
