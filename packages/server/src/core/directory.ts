/**
 * The directory: who is online, on which node, and who is in which room on the other nodes.
 *
 * Local sessions are held as objects (the core sends to them); people on other nodes are plain
 * entries, kept up to date from the cluster stream (`online`, `offline`, `presence`, `nick`
 * events) and read back from the store when a node starts or has missed events. Nick ownership
 * itself is decided by the store (a claim is a row with a unique key), not here: this is a view.
 *
 * @example
 * const directory = new Directory<Session>();
 * directory.addLocal(session);
 * directory.addRemote({ key: 'bob', nick: 'Bob', owner: 'bob', instance: 'n2:af31' });
 * directory.holder('bob'); // { nick: 'Bob', ... }
 */
import type { Session } from './session.js';

export interface RemoteUser {
  key: string;
  nick: string;
  owner: string;
  instance: string;
}

export interface RemoteMember {
  nick: string;
  instance: string;
}

export class Directory<S extends Session> {
  /** Sessions on this node, by nick key. */
  readonly #local = new Map<string, S>();
  /** Sessions on this node, by owner (one person may be connected several times). */
  readonly #byOwner = new Map<string, Set<S>>();
  /** People on other nodes, by nick key. */
  readonly #remote = new Map<string, RemoteUser>();
  /** Room name -> nick key -> who is in it on another node. */
  readonly #remoteRooms = new Map<string, Map<string, RemoteMember>>();

  get localCount(): number {
    return this.#local.size;
  }

  get onlineCount(): number {
    return this.#local.size + this.#remote.size;
  }

  local(key: string): S | undefined {
    return this.#local.get(key);
  }

  /** Sessions on this node (WHO masks): a view, to iterate with a bound. */
  locals(): IterableIterator<S> {
    return this.#local.values();
  }

  remote(key: string): RemoteUser | undefined {
    return this.#remote.get(key);
  }

  /** Is the nick held by anyone, here or elsewhere? */
  isOnline(key: string): boolean {
    return this.#local.has(key) || this.#remote.has(key);
  }

  addLocal(session: S): void {
    this.#local.set(session.key!, session);
    let mine = this.#byOwner.get(session.owner!);
    if (!mine) this.#byOwner.set(session.owner!, (mine = new Set()));
    mine.add(session);
  }

  /** Forgets a local session (only if it still holds `key`). */
  removeLocal(key: string, session: S): boolean {
    if (this.#local.get(key) !== session) return false;
    this.#local.delete(key);
    const mine = this.#byOwner.get(session.owner!);
    if (mine?.delete(session) && mine.size === 0) this.#byOwner.delete(session.owner!);
    return true;
  }

  /** The sessions of one person on this node. */
  localOf(owner: string): ReadonlySet<S> {
    return this.#byOwner.get(owner) ?? NO_SESSIONS;
  }

  addRemote(user: RemoteUser): void {
    this.#remote.set(user.key, user);
  }

  /** Forgets a remote user, if `instance` still holds the nick. */
  removeRemote(key: string, instance: string): boolean {
    const user = this.#remote.get(key);
    if (!user || user.instance !== instance) return false;
    this.#remote.delete(key);
    return true;
  }

  /**
   * Forgets what another node held under `key` (its user and room memberships): the same owner
   * took the nick over here or on a third node, after its node died or from a second device.
   */
  forgetRemoteKey(key: string): void {
    this.#remote.delete(key);
    for (const [room, members] of this.#remoteRooms) {
      if (members.delete(key) && members.size === 0) this.#remoteRooms.delete(room);
    }
  }

  /** The members of `room` on other nodes (empty when none). */
  remoteMembers(room: string): ReadonlyMap<string, RemoteMember> {
    return this.#remoteRooms.get(room) ?? EMPTY;
  }

  remoteJoin(room: string, key: string, member: RemoteMember): void {
    let members = this.#remoteRooms.get(room);
    if (!members) this.#remoteRooms.set(room, (members = new Map<string, RemoteMember>()));
    members.set(key, member);
  }

  remoteLeave(room: string, key: string): boolean {
    const members = this.#remoteRooms.get(room);
    if (!members?.delete(key)) return false;
    if (members.size === 0) this.#remoteRooms.delete(room);
    return true;
  }

  /** Rooms with somebody in them on another node. */
  remoteRoomNames(): IterableIterator<string> {
    return this.#remoteRooms.keys();
  }

  /** Instances that hold somebody, as this node knows. */
  instances(): Set<string> {
    const out = new Set<string>();
    for (const user of this.#remote.values()) out.add(user.instance);
    return out;
  }

  /**
   * Everything held for a node that is gone: its users leave the directory and every room.
   * Returns, per room, the nicks that left (for the notices).
   */
  dropInstance(instance: string): { users: RemoteUser[]; rooms: Map<string, string[]> } {
    const users: RemoteUser[] = [];
    for (const [key, user] of this.#remote) {
      if (user.instance === instance) {
        users.push(user);
        this.#remote.delete(key);
      }
    }
    const rooms = new Map<string, string[]>();
    for (const [room, members] of this.#remoteRooms) {
      for (const [key, member] of members) {
        if (member.instance !== instance) continue;
        members.delete(key);
        let left = rooms.get(room);
        if (!left) rooms.set(room, (left = []));
        left.push(member.nick);
      }
      if (members.size === 0) this.#remoteRooms.delete(room);
    }
    return { users, rooms };
  }

  /** Replaces the view of the other nodes (after a start, or after missed events). */
  replaceRemote(
    users: RemoteUser[],
    presence: { room: string; key: string; nick: string; instance: string }[],
    self: string,
  ): void {
    this.#remote.clear();
    this.#remoteRooms.clear();
    for (const user of users) if (user.instance !== self) this.#remote.set(user.key, user);
    for (const p of presence)
      if (p.instance !== self) this.remoteJoin(p.room, p.key, { nick: p.nick, instance: p.instance });
  }
}

const EMPTY: ReadonlyMap<string, RemoteMember> = new Map();
const NO_SESSIONS: ReadonlySet<never> = new Set();
