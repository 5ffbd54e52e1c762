/**
 * The words the full-screen client uses for its connection: why an attempt failed (a person's
 * words for the socket error codes), and the one status line an outage keeps up to date.
 *
 * @example
 * describeReason('ECONNREFUSED') // 'connection refused'
 * outageText({ server: 'chat:5555', everConnected: false, attempts: 3, dropReason: 'ECONNREFUSED', lastReason: 'ECONNREFUSED', since: 0 })
 * // 'Cannot connect to chat:5555 (connection refused); retrying (3 attempts failed)'
 */

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  ECONNABORTED: 'connection aborted',
};

/** A connection's `reason` (a socket error code or the server's words) as a person would say it. */
export function describeReason(reason: string | null | undefined): string | null {
  if (!reason) return null;
  return REASONS[reason] ?? reason;
}

export interface OutageInfo {
  server: string;
  /** A session was open before (a drop), or never (cannot connect). */
  everConnected: boolean;
  /** Times the connection went to `reconnecting` (for a drop, the drop itself is the first). */
  attempts: number;
  /** Why the session ended, or why the first attempt failed. */
  dropReason: string | null;
  /** Why the latest attempt failed. */
  lastReason: string | null;
  /** Epoch ms the outage began. */
  since: number;
}

function paren(reason: string | null): string {
  const why = describeReason(reason);
  return why ? ` (${why})` : '';
}

function hhmm(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m` : `${m}m ${s % 60}s`;
}

function attempts(n: number): string {
  return `${n} attempt${n === 1 ? '' : 's'} failed`;
}

/**
 * The status line while an outage lasts (rewritten after each failed attempt). `attempts`
 * counts the times the connection went to `reconnecting`: for a drop the first one is the drop.
 */
export function outageText(o: OutageInfo): string {
  if (!o.everConnected)
    return `Cannot connect to ${o.server}${paren(o.lastReason)}; retrying${o.attempts > 1 ? ` (${attempts(o.attempts)})` : ''}`;
  const drop = describeReason(o.dropReason) ?? 'closed by the server';
  const failed = o.attempts - 1;
  const later = failed > 0 ? ` (${attempts(failed)}${o.lastReason ? `: ${describeReason(o.lastReason)}` : ''})` : '';
  return `Disconnected (${drop}); reconnecting${later}`;
}

/** The line an outage leaves once connected again: where the gap is, and how long it was. */
export function outageEndText(o: OutageInfo, now: number): string {
  if (!o.everConnected) {
    const why = describeReason(o.lastReason);
    return `Could not connect to ${o.server} for ${duration(now - o.since)} (${attempts(o.attempts)}${why ? `: ${why}` : ''})`;
  }
  const drop = describeReason(o.dropReason) ?? 'closed by the server';
  return `Reconnected after ${duration(now - o.since)} (disconnected at ${hhmm(o.since)}: ${drop})`;
}
