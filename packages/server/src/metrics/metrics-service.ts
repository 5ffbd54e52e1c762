/**
 * Placeholder until the metrics issue lands: counts nothing, stores nothing.
 * The metrics work replaces this file, keeping the exported names and signatures.
 */
import type { Database } from '../store/database.js';
import type { ChatEvents, ChatStats } from './chat-events.js';

export interface MetricsServiceOptions {
  database: Database;
  stats: ChatStats;
  /** Snapshot interval (default 2000 ms). */
  intervalMs?: number;
  /** Intervals in the moving average (default 5). */
  window?: number;
  /** How long snapshots are kept (default 7 days). */
  retentionMs?: number;
  /** Clock, for tests. */
  now?: () => number;
  log?: (line: string) => void;
}

export class MetricsService implements ChatEvents {
  constructor(readonly options: MetricsServiceOptions) {}
  message(_room: string): void {}
  privateMessage(): void {}
  join(_room: string): void {}
  leave(_room: string): void {}
  connectionOpened(): void {}
  connectionClosed(): void {}
  /** Starts the snapshot timer. */
  async start(): Promise<void> {}
  /** Stops the timer and stores a final snapshot. */
  async stop(): Promise<void> {}
}
