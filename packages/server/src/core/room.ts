/**
 * A room: who is in it right now, its topic, and its latest messages.
 */
import { RecentMessages } from './recent-messages.js';
import type { Session } from './session.js';

export class Room<S extends Session = Session> {
  /** Sessions in the room now: O(1) add, remove and membership test. */
  readonly members = new Set<S>();
  topic: string | null = null;
  topicBy: string | null = null;
  readonly recent: RecentMessages;

  constructor(
    readonly name: string,
    recent: RecentMessages,
  ) {
    this.recent = recent;
  }

  /** Nicks of the members, sorted case-insensitively. */
  nicks(): string[] {
    return [...this.members].map((s) => s.nick!).sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }));
  }
}
