/**
 * The chat core: rooms, nicks, memberships and commands. Pure decisions over in-memory state;
 * every side effect goes through the CoreEffects port, so the core runs in unit tests with no
 * sockets, no database and no timers.
 *
 * Bounded state: a room is in memory while somebody is in it (and for `roomIdleMs` after the last
 * one left); then `sweep` lets it go, and a later join reads it back from the store. A session is
 * in at most `maxRoomsPerSession` rooms. Answers are paged (rooms, users).
 *
 * Access belongs to an owner, not to a nick (see identity.ts): memberships of restricted rooms,
 * invites, room-creator rights and private history follow the account, or the resume identity.
 *
 * @example
 * const core = new ChatCore(effects, await store.loadSnapshot(0));
 * core.connect(session);
 * core.handle(session, { type: 'hello', v: 1, nick: 'alice' });
 */
import {
  codedError,
  HISTORY_DEFAULT,
  HISTORY_MAX,
  isValidNick,
  MAX_LINE_BYTES,
  MAX_ROOMS_PER_CONNECTION,
  nickKey,
  normalizeRoom,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  PROTOCOL_VERSION,
  REASON_MAX_LENGTH,
  ROOM_KEY_PATTERN,
  ROOMS_PAGE_MAX,
  TOPIC_MAX_LENGTH,
  USERS_PAGE_MAX,
  type ClientFrame,
  type CodedError,
  type ErrorCode,
  type HelloFrame,
  type ModeFrame,
  type PresenceEvent,
  type RoomMessage,
  type RoomSummary,
  type ServerFrame,
} from '@teamchat/protocol';
import type { LoadedRoom, StateWrite, StoreSnapshot } from '../store/message-store.js';
import type { CoreEffects, PersistResult } from './core-effects.js';
import { identityOwner, isIdentityOwner, parseToken } from './identity.js';
import { RecentMessages } from './recent-messages.js';
import { Room } from './room.js';
import type { Session } from './session.js';
import { sanitizeText } from './text.js';

export interface ChatCoreOptions {
  /** Name and version announced in `welcome`. */
  serverName?: string;
  /** Messages sent to a joiner. */
  historyOnJoin?: number;
  /** Messages kept in memory per room (at least historyOnJoin). */
  recentCapacity?: number;
  /** Every nick must be registered (`teamchat serve --require-accounts`). */
  requireAccounts?: boolean;
  /** Rooms one session may be in at once; also caps the rooms a `hello` asks for (default 100). */
  maxRoomsPerSession?: number;
  /** How long a room with nobody in it stays in memory before `sweep` lets it go (default 60 s). */
  roomIdleMs?: number;
}

/** Messages kept in memory per room by default: joins and most resumes never read the database. */
export const RECENT_CAPACITY = 200;
export const DEFAULT_ROOM_IDLE_MS = 60_000;

/** What a login asks for: the nick, and what to bring back. */
export interface LoginRequest {
  nick: string;
  rooms?: Record<string, number | null>;
  pmAfter?: number;
  ref?: string;
  /** Put the owner back into its persisted rooms (NDJSON clients); plain-text users pick one room. */
  restore: boolean;
  password?: string;
  /** Register the nick with `password` when it is not registered yet. */
  register?: boolean;
  /** A resume token from an earlier `welcome`. */
  token?: string;
}

/**
 * How a nick may log in: `open` (no password), `password` (registered: needs its password),
 * `register` (not registered, and the server requires accounts: must register with a password).
 */
export type AccountState = 'open' | 'password' | 'register';

/** Who a session turns out to be at login. */
interface Identity {
  owner: string;
  account: boolean;
  /** Given back in `welcome` (clients without an account that can keep it). */
  token?: string;
}

export class ChatCore<S extends Session> {
  readonly #fx: CoreEffects<S>;
  /** Rooms in memory: those with members, and empty ones for a while. */
  readonly #rooms = new Map<string, Room<S>>();
  /** Names of every room ever created: a join of any other name creates it without asking the store. */
  readonly #known = new Set<string>();
  /** Rooms being read back from the store. */
  readonly #loading = new Map<string, Promise<Room<S> | null>>();
  /** Online sessions by nick key. */
  readonly #online = new Map<string, S>();
  /** Persisted memberships: owner -> room names. Survive disconnects and restarts. */
  readonly #memberships = new Map<string, Set<string>>();
  readonly #serverName: string;
  readonly #historyOnJoin: number;
  readonly #recentCapacity: number;
  readonly #maxRooms: number;
  readonly #roomIdleMs: number;
  #connections = 0;
  /** Sessions already disconnected: a quit is followed by the socket closing. */
  readonly #gone = new WeakSet<S>();
  /** Registered nicks: nick key -> password hash. */
  readonly #accounts = new Map<string, string>();
  readonly #requireAccounts: boolean;
  /** Sessions with a command waiting for the store or a password check: their next input waits. */
  readonly #busy = new WeakMap<S, number>();

  constructor(effects: CoreEffects<S>, snapshot: StoreSnapshot, options: ChatCoreOptions = {}) {
    this.#fx = effects;
    this.#serverName = options.serverName ?? 'teamchat';
    this.#historyOnJoin = options.historyOnJoin ?? HISTORY_DEFAULT;
    this.#recentCapacity = Math.max(options.recentCapacity ?? RECENT_CAPACITY, this.#historyOnJoin);
    this.#requireAccounts = options.requireAccounts ?? false;
    this.#maxRooms = options.maxRoomsPerSession ?? MAX_ROOMS_PER_CONNECTION;
    this.#roomIdleMs = options.roomIdleMs ?? DEFAULT_ROOM_IDLE_MS;
    for (const { nick, hash } of snapshot.accounts ?? []) this.#accounts.set(nickKey(nick), hash);
    // Rooms are read back when someone joins them: only their names are kept from the start.
    for (const r of snapshot.rooms) this.#known.add(r.name);
    for (const { nick, room } of snapshot.memberships) this.#membershipsOf(nick).add(room);
  }

