/**
 * A room: who is in it right now, its topic, and its latest messages.
 */
import { RecentMessages } from './recent-messages.js';
import type { Session } from './session.js';

/** One collator for every sort: `localeCompare` with options builds one per call (40x slower). */
const BY_NICK = new Intl.Collator('en', { sensitivity: 'base' });

export class Room<S extends Session = Session> {
  /** Sessions in the room now: O(1) add, remove and membership test. */
  readonly members = new Set<S>();
  topic: string | null = null;
  topicBy: string | null = null;
  /** Nick key of the creator, who alone may change the modes; null when unknown. */
  creator: string | null = null;
  /** Scrypt hash of the key (+k); null: no key. */
  keyHash: string | null = null;
  /** Invite-only (+i). */
  inviteOnly = false;
  /** Nick keys invited in (they need neither the key nor to be asked again). */
  readonly invited = new Set<string>();
  readonly recent: RecentMessages;

  constructor(
    readonly name: string,
    recent: RecentMessages,
  ) {
    this.recent = recent;
  }

  /** A room with a key or invite-only: its users, topic and history are for members only. */
  get restricted(): boolean {
    return this.keyHash !== null || this.inviteOnly;
  }

  /** Nicks of the members, sorted case-insensitively. */
  nicks(): string[] {
    return [...this.members].map((s) => s.nick!).sort(BY_NICK.compare);
  }
}
