/**
 * A room: who is in it right now, its topic, and its latest messages.
 */
import type { MaskEntry } from '@teamchat/protocol';
import { RecentMessages } from './recent-messages.js';
import type { Session } from './session.js';

/** One collator for every sort: `localeCompare` with options builds one per call (40x slower). */
const BY_NICK = new Intl.Collator('en', { sensitivity: 'base' });

export class Room<S extends Session = Session> {
  /** Sessions in the room now: O(1) add, remove and membership test. */
  readonly members = new Set<S>();
  topic: string | null = null;
  topicBy: string | null = null;
  /** When the topic was set (epoch ms); null when not known (read back from the store). */
  topicAt: number | null = null;
  /** Owner (see identity.ts) of the creator, who alone may change the modes; null when unknown. */
  creator: string | null = null;
  /** Scrypt hash of the key (+k); null: no key. */
  keyHash: string | null = null;
  /** Invite-only (+i). */
  inviteOnly = false;
  /** Owners invited in (they need neither the key nor to be asked again). */
  readonly invited = new Set<string>();
  /**
   * Operators (+o: the creator from the start, and whom operators made so) and voiced members
   * (+v). Bound to the owner, not the nick: a rename keeps them. Like the modes below they live
   * while the room is in memory (no column stores them yet): a room read back from the store has
   * its creator as its one operator again.
   */
  readonly operators = new Set<string>();
  readonly voiced = new Set<string>();
  /** +t: only operators set the topic. */
  topicLock = false;
  /** +n: only members send to the room (teamchat's rule; an operator may lift it with -n). */
  noExternal = true;
  /** +m: only operators and voiced members speak. */
  moderated = false;
  /** +s: not listed for non-members. */
  secret = false;
  /** +l: members at most; null: no cap. */
  limit: number | null = null;
  /** +b, +e, +I masks (`nick!user@host`), each list bounded by MASK_LIST_MAX. */
  readonly bans: MaskEntry[] = [];
  readonly excepts: MaskEntry[] = [];
  readonly invexes: MaskEntry[] = [];
  /** When the room was created (epoch ms). */
  createdAt: number;
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
    this.createdAt = now;
  }

  isOperator(owner: string | null): boolean {
    return owner !== null && this.operators.has(owner);
  }

  /** May speak in a moderated room. */
  maySpeak(owner: string | null): boolean {
    return !this.moderated || this.isOperator(owner) || (owner !== null && this.voiced.has(owner));
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
