/**
 * The store reads of CoreEffects (accounts, memberships, room access, nick claims) answered from
 * a list of state writes in memory: what the core's unit tests use instead of a database.
 *
 * @example
 * const state: StateWrite[] = [];
 * const effects = { ...inMemoryReads(state, { alice: 'hash:open-sesame' }), persistState: (w) => state.push(w), ... };
 */
import { nickKey } from '@teamchat/protocol';
import type { CoreEffects } from './core-effects.js';
import type { MessageInfo, NewMessage, RoomAccess, StateWrite, UnreadCount } from './records.js';
import type { Session } from './session.js';

type Reads = Pick<
  CoreEffects<Session>,
  | 'accountHash'
  | 'createAccount'
  | 'roomAccess'
  | 'membershipsOf'
  | 'claimNick'
  | 'instance'
  | 'clustered'
  | 'messageInfo'
  | 'unreadCounts'
  | 'pmUnreadCounts'
  | 'highlightWords'
  | 'mentions'
  | 'search'
>;

/** Messages the reads may look at (the unit tests' stored messages). */
export type StoredForReads = (NewMessage & { id: number })[];

export function inMemoryReads(
  state: StateWrite[],
  accounts: Record<string, string> = {},
  stored: StoredForReads = [],
): Reads {
  const hashOf = (key: string): string | null => {
    let hash: string | null = accounts[key] ?? null;
    for (const w of state) if (w.op === 'account' && nickKey(w.nick) === key) hash = w.hash;
    return hash;
  };
  const owners = (owner: string): string[] => {
    // Replays memberships, following owner renames (an identity that registered).
    const rooms = new Map<string, Set<string>>();
    const of = (o: string) => rooms.get(o) ?? rooms.set(o, new Set()).get(o)!;
    for (const w of state) {
      if (w.op === 'membership-add') of(w.nick).add(w.room);
      else if (w.op === 'membership-remove') of(w.nick).delete(w.room);
      else if (w.op === 'owner-rename') {
        for (const r of of(w.from)) of(w.to).add(r);
        rooms.delete(w.from);
      }
    }
    return [...of(owner)].sort();
  };
  return {
    accountHash: async (key) => hashOf(key),
    createAccount: async (nick, hash) => {
      if (hashOf(nickKey(nick)) !== null) return false;
      state.push({ op: 'account', nick, hash, ts: 0 });
      return true;
    },
    roomAccess: async (room, owner): Promise<RoomAccess | null> => {
      let access: RoomAccess | null = null;
      for (const w of state) {
        if (w.op === 'room' && w.room === room && !access)
          access = { keyHash: null, inviteOnly: false, creator: w.creator ?? null, invited: false, member: false };
        if (!access) continue;
        if (w.op === 'room-mode' && w.room === room) {
          access.keyHash = w.keyHash;
          access.inviteOnly = w.inviteOnly;
          if (!w.inviteOnly) access.invited = false;
        }
        if (w.op === 'invite' && w.room === room && w.nick === owner) access.invited = true;
      }
      if (access) access.member = owners(owner).includes(room);
      return access;
    },
    membershipsOf: async (owner, limit) => owners(owner).slice(0, limit),
    claimNick: async () => ({ ok: true }),
    messageInfo: async (id): Promise<MessageInfo | null> => {
      const m = stored.find((s) => s.id === id);
      if (!m) return null;
      let deleted = false;
      const reactions: Record<string, string[]> = {};
      for (const w of state) {
        if (w.op === 'delete' && w.id === id) deleted = true;
        if (w.op === 'react' && w.id === id) {
          const who = (reactions[w.emoji] ?? []).filter((o) => o !== w.owner);
          if (w.add) who.push(w.owner);
          if (who.length > 0) reactions[w.emoji] = who;
          else delete reactions[w.emoji];
        }
      }
      return m.kind === 'room'
        ? { id, room: m.room, nick: m.nick, owner: m.owner ?? null, deleted, reactions }
        : { id, room: null, nick: m.from, owner: m.fromOwner ?? null, deleted, reactions };
    },
    // Counting and searching are the store's (tested in store/*.test.ts over both databases).
    unreadCounts: async (_owner, _nick, rooms) =>
      Object.fromEntries(rooms.map((r) => [r, { unread: 0, mentions: 0, marker: 0 }])),
    pmUnreadCounts: async (owner, limit) => {
      // The same rule as the store's, over the stored private messages (no cap per conversation).
      const marker = (conversation: string) =>
        Math.max(
          0,
          ...state.flatMap((w) =>
            w.op === 'marker' && w.owner === owner && w.conversation === conversation ? [w.id] : [],
          ),
        );
      const deleted = new Set(state.flatMap((w) => (w.op === 'delete' ? [w.id] : [])));
      const byPeer = new Map<string, { nick: string; newest: number; count: UnreadCount }>();
      for (const m of stored) {
        if (m.kind !== 'pm' || m.toOwner !== owner || m.fromOwner === owner || deleted.has(m.id)) continue;
        const key = nickKey(m.from);
        const seen = marker(`@${key}`);
        if (m.id <= seen) continue;
        const entry = byPeer.get(key) ?? { nick: m.from, newest: 0, count: { unread: 0, mentions: 0, marker: seen } };
        entry.count.unread++;
        entry.count.mentions++;
        if (m.id > entry.newest) Object.assign(entry, { nick: m.from, newest: m.id });
        byPeer.set(key, entry);
      }
      return Object.fromEntries(
        [...byPeer.values()]
          .sort((a, b) => b.newest - a.newest)
          .slice(0, limit)
          .map((e) => [e.nick, e.count]),
      );
    },
    highlightWords: async (owner) => {
      let who = owner;
      // Replayed backwards: the latest list of the owner, or of the identity that became it.
      for (let i = state.length - 1; i >= 0; i--) {
        const w = state[i];
        if (w.op === 'highlights' && w.owner === who) return w.words;
        if (w.op === 'owner-rename' && w.to === who) who = w.from;
      }
      return [];
    },
    mentions: async () => [],
    search: async () => ({ results: [], more: false }),
    instance: 'local',
    clustered: false,
  };
}
