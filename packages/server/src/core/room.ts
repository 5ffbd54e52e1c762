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
  /** Owner (see identity.ts) of the creator, who alone may change the modes; null when unknown. */
  creator: string | null = null;
  /** Scrypt hash of the key (+k); null: no key. */
  keyHash: string | null = null;
  /** Invite-only (+i). */
  inviteOnly = false;
  /** Owners invited in (they need neither the key nor to be asked again). */
  readonly invited = new Set<string>();
  readonly recent: RecentMessages;
  /** When the last member left (epoch ms): an empty room leaves memory after a while. */
  emptySince: number;

  constructor(
    readonly name: string,
    recent: RecentMessages,
    now: number,
  ) {
    this.recent = recent;
    this.emptySince = now;
  }

  /** A room with a key or invite-only: its users, topic and history are for members only. */
  get restricted(): boolean {
    return this.keyHash !== null || this.inviteOnly;
  }

  /**
   * Nicks of the members, sorted case-insensitively: after `after` (a page cursor), at most
   * `limit`. `others`: members on other nodes of a cluster.
   */
  nicks(limit = Infinity, after?: string, others?: Iterable<string>): string[] {
    let all = [...this.members].map((s) => s.nick!);
    if (others) for (const nick of others) all.push(nick);
    if (after !== undefined) all = all.filter((n) => BY_NICK.compare(n, after) > 0);
    all.sort(BY_NICK.compare);
    return all.length > limit ? all.slice(0, limit) : all;
  }
}