  // ---------- views for metrics and the HTTP side ----------

  /** Online members per room in memory. */
  roomMembers(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, room] of this.#rooms) out.set(name, room.members.size);
    return out;
  }

  /** A keyed or invite-only room (in memory): public metrics must not name it. */
  isRestrictedRoom(name: string): boolean {
    return this.#rooms.get(name)?.restricted ?? false;
  }

  /** Rooms held in memory right now. */
  get roomsInMemory(): number {
    return this.#rooms.size;
  }

  get connections(): number {
    return this.#connections;
  }

  get onlineCount(): number {
    return this.#online.size;
  }

  isOnline(nick: string): boolean {
    return this.#online.has(nickKey(nick));
  }

  /** How `nick` may log in (see AccountState). */
  accountState(nick: string): AccountState {
    if (this.#accounts.has(nickKey(nick.trim()))) return 'password';
    return this.#requireAccounts ? 'register' : 'open';
  }

  /** True while a command of the session waits for the store or a password check: hold its other input until `resume`. */
  isBusy(session: S): boolean {
    return (this.#busy.get(session) ?? 0) > 0;
  }

  /**
   * Lets rooms that have had nobody in them for `roomIdleMs` leave memory (their history, topic
   * and modes stay in the store; the next join reads them back). The runtime calls this now and
   * then, while the store is healthy (writes of those rooms are committed by then).
   */
  sweep(now: number): number {
    let evicted = 0;
    for (const [name, room] of this.#rooms) {
      if (room.members.size === 0 && now - room.emptySince >= this.#roomIdleMs && !this.#loading.has(name)) {
        this.#rooms.delete(name);
        evicted++;
      }
    }
    return evicted;
  }

  // ---------- connection lifecycle ----------

  connect(_session: S): void {
    this.#connections++;
    this.#fx.events.connectionOpened();
  }

  /**
   * The session is gone (its connection closed, or it quit). Announces it to its rooms; its
   * persisted memberships stay, so the same owner coming back gets them again.
   */
  disconnect(session: S, event: Extract<PresenceEvent, 'quit' | 'disconnect'> = 'disconnect', reason?: string): void {
    if (this.#gone.has(session)) return;
    this.#gone.add(session);
    if (session.key !== null && this.#online.get(session.key) === session) {
      this.#online.delete(session.key);
      const now = this.#fx.now();
      for (const room of this.#roomsOf(session)) {
        this.#removeMember(room, session, now);
        this.#fx.events.leave(room.name);
        this.#announce(room, { type: 'presence', room: room.name, nick: session.nick!, event, ts: now, ...(reason ? { reason } : {}) });
      }
      session.rooms.clear();
      this.#fx.log(`${event === 'quit' ? 'quit' : 'disconnected'}: ${session.nick} (${session.remote})${reason ? ` (${reason})` : ''}`);
      session.key = null;
    }
    this.#connections--;
    this.#fx.events.connectionClosed();
  }

  // ---------- commands ----------

  /** Handles one decoded frame from a session. */
  handle(session: S, frame: ClientFrame): void {
    const ref = frame.ref;
    if (frame.type === 'hello') {
      if (session.key !== null || this.isBusy(session)) return this.#error(session, 'TC_ERR_ALREADY_REGISTERED', ref);
      return this.#hello(session, frame);
    }
    if (frame.type === 'pong') return; // heartbeat answer: the transport has noted it
    if (frame.type === 'ping') return this.#fx.send(session, { type: 'pong', ...(frame.ts !== undefined ? { ts: frame.ts } : {}), ...(ref ? { ref } : {}) });
    if (frame.type === 'quit') return this.quit(session, frame.reason);
    if (session.key === null) return this.#error(session, 'TC_ERR_NOT_REGISTERED', ref);

    switch (frame.type) {
      case 'join': {
        const name = normalizeRoom(frame.room);
        if (!name) return this.#error(session, 'TC_ERR_BAD_ROOM', ref, frame.room);
        return this.join(session, name, frame.after, ref, frame.key);
      }
      case 'part':
        return this.#part(session, frame.room, ref);
      case 'msg':
        return this.#say(session, frame.room, frame.text, frame.action === true, ref);
      case 'pm':
        return this.#pm(session, frame.to, frame.text, frame.action === true, ref);
      case 'users':
        return this.#withRoom(session, frame.room, ref, (room) => {
          if (room.restricted && !room.members.has(session)) return this.#error(session, 'TC_ERR_NOT_IN_ROOM', ref, room.name);
          const users = room.nicks(USERS_PAGE_MAX + 1, frame.after);
          const more = users.length > USERS_PAGE_MAX;
          this.#fx.send(session, { type: 'users', room: room.name, users: more ? users.slice(0, USERS_PAGE_MAX) : users, ...(more ? { more } : {}), ...(ref ? { ref } : {}) });
        });
      case 'rooms': {
        const { rooms, more } = this.#roomList(session, frame.after);
        return this.#fx.send(session, { type: 'rooms', rooms, ...(more ? { more } : {}), ...(ref ? { ref } : {}) });
      }
      case 'register':
        return this.#registerPassword(session, frame.password, ref);
      case 'mode':
        return this.#withRoom(session, frame.room, ref, (room) => this.#mode(session, room, frame, ref));
      case 'invite':
        return this.#withRoom(session, frame.room, ref, (room) => this.#invite(session, frame.nick, room, ref));
      case 'nick':
        return this.#nick(session, frame.nick, ref);
      case 'topic':
        return this.#topic(session, frame.room, frame.topic, ref);
      case 'history':
        return this.#history(session, frame.room, frame.before, frame.after, frame.limit ?? HISTORY_DEFAULT, ref);
      case 'pm-history':
        return this.#pmHistory(session, frame.with, frame.before, frame.after, frame.limit ?? HISTORY_DEFAULT, ref);
    }
  }

  /**
   * Gives a session its nick: checks the password of a registered nick (or registers a new one)
   * off the event loop, or recognises a resume token. `done` gets null once the session is
   * welcomed, or the refusal (the connection stays open for another try).
   */
  login(session: S, request: LoginRequest, done: (error: CodedError | null) => void): void {
    const refused = this.#checkNick(session, request.nick);
    if (refused) return done(refused);
    const nick = request.nick.trim();
    const key = nickKey(nick);
    const state = this.accountState(nick);
    const password = request.password;
    if (state === 'open' && !(request.register && password !== undefined)) return this.#resumeIdentity(session, request, done);
    if (password === undefined) return done(this.#authRequired(nick));
    if (state !== 'password' && !request.register) return done(this.#authRequired(nick));
    if (state === 'password') {
      const check = this.#fx.verifySecret(session, password, this.#accounts.get(key)!, { kind: 'account', name: key });
      return this.#await(session, check, undefined, (result) => {
        // Refused without a check (locked out): the throttle logs each lockout once, not each try.
        if (typeof result === 'object') return done(result);
        if (!result) {
          this.#fx.log(`login refused: ${nick} (${session.remote}): wrong password`);
          return done(codedError('TC_ERR_BAD_PASSWORD'));
        }
        done(this.#admit(session, request, { owner: key, account: true }));
      });
    }
    const weak = checkPassword(password);
    if (weak) return done(weak);
    this.#await(session, this.#fx.hashSecret(password), undefined, (hash) => {
      // The nick may have been registered or taken meanwhile.
      const again = this.#checkNick(session, nick) ?? (this.#accounts.has(key) ? this.#authRequired(nick) : null);
      if (again) return done(again);
      this.#accounts.set(key, hash);
      this.#fx.log(`account registered: ${nick}`);
      // Welcomed once the account is stored: a confirmed registration survives a crash.
      this.#await(session, this.#stored({ op: 'account', nick, hash, ts: this.#fx.now() }), undefined, (ok) => {
        if (!ok) {
          this.#accounts.delete(key);
          return done(codedError('TC_ERR_STORE_FAILED', 'the account could not be saved'));
        }
        done(this.#admit(session, request, { owner: key, account: true }));
      });
    });
  }

  /** A client without an account: the identity its token proves, or a fresh one. */
  #resumeIdentity(session: S, request: LoginRequest, done: (error: CodedError | null) => void): void {
    const fresh = (): Identity => {
      const made = this.#fx.newIdentity();
      // Plain-text users cannot keep a token: their identity lives as long as the connection.
      if (session.dialect === 'plain') return { owner: identityOwner(made.id), account: false };
      this.#fx.persistState({ op: 'identity', id: made.id, secretHash: made.secretHash, ts: this.#fx.now() });
      return { owner: identityOwner(made.id), account: false, token: made.token };
    };
    const token = request.token;
    if (token === undefined || parseToken(token) === null) return done(this.#admit(session, request, fresh()));
    this.#await(session, this.#fx.checkIdentity(token), undefined, (id) => {
      done(this.#admit(session, request, id !== null ? { owner: identityOwner(id), account: false, token } : fresh()));
    });
  }

  #checkNick(session: S, raw: string): CodedError | null {
    if (session.key !== null) return codedError('TC_ERR_ALREADY_REGISTERED');
    const nick = raw.trim();
    if (!isValidNick(nick)) return codedError('TC_ERR_BAD_NICK', JSON.stringify(nick));
    if (this.#online.has(nickKey(nick))) return codedError('TC_ERR_NICK_IN_USE', nick);
    return null;
  }

  #authRequired(nick: string): CodedError {
    return this.#accounts.has(nickKey(nick.trim()))
      ? codedError('TC_ERR_AUTH_REQUIRED')
      : codedError('TC_ERR_AUTH_REQUIRED', 'this server needs an account: register with hello {"register": true, "password": ...}');
  }

  #admit(session: S, request: LoginRequest, identity: Identity): CodedError | null {
    const refused = this.#checkNick(session, request.nick);
    if (refused) return refused;
    const nick = request.nick.trim();
    const key = nickKey(nick);
    session.nick = nick;
    session.key = key;
    session.owner = identity.owner;
    this.#online.set(key, session);
    this.#fx.persistState({ op: 'user', nick, ts: this.#fx.now() });
    this.#fx.log(`connected: ${nick} (${session.remote}, ${session.dialect})`);

    const wanted = new Map<string, number | undefined>();
    if (request.restore) for (const room of this.#memberships.get(identity.owner) ?? []) wanted.set(room, undefined);
    const badRooms: string[] = [];
    for (const [raw, after] of Object.entries(request.rooms ?? {})) {
      const name = normalizeRoom(raw);
      if (name) wanted.set(name, after ?? undefined);
      else badRooms.push(raw);
    }
    // Bounded like joins: the rooms past the per-session limit are not entered.
    const rooms = [...wanted].slice(0, this.#maxRooms);
    const skipped = wanted.size - rooms.length;
    this.#fx.send(session, {
      type: 'welcome',
      v: PROTOCOL_VERSION,
      nick,
      server: this.#serverName,
      rooms: rooms.map(([name]) => name),
      limits: { maxLineBytes: MAX_LINE_BYTES, historyDefault: this.#historyOnJoin, historyMax: HISTORY_MAX },
      ...(identity.account ? { account: true } : {}),
      ...(identity.token ? { token: identity.token } : {}),
      ...(request.ref ? { ref: request.ref } : {}),
    });
    for (const raw of badRooms.slice(0, 10)) this.#error(session, 'TC_ERR_BAD_ROOM', undefined, raw);
    if (skipped > 0) this.#error(session, 'TC_ERR_TOO_MANY_ROOMS', undefined, `${skipped} of the rooms asked for were not joined (at most ${this.#maxRooms})`);
    const pmAfter = request.pmAfter;
    const after = () => {
      if (pmAfter !== undefined) this.#pmHistory(session, undefined, undefined, pmAfter, HISTORY_MAX, undefined);
    };
    if (rooms.length === 0) after();
    else this.#await(session, this.#restore(session, rooms), undefined, after);
    return null;
  }

  /**
   * Enters the rooms of a login one after the other, each once the session's output has drained
   * (a `joined` carries up to a page of history): a login restoring 100 busy rooms never queues
   * more than one room's answer beyond the output bound.
   */
  async #restore(session: S, rooms: [string, number | undefined][]): Promise<void> {
    const owner = session.owner;
    for (const [name, after] of rooms) {
      await this.#fx.whenWritable(session);
      if (this.#gone.has(session) || session.owner !== owner) return;
      const room = this.#rooms.get(name) ?? (this.#known.has(name) ? await this.#load(name) : null);
      if (this.#gone.has(session) || session.owner !== owner) return;
      this.#joinRoom(session, name, room, after, undefined, undefined);
    }
  }

  /** Enters a room (creating it when new) and answers with `joined`. */
  join(session: S, name: string, after: number | undefined, ref: string | undefined, key?: string): void {
    const room = this.#rooms.get(name);
    if (room || !this.#known.has(name)) return this.#joinRoom(session, name, room ?? null, after, ref, key);
    this.#await(session, this.#load(name), ref, (loaded) => this.#joinRoom(session, name, loaded, after, ref, key));
  }

  #joinRoom(session: S, name: string, found: Room<S> | null, after: number | undefined, ref: string | undefined, key: string | undefined): void {
    // Created or read back by someone else meanwhile: that one is the room.
    const existing = this.#rooms.get(name) ?? found;
    if (existing?.members.has(session)) return this.#enter(session, existing, after, ref);
    if (session.rooms.size >= this.#maxRooms) return this.#error(session, 'TC_ERR_TOO_MANY_ROOMS', ref, `at most ${this.#maxRooms}`);
    if (!existing) {
      const refused = this.#fx.allowRoomCreation(session);
      if (refused) return this.#sendError(session, refused, ref);
      return this.#enter(session, this.#create(session, name), after, ref);
    }
    if (!this.#rooms.has(name)) this.#rooms.set(name, existing);
    if (!existing.restricted || this.#mayEnter(session, existing)) return this.#enter(session, existing, after, ref);
    if (existing.inviteOnly) return this.#error(session, 'TC_ERR_INVITE_ONLY', ref, name);
    if (key === undefined) return this.#error(session, 'TC_ERR_BAD_KEY', ref, name);
    const owner = session.owner;
    const check = this.#fx.verifySecret(session, key, existing.keyHash!, { kind: 'room-key', name });
    this.#await(session, check, ref, (ok) => {
      if (session.owner !== owner) return;
      if (typeof ok === 'object') return this.#sendError(session, ok, ref);
      if (!ok) return this.#error(session, 'TC_ERR_BAD_KEY', ref, `wrong key for ${name}`);
      if (session.rooms.size >= this.#maxRooms) return this.#error(session, 'TC_ERR_TOO_MANY_ROOMS', ref, `at most ${this.#maxRooms}`);
      const room = this.#rooms.get(name) ?? existing;
      if (!this.#rooms.has(name)) this.#rooms.set(name, room);
      this.#enter(session, room, after, ref);
    });
  }

  /** The owner's memberships (persisted), the creator and invited owners enter a restricted room without its key. */
  #mayEnter(session: S, room: Room<S>): boolean {
    const owner = session.owner!;
    return room.creator === owner || room.invited.has(owner) || (this.#memberships.get(owner)?.has(room.name) ?? false);
  }

  #create(session: S, name: string): Room<S> {
    const now = this.#fx.now();
    const room = new Room<S>(name, new RecentMessages(this.#recentCapacity, [], true), now);
    room.creator = session.owner;
    this.#rooms.set(name, room);
    this.#known.add(name);
    this.#fx.persistState({ op: 'room', room: name, ts: now, creator: session.owner! });
    this.#fx.log(`room created: ${name} by ${session.nick}`);
    return room;
  }

  /** Reads a room back from the store into memory (once, however many ask at the same time). */
  #load(name: string): Promise<Room<S> | null> {
    const pending = this.#loading.get(name);
    if (pending) return pending;
    const loading = this.#fx.loadRoom(name, this.#historyOnJoin).then(
      (loaded) => {
        this.#loading.delete(name);
        const current = this.#rooms.get(name);
        if (current || !loaded) return current ?? null;
        const room = this.#fromStore(loaded);
        this.#rooms.set(name, room);
        return room;
      },
      (err: unknown) => {
        this.#loading.delete(name);
        throw err;
      },
    );
    this.#loading.set(name, loading);
    return loading;
  }

  #fromStore({ room: r, invites, recent }: LoadedRoom): Room<S> {
    // A full page may hide older messages: the ring is complete only when the page was not full.
    const room = new Room<S>(r.name, new RecentMessages(this.#recentCapacity, recent, recent.length < this.#historyOnJoin), this.#fx.now());
    room.topic = r.topic;
    room.topicBy = r.topicBy;
    room.creator = r.creator ?? null;
    room.keyHash = r.keyHash ?? null;
    room.inviteOnly = r.inviteOnly ?? false;
    for (const owner of invites) room.invited.add(owner);
    return room;
  }

  #enter(session: S, room: Room<S>, after: number | undefined, ref: string | undefined): void {
    const name = room.name;
    if (!room.members.has(session)) {
      room.members.add(session);
      session.rooms.add(room);
      const mine = this.#membershipsOf(session.owner!);
      if (!mine.has(name)) {
        mine.add(name);
        // A plain-text user's identity ends with its connection: nothing to restore later.
        if (!this.#ephemeral(session)) this.#fx.persistState({ op: 'membership-add', nick: session.owner!, room: name, ts: this.#fx.now() });
      }
      this.#fx.events.join(name);
      this.#fx.log(`join: ${session.nick} -> ${name}`);
      this.#announce(room, { type: 'presence', room: name, nick: session.nick!, event: 'join', ts: this.#fx.now() }, session);
    }
    let page: RoomMessage[];
    let more: boolean;
    const resumed = after !== undefined ? room.recent.query({ after, limit: this.#recentCapacity }) : null;
    if (resumed) {
      page = resumed.messages;
      more = false;
    } else {
      // Latest page: the ring holds at least historyOnJoin messages, or all of them.
      const latest = room.recent.query({ limit: this.#historyOnJoin }) ?? { messages: room.recent.toArray(), more: true };
      page = latest.messages;
      // For a resume the ring cannot cover, a gap remains between `after` and history[0].
      more = after !== undefined || latest.more;
    }
    const users = room.nicks(USERS_PAGE_MAX);
    this.#fx.send(session, {
      type: 'joined',
      room: name,
      topic: room.topic,
      users,
      ...(room.members.size > users.length ? { usersTotal: room.members.size } : {}),
      history: page,
      more,
      ...(ref ? { ref } : {}),
    });
  }

  /** Leaves cleanly: announced as a quit, then the connection closes. */
  quit(session: S, reason?: string): void {
    const why = reason ? sanitizeText(reason.slice(0, REASON_MAX_LENGTH)) : undefined;
    this.disconnect(session, 'quit', why);
    // Close after what is queued before the quit (its acks, its private messages) has gone out.
    this.#fx.inOrder(() => this.#fx.close(session, { type: 'bye', reason: 'quit' }));
  }

  // ---------- private ----------

  #hello(session: S, frame: HelloFrame): void {
    if (frame.v !== PROTOCOL_VERSION) {
      this.#error(session, 'TC_ERR_VERSION', frame.ref, `server speaks ${PROTOCOL_VERSION}, client ${frame.v}`);
      return this.#fx.close(session, { type: 'bye', code: 'TC_ERR_VERSION', reason: `unsupported protocol version ${frame.v}` });
    }
    const request: LoginRequest = { nick: frame.nick, rooms: frame.rooms, pmAfter: frame.pmAfter, ref: frame.ref, restore: true };
    if (frame.password !== undefined) request.password = frame.password;
    if (frame.register) request.register = true;
    if (frame.token !== undefined) request.token = frame.token;
    this.login(session, request, (error) => {
      if (error) this.#sendError(session, error, frame.ref);
    });
  }

  /**
   * Runs `then` with what `work` resolves to, holding the session's further input meanwhile (so
   * its answers keep the order of its commands). Nothing runs for a session that is gone; an
   * error answers the session with TC_ERR_INTERNAL.
   */
  #await<T>(session: S, work: Promise<T>, ref: string | undefined, then: (value: T) => void): void {
    this.#busy.set(session, (this.#busy.get(session) ?? 0) + 1);
    const settle = (run: () => void) => {
      this.#busy.set(session, this.#busy.get(session)! - 1);
      if (!this.#gone.has(session)) run();
      if (!this.isBusy(session)) session.resume?.();
    };
    work.then(
      (value) => settle(() => then(value)),
      (err: unknown) =>
        settle(() => {
          this.#fx.log(`error: ${(err as Error).message}`);
          this.#error(session, 'TC_ERR_INTERNAL', ref, 'the database is unavailable right now');
        }),
    );
  }

  /** Queues a state change and resolves once it is stored (true) or failed for good (false). */
  #stored(write: StateWrite): Promise<boolean> {
    return new Promise((resolve) => this.#fx.persistState(write, resolve));
  }

  #ephemeral(session: S): boolean {
    return session.dialect === 'plain' && isIdentityOwner(session.owner!);
  }

  #removeMember(room: Room<S>, session: S, now: number): void {
    room.members.delete(session);
    if (room.members.size === 0) room.emptySince = now;
  }

  #part(session: S, raw: string, ref: string | undefined): void {
    const room = this.#joinedRoom(session, raw, ref);
    if (!room) return;
    this.#removeMember(room, session, this.#fx.now());
    session.rooms.delete(room);
    this.#memberships.get(session.owner!)?.delete(room.name);
    if (!this.#ephemeral(session)) this.#fx.persistState({ op: 'membership-remove', nick: session.owner!, room: room.name });
    this.#fx.events.leave(room.name);
    this.#fx.log(`part: ${session.nick} <- ${room.name}`);
    this.#fx.send(session, { type: 'parted', room: room.name, ...(ref ? { ref } : {}) });
    this.#announce(room, { type: 'presence', room: room.name, nick: session.nick!, event: 'part', ts: this.#fx.now() });
  }

  #say(session: S, raw: string, text: string, action: boolean, ref: string | undefined): void {
    const room = this.#joinedRoom(session, raw, ref);
    if (!room) return;
    const clean = sanitizeText(text);
    if (clean.trim() === '') return this.#error(session, 'TC_ERR_EMPTY_TEXT', ref);
    const nick = session.nick!;
    const ts = this.#fx.now();
    const id = this.#fx.persist(
      { kind: 'room', room: room.name, nick, text: clean, action, ts },
      {
        deliver: (id) => {
          const message: RoomMessage = { id, ts, room: room.name, nick, text: clean, ...(action ? { action } : {}) };
          room.recent.push(message);
          this.#fx.broadcast(room.members, { type: 'message', ...message });
          this.#fx.events.message(room.name);
        },
        committed: (result) => this.#acknowledge(session, result, ts, ref),
      },
    );
    if (id === null) this.#error(session, 'TC_ERR_STORE_BUSY', ref);
  }

  #pm(session: S, to: string, text: string, action: boolean, ref: string | undefined): void {
    const target = this.#online.get(nickKey(to));
    if (!target) return this.#error(session, 'TC_ERR_NO_SUCH_USER', ref, to);
    const clean = sanitizeText(text);
    if (clean.trim() === '') return this.#error(session, 'TC_ERR_EMPTY_TEXT', ref);
    const from = session.nick!;
    const toNick = target.nick!;
    const toKey = target.key!;
    const toOwner = target.owner!;
    const ts = this.#fx.now();
    const id = this.#fx.persist(
      { kind: 'pm', from, to: toNick, fromOwner: session.owner!, toOwner, text: clean, action, ts },
      {
        deliver: (id) => {
          const frame: ServerFrame = { type: 'pm', id, ts, from, to: toNick, text: clean, ...(action ? { action } : {}) };
          // The recipient may have reconnected meanwhile: deliver to the same person holding the nick now.
          const recipient = this.#online.get(toKey);
          if (recipient && recipient !== session && recipient.owner === toOwner) this.#fx.send(recipient, frame);
          this.#fx.send(session, frame);
          this.#fx.events.privateMessage();
        },
        committed: (result) => this.#acknowledge(session, result, ts, ref),
      },
    );
    if (id === null) this.#error(session, 'TC_ERR_STORE_BUSY', ref);
  }

  /** Tells the sender its message is stored (`ack`), or that it never will be. */
  #acknowledge(session: S, result: PersistResult, ts: number, ref: string | undefined): void {
    if (!result.ok) return this.#sendError(session, result.error, ref);
    if (ref) this.#fx.send(session, { type: 'ack', ref, id: result.id, ts });
  }

  #nick(session: S, wanted: string, ref: string | undefined): void {
    const nick = wanted.trim();
    if (!isValidNick(nick)) return this.#error(session, 'TC_ERR_BAD_NICK', ref, JSON.stringify(nick));
    const old = session.nick!;
    const oldKey = session.key!;
    const key = nickKey(nick);
    if (nick === old) return this.#fx.send(session, { type: 'nick', old, new: nick, ts: this.#fx.now(), ...(ref ? { ref } : {}) });
    const holder = this.#online.get(key);
    if (holder && holder !== session) return this.#error(session, 'TC_ERR_NICK_IN_USE', ref, nick);
    // A registered nick is taken only by its own account (logged in under another nick).
    if (key !== oldKey && this.accountState(nick) !== 'open' && key !== session.owner) {
      return this.#sendError(session, this.#authRequired(nick), ref);
    }
    this.#online.delete(oldKey);
    this.#online.set(key, session);
    session.nick = nick;
    session.key = key;
    this.#fx.persistState({ op: 'user', nick, ts: this.#fx.now() });
    const ts = this.#fx.now();
    this.#fx.log(`nick: ${old} -> ${nick}`);
    this.#fx.send(session, { type: 'nick', old, new: nick, ts, ...(ref ? { ref } : {}) });
    for (const room of this.#roomsOf(session)) this.#announce(room, { type: 'nick', room: room.name, old, new: nick, ts });
  }

  #topic(session: S, raw: string, topic: string | undefined, ref: string | undefined): void {
    if (topic === undefined) {
      return this.#withRoom(session, raw, ref, (room) => {
        if (room.restricted && !room.members.has(session)) return this.#error(session, 'TC_ERR_NOT_IN_ROOM', ref, room.name);
        this.#fx.send(session, { type: 'topic', room: room.name, topic: room.topic, ts: this.#fx.now(), ...(ref ? { ref } : {}) });
      });
    }
    const room = this.#joinedRoom(session, raw, ref);
    if (!room) return;
    const clean = sanitizeText(topic).trim();
    if (clean.length > TOPIC_MAX_LENGTH) return this.#error(session, 'TC_ERR_TOPIC_TOO_LONG', ref);
    const by = session.nick!;
    const value = clean === '' ? null : clean;
    const ts = this.#fx.now();
    room.topic = value;
    room.topicBy = by;
    this.#fx.log(`topic: ${room.name} by ${by}`);
    // Announced (and so confirmed to the setter) once stored.
    this.#fx.persistState({ op: 'topic', room: room.name, topic: value, by, ts }, (ok) => {
      if (!ok) return this.#error(session, 'TC_ERR_STORE_FAILED', ref, 'the topic could not be saved');
      this.#fx.broadcast(room.members, { type: 'topic', room: room.name, topic: value, by, ts, ...(ref ? { ref } : {}) });
    });
  }

  #history(session: S, raw: string, before: number | undefined, after: number | undefined, limit: number, ref: string | undefined): void {
    const room = this.#joinedRoom(session, raw, ref);
    if (!room) return;
    const query = { before, after, limit };
    const cached = room.recent.query(query);
    if (cached) {
      this.#fx.send(session, { type: 'history', room: room.name, ...cached, ...(ref ? { ref } : {}) });
      return;
    }
    this.#await(session, this.#fx.roomHistory(room.name, { ...query, limit: limit + 1 }), ref, (rows) => {
      const more = rows.length > limit;
      const messages = !more ? rows : after !== undefined ? rows.slice(0, limit) : rows.slice(rows.length - limit);
      this.#fx.send(session, { type: 'history', room: room.name, messages, more, ...(ref ? { ref } : {}) });
    });
  }

  #pmHistory(session: S, peer: string | undefined, before: number | undefined, after: number | undefined, limit: number, ref: string | undefined): void {
    if (peer !== undefined && !isValidNick(peer)) return this.#error(session, 'TC_ERR_BAD_NICK', ref, JSON.stringify(peer));
    const owner = session.owner!;
    const read = this.#fx.privateHistory(owner, { before, after, limit: limit + 1, ...(peer ? { peer: nickKey(peer) } : {}) });
    this.#await(session, read, ref, (rows) => {
      if (session.owner !== owner) return;
      const more = rows.length > limit;
      const messages = !more ? rows : after !== undefined ? rows.slice(0, limit) : rows.slice(rows.length - limit);
      this.#fx.send(session, { type: 'pm-history', ...(peer ? { with: peer } : {}), messages, more, ...(ref ? { ref } : {}) });
    });
  }

  /** One page of the rooms people are in, by name. Restricted rooms show no topic to outsiders. */
  #roomList(session: S, after: string | undefined): { rooms: RoomSummary[]; more: boolean } {
    const names: string[] = [];
    for (const [name, room] of this.#rooms) if (room.members.size > 0 && (after === undefined || name > after)) names.push(name);
    names.sort();
    const page = names.slice(0, ROOMS_PAGE_MAX).map((name) => {
      const r = this.#rooms.get(name)!;
      return { name, members: r.members.size, topic: r.restricted && !r.members.has(session) ? null : r.topic };
    });
    return { rooms: page, more: names.length > ROOMS_PAGE_MAX };
  }

  /** Sends a room notice in order with the messages queued before it, to the members at that time. */
  #announce(room: Room<S>, frame: ServerFrame, except?: S): void {
    this.#fx.inOrder(() => this.#fx.broadcast(except ? without(room.members, except) : room.members, frame));
  }

  /** Runs `then` with an existing room, read back from the store when it is not in memory. */
  #withRoom(session: S, raw: string, ref: string | undefined, then: (room: Room<S>) => void): void {
    const name = normalizeRoom(raw);
    if (!name) return this.#error(session, 'TC_ERR_BAD_ROOM', ref, raw);
    const room = this.#rooms.get(name);
    if (room) return then(room);
    if (!this.#known.has(name)) return this.#error(session, 'TC_ERR_NO_SUCH_ROOM', ref, name);
    this.#await(session, this.#load(name), ref, (loaded) => {
      if (loaded) then(loaded);
      else this.#error(session, 'TC_ERR_NO_SUCH_ROOM', ref, name);
    });
  }

  // ---------- accounts and room modes ----------

  /**
   * `/register <password>`: makes the session's nick an account (or changes its password). What
   * the session's identity owned (memberships, invites, rooms it created, private history) passes
   * to the account. Confirmed once stored.
   */
  #registerPassword(session: S, password: string, ref: string | undefined): void {
    const weak = checkPassword(password);
    if (weak) return this.#sendError(session, weak, ref);
    const owner = session.owner!;
    const key = session.key!;
    if (!isIdentityOwner(owner) && owner !== key) {
      return this.#error(session, 'TC_ERR_BAD_ARGUMENT', ref, `you are logged in to the account ${owner}: /nick ${owner} to change its password`);
    }
    this.#await(session, this.#fx.hashSecret(password), ref, (hash) => {
      if (session.key !== key || session.owner !== owner) return;
      const nick = session.nick!;
      this.#accounts.set(key, hash);
      const writes: StateWrite[] = [{ op: 'account', nick, hash, ts: this.#fx.now() }];
      if (owner !== key) {
        writes.push({ op: 'owner-rename', from: owner, to: key });
        this.#moveOwner(owner, key);
        session.owner = key;
      }
      this.#fx.log(`account registered: ${nick}`);
      const last = writes.pop()!;
      for (const write of writes) this.#fx.persistState(write);
      this.#fx.persistState(last, (ok) => {
        if (!ok) return this.#error(session, 'TC_ERR_STORE_FAILED', ref, 'the account could not be saved');
        this.#fx.send(session, { type: 'registered', nick, ...(ref ? { ref } : {}) });
      });
    });
  }

  /** In memory, what `from` owned passes to `to` (the store does the same with `owner-rename`). */
  #moveOwner(from: string, to: string): void {
    const moved = this.#memberships.get(from);
    if (moved) {
      this.#memberships.delete(from);
      const target = this.#membershipsOf(to);
      for (const r of moved) target.add(r);
    }
    for (const room of this.#rooms.values()) {
      if (room.creator === from) room.creator = to;
      if (room.invited.delete(from)) room.invited.add(to);
    }
  }

  #modeFrame(room: Room<S>, by: string | undefined, ref: string | undefined): ServerFrame {
    return {
      type: 'mode',
      room: room.name,
      key: room.keyHash !== null,
      inviteOnly: room.inviteOnly,
      // Only an account is shown: an identity's id is nobody else's business.
      creator: room.creator !== null && !isIdentityOwner(room.creator) ? room.creator : null,
      ...(by ? { by } : {}),
      ts: this.#fx.now(),
      ...(ref ? { ref } : {}),
    };
  }

  /** Shows a room's modes, or (its creator, logged in to an account) changes them; confirmed once stored. */
  #mode(session: S, room: Room<S>, frame: ModeFrame, ref: string | undefined): void {
    if (frame.key === undefined && frame.inviteOnly === undefined) return this.#fx.send(session, this.#modeFrame(room, undefined, ref));
    const owner = session.owner!;
    if (room.creator !== owner) {
      const creator = room.creator === null ? 'nobody known' : isIdentityOwner(room.creator) ? 'someone else' : room.creator;
      return this.#error(session, 'TC_ERR_NOT_ROOM_CREATOR', ref, `${room.name} was created by ${creator}`);
    }
    if (isIdentityOwner(owner)) return this.#error(session, 'TC_ERR_NOT_REGISTERED_NICK', ref, 'room modes need a registered nick');
    if (typeof frame.key === 'string' && !ROOM_KEY_PATTERN.test(frame.key)) return this.#error(session, 'TC_ERR_BAD_ARGUMENT', ref, 'a room key is 1-64 characters without spaces');
    const apply = (keyHash: string | null | undefined) => {
      if (session.owner !== owner) return;
      if (keyHash !== undefined) room.keyHash = keyHash;
      if (frame.inviteOnly !== undefined) room.inviteOnly = frame.inviteOnly;
      if (!room.inviteOnly) room.invited.clear();
      this.#fx.log(`mode: ${room.name} ${room.keyHash ? '+k' : '-k'} ${room.inviteOnly ? '+i' : '-i'} by ${session.nick}`);
      // In force at once; confirmed (to the setter, announced to the room) once stored.
      this.#fx.persistState({ op: 'room-mode', room: room.name, keyHash: room.keyHash, inviteOnly: room.inviteOnly }, (ok) => {
        if (!ok) return this.#error(session, 'TC_ERR_STORE_FAILED', ref, 'the mode could not be saved');
        if (!room.members.has(session)) this.#fx.send(session, this.#modeFrame(room, session.nick!, ref));
        this.#fx.broadcast(without(room.members, session), this.#modeFrame(room, session.nick!, undefined));
        if (room.members.has(session)) this.#fx.send(session, this.#modeFrame(room, session.nick!, ref));
      });
    };
    if (typeof frame.key === 'string') this.#await(session, this.#fx.hashSecret(frame.key), ref, apply);
    else apply(frame.key === null ? null : undefined);
  }

  /**
   * Invites a person into a room (the inviter must be in the room, or be its creator). The
   * invitation goes to the owner behind the nick: someone online now, or an account. An offline
   * nick without an account is nobody in particular, so it cannot be invited.
   */
  #invite(session: S, rawNick: string, room: Room<S>, ref: string | undefined): void {
    if (!room.members.has(session) && room.creator !== session.owner) return this.#error(session, 'TC_ERR_NOT_IN_ROOM', ref, room.name);
    const nick = rawNick.trim();
    if (!isValidNick(nick)) return this.#error(session, 'TC_ERR_BAD_NICK', ref, JSON.stringify(nick));
    const key = nickKey(nick);
    const invitee = this.#online.get(key);
    const owner = invitee?.owner ?? (this.#accounts.has(key) ? key : null);
    if (owner === null) return this.#error(session, 'TC_ERR_NO_SUCH_USER', ref, `${nick} (invite someone who is online or has an account)`);
    const ts = this.#fx.now();
    const notice: ServerFrame = { type: 'invite', room: room.name, nick, by: session.nick!, ts };
    const confirm = (ok: boolean) => {
      if (!ok) return this.#error(session, 'TC_ERR_STORE_FAILED', ref, 'the invitation could not be saved');
      if (invitee && invitee !== session && invitee.owner === owner) this.#fx.send(invitee, notice);
      this.#fx.send(session, { ...notice, ...(ref ? { ref } : {}) });
    };
    this.#fx.log(`invite: ${nick} -> ${room.name} by ${session.nick}`);
    if (room.invited.has(owner)) return confirm(true);
    room.invited.add(owner);
    this.#fx.persistState({ op: 'invite', room: room.name, nick: owner, by: session.nick!, ts }, confirm);
  }

  #joinedRoom(session: S, raw: string, ref: string | undefined): Room<S> | undefined {
    const name = normalizeRoom(raw);
    if (!name) return void this.#error(session, 'TC_ERR_BAD_ROOM', ref, raw);
    const room = this.#rooms.get(name);
    if (!room || !room.members.has(session)) return void this.#error(session, 'TC_ERR_NOT_IN_ROOM', ref, name);
    return room;
  }

  /** A session's rooms, typed with the core's session type (Session.rooms cannot name it). */
  #roomsOf(session: S): Set<Room<S>> {
    return session.rooms as Set<Room<S>>;
  }

  #membershipsOf(owner: string): Set<string> {
    let set = this.#memberships.get(owner);
    if (!set) this.#memberships.set(owner, (set = new Set()));
    return set;
  }

  #error(session: S, code: ErrorCode, ref: string | undefined, detail?: string): void {
    this.#sendError(session, codedError(code, detail), ref);
  }

  #sendError(session: S, error: CodedError, ref: string | undefined): void {
    this.#fx.send(session, { type: 'error', code: error.code, message: error.message, ...(ref ? { ref } : {}) });
  }
}

function* without<T>(set: Set<T>, skip: T): Iterable<T> {
  for (const item of set) if (item !== skip) yield item;
}

function checkPassword(password: string): CodedError | null {
  const length = [...password].length;
  return length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH ? codedError('TC_ERR_WEAK_PASSWORD') : null;
}
