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
  type KickFrame,
  type ModeChangeNote,
  type ModeFrame,
  type PresenceEvent,
  type RoomMessage,
  type RoomSummary,
  type ServerFrame,
} from '@teamchat/protocol';
import type { CoreEffects, PersistResult } from './core-effects.js';
import { Directory, type RemoteUser } from './directory.js';
import { identityOwner, isIdentityOwner, parseToken } from './identity.js';
import { RecentMessages } from './recent-messages.js';
import {
  applyListChange,
  checkListChanges,
  checkMemberChanges,
  listLetter,
  listOf,
  matchesAny,
  tooManyChanges,
} from './room-modes.js';
import type { ClusterEvent, LoadedRoom, RoomAccess, StateWrite, StoredMessage, StoreSnapshot } from './records.js';
import { Room } from './room.js';
import { TeamFeatures } from './team-features.js';
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
  /** Shortest password an account may have (default PASSWORD_MIN_LENGTH, 8). */
  minPasswordLength?: number;
  /**
   * Let operators without an account change room modes (default off: a guest's rights end with
   * its identity, so by default modes need a registered nick). Conformance suites turn it on.
   */
  guestRoomModes?: boolean;
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
  /**
   * Register the nick with `password` when it is not registered yet; `when-required`: only when
   * the server requires accounts (a plain-text user typed PASS before the nick).
   */
  register?: boolean | 'when-required';
  /** A resume token from an earlier `welcome`. */
  token?: string;
  /** Only an existing account logs in (SASL): an unregistered nick is refused, not taken as a guest. */
  accountOnly?: boolean;
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
  /** Who is online, here and on the other nodes of a cluster. */
  readonly #directory = new Directory<S>();
  readonly #serverName: string;
  readonly #historyOnJoin: number;
  readonly #recentCapacity: number;
  readonly #maxRooms: number;
  readonly #roomIdleMs: number;
  #connections = 0;
  /** Sessions already disconnected: a quit is followed by the socket closing. */
  readonly #gone = new WeakSet<S>();
  readonly #requireAccounts: boolean;
  /** Sessions with a command waiting for the store or a password check: their next input waits. */
  readonly #busy = new WeakMap<S, number>();
  /** Edits, deletes, reactions, read markers, mentions and search (team-features.ts). */
  readonly #team: TeamFeatures<S>;
  readonly #minPassword: number;
  readonly #guestRoomModes: boolean;

  constructor(effects: CoreEffects<S>, snapshot: StoreSnapshot, options: ChatCoreOptions = {}) {
    this.#fx = effects;
    this.#team = new TeamFeatures<S>({
      fx: effects,
      joinedRoom: (session, raw, ref) => this.#joinedRoom(session, raw, ref),
      room: (name) => this.#rooms.get(name),
      sessionsOf: (owner) => this.#directory.localOf(owner),
      await: (session, work, ref, then) => this.#await(session, work, ref, then),
      error: (session, code, ref, detail) => this.#error(session, code, ref, detail),
      sendError: (session, error, ref) => this.#sendError(session, error, ref),
    });
    this.#serverName = options.serverName ?? 'teamchat';
    this.#historyOnJoin = options.historyOnJoin ?? HISTORY_DEFAULT;
    this.#recentCapacity = Math.max(options.recentCapacity ?? RECENT_CAPACITY, this.#historyOnJoin);
    this.#requireAccounts = options.requireAccounts ?? false;
    this.#maxRooms = options.maxRoomsPerSession ?? MAX_ROOMS_PER_CONNECTION;
    this.#roomIdleMs = options.roomIdleMs ?? DEFAULT_ROOM_IDLE_MS;
    this.#minPassword = Math.max(1, Math.min(options.minPasswordLength ?? PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH));
    this.#guestRoomModes = options.guestRoomModes ?? false;
    // Rooms are read back when someone joins them: only their names are kept from the start.
    // Accounts, memberships and room modes are read from the store when they are needed: in a
    // cluster, another node may have changed them a moment ago.
    for (const r of snapshot.rooms) this.#known.add(r.name);
  }

  // ---------- views for metrics and the HTTP side ----------

  /** Members on this node, per room in memory (each node reports its own; metrics sum the nodes). */
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
    return this.#directory.onlineCount;
  }

  isOnline(nick: string): boolean {
    return this.#directory.isOnline(nickKey(nick));
  }

  /** The room holds message `id` in memory (its recent messages): a reply to it needs no store read. */
  recentMessage(room: string, id: number): boolean {
    return this.#rooms.get(room)?.recent.query({ after: id - 1, limit: 1 })?.messages[0]?.id === id;
  }

  /** A room exists (in memory, or created once and stored). */
  hasRoom(name: string): boolean {
    return this.#rooms.has(name) || this.#known.has(name);
  }

  /** The session on this node holding `nick` (any dialect): what WHO and WHOIS show of it. */
  localSession(nick: string): S | undefined {
    return this.#directory.local(nickKey(nick));
  }

  /**
   * Sessions on this node whose nick `matches`, at most `limit` (IRC WHO with a mask): the caller
   * bounds the answer, the scan stops at the bound.
   */
  findSessions(matches: (nick: string) => boolean, limit: number): S[] {
    const out: S[] = [];
    for (const s of this.#directory.locals()) {
      if (out.length >= limit) break;
      if (s.nick !== null && matches(s.nick)) out.push(s);
    }
    return out;
  }

  /** Is the member `nick` an operator (+o, the creator included) of `room`? False when unknown. */
  isOperator(room: string, nick: string): boolean {
    const r = this.#rooms.get(room);
    const s = this.#directory.local(nickKey(nick));
    return r !== undefined && s !== undefined && r.isOperator(s.owner);
  }

  /** Is the member `nick` voiced (+v) in `room`? */
  isVoiced(room: string, nick: string): boolean {
    const r = this.#rooms.get(room);
    const s = this.#directory.local(nickKey(nick));
    return r !== undefined && s !== undefined && s.owner !== null && r.voiced.has(s.owner);
  }

  /**
   * Checks an account's password without logging in (SASL before registration): `done` gets null
   * when `nick` is an account and the password is its own, else the refusal. Nothing else
   * changes: a wrong guess counts against the account and the address, as at login.
   */
  checkAccount(session: S, nick: string, password: string, done: (error: CodedError | null) => void): void {
    if (!isValidNick(nick)) return done(codedError('TC_ERR_BAD_NICK', JSON.stringify(nick)));
    const key = nickKey(nick);
    this.#await(session, this.#fx.accountHash(key), undefined, (hash) => {
      if (hash === null) return done(codedError('TC_ERR_BAD_PASSWORD', `${nick} is not an account`));
      this.#await(
        session,
        this.#fx.verifySecret(session, password, hash, { kind: 'account', name: key }),
        undefined,
        (result) => {
          if (typeof result === 'object') return done(result);
          done(result ? null : codedError('TC_ERR_BAD_PASSWORD'));
        },
      );
    });
  }

  /** How a nick with (or without) a stored password hash may log in (see AccountState). */
  #accountState(hash: string | null): AccountState {
    if (hash !== null) return 'password';
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
    if (session.key !== null && this.#directory.removeLocal(session.key, session)) {
      const key = session.key;
      const nick = session.nick!;
      const instance = this.#fx.instance;
      const now = this.#fx.now();
      for (const room of this.#roomsOf(session)) {
        this.#removeMember(room, session, now);
        this.#fx.events.leave(room.name);
        if (this.#fx.clustered) this.#fx.persistState({ op: 'presence-leave', room: room.name, key });
        this.#announce(
          room,
          { type: 'presence', room: room.name, nick, event, ts: now, ...(reason ? { reason } : {}) },
          undefined,
          { kind: 'presence', room: room.name, key, nick, event, ts: now, instance, ...(reason ? { reason } : {}) },
        );
      }
      session.rooms.clear();
      if (this.#fx.clustered) {
        this.#fx.persistState({ op: 'nick-release', key, instance });
        this.#fx.inOrder(() => {}, { kind: 'offline', key, instance });
      }
      this.#fx.log(
        `${event === 'quit' ? 'quit' : 'disconnected'}: ${session.nick} (${session.remote})${reason ? ` (${reason})` : ''}`,
      );
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
    if (frame.type === 'ping')
      return this.#fx.send(session, {
        type: 'pong',
        ...(frame.ts !== undefined ? { ts: frame.ts } : {}),
        ...(ref ? { ref } : {}),
      });
    if (frame.type === 'quit') return this.quit(session, frame.reason);
    if (session.key === null) return this.#error(session, 'TC_ERR_NOT_REGISTERED', ref);

    switch (frame.type) {
      case 'join': {
        const name = normalizeRoom(frame.room);
        if (!name) return this.#error(session, 'TC_ERR_BAD_ROOM', ref, frame.room);
        return this.join(session, name, frame.after, ref, frame.key);
      }
      case 'part':
        return this.#part(session, frame.room, ref, frame.reason);
      case 'kick':
        return this.#kick(session, frame, ref);
      case 'msg':
        return this.#say(
          session,
          frame.room,
          frame.text,
          frame.action === true,
          ref,
          frame.cid,
          frame.replyTo,
          frame.notice === true,
        );
      case 'edit':
        return this.#team.edit(session, frame);
      case 'delete':
        return this.#team.remove(session, frame);
      case 'react':
        return this.#team.react(session, frame);
      case 'mark':
        return this.#team.mark(session, frame);
      case 'unread':
        return this.#team.unread(session, this.#roomNames(session), ref);
      case 'mentions':
        return this.#readable(session, ref, (rooms) => this.#team.mentions(session, frame, rooms));
      case 'highlights':
        return this.#team.highlights(session, frame);
      case 'search':
        return this.#readable(session, ref, (rooms) => this.#team.search(session, frame, rooms));
      case 'pm':
        return this.#pm(session, frame.to, frame.text, frame.action === true, ref, frame.cid, frame.notice === true);
      case 'users':
        return this.#withRoom(session, frame.room, ref, (room) => {
          if ((room.restricted || room.secret) && !room.members.has(session))
            return this.#error(session, 'TC_ERR_NOT_IN_ROOM', ref, room.name);
          const users = this.#roomNicks(room, USERS_PAGE_MAX + 1, frame.after);
          const more = users.length > USERS_PAGE_MAX;
          this.#fx.send(session, {
            type: 'users',
            room: room.name,
            users: more ? users.slice(0, USERS_PAGE_MAX) : users,
            ...(more ? { more } : {}),
            ...(ref ? { ref } : {}),
          });
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
        return this.#history(
          session,
          frame.room,
          frame.before,
          frame.after,
          frame.limit ?? HISTORY_DEFAULT,
          ref,
          frame.thread,
          times(frame),
        );
      case 'pm-history':
        return this.#pmHistory(
          session,
          frame.with,
          frame.before,
          frame.after,
          frame.limit ?? HISTORY_DEFAULT,
          ref,
          times(frame),
        );
    }
  }

  /**
   * Gives a session its nick: checks the password of a registered nick (or registers a new one)
   * off the event loop, or recognises a resume token. `done` gets null once the session is
   * welcomed, or the refusal (the connection stays open for another try) with how the nick may
   * log in.
   */
  login(session: S, request: LoginRequest, done: (error: CodedError | null, state?: AccountState) => void): void {
    const refused = this.#checkNick(session, request.nick);
    if (refused) return done(refused);
    const nick = request.nick.trim();
    const key = nickKey(nick);
    // Read now, not from a copy: the nick may have been registered a moment ago on another node.
    this.#await(session, this.#fx.accountHash(key), request.ref, (hash) => {
      const state = this.#accountState(hash);
      const fail = (error: CodedError) => done(error, state);
      const password = request.password;
      const register = request.register === 'when-required' ? state === 'register' : request.register === true;
      if (request.accountOnly && state !== 'password')
        return fail(codedError('TC_ERR_BAD_PASSWORD', `${nick} is not an account`));
      if (state === 'open' && !(register && password !== undefined))
        return this.#resumeIdentity(session, request, done);
      if (password === undefined) return fail(this.#authRequired(nick, state));
      if (state !== 'password' && !register) return fail(this.#authRequired(nick, state));
      if (state === 'password') {
        const check = this.#fx.verifySecret(session, password, hash!, { kind: 'account', name: key });
        return this.#await(session, check, undefined, (result) => {
          // Refused without a check (locked out): the throttle logs each lockout once, not each try.
          if (typeof result === 'object') return fail(result);
          if (!result) {
            this.#fx.log(`login refused: ${nick} (${session.remote}): wrong password`);
            return fail(codedError('TC_ERR_BAD_PASSWORD'));
          }
          this.#admit(session, request, { owner: key, account: true }, done);
        });
      }
      const weak = this.#checkPassword(password);
      if (weak) return fail(weak);
      this.#await(session, this.#fx.hashSecret(password), undefined, (hashed) => {
        const again = this.#checkNick(session, nick);
        if (again) return fail(again);
        // Stored before the welcome, and only if nobody (on any node) registered the nick first.
        this.#await(session, this.#fx.createAccount(nick, hashed), undefined, (created) => {
          if (!created) return fail(this.#authRequired(nick, 'password'));
          this.#fx.log(`account registered: ${nick}`);
          this.#admit(session, request, { owner: key, account: true }, done);
        });
      });
    });
  }

  /** A client without an account: the identity its token proves, or a fresh one. */
  #resumeIdentity(session: S, request: LoginRequest, done: (error: CodedError | null) => void): void {
    const fresh = (): Identity => {
      const made = this.#fx.newIdentity();
      // Plain-text and IRC users cannot keep a token: their identity lives as long as the connection.
      if (session.dialect !== 'json') return { owner: identityOwner(made.id), account: false };
      this.#fx.persistState({ op: 'identity', id: made.id, secretHash: made.secretHash, ts: this.#fx.now() });
      return { owner: identityOwner(made.id), account: false, token: made.token };
    };
    const token = request.token;
    if (token === undefined || parseToken(token) === null) return this.#admit(session, request, fresh(), done);
    this.#await(session, this.#fx.checkIdentity(token), undefined, (id) => {
      this.#admit(session, request, id !== null ? { owner: identityOwner(id), account: false, token } : fresh(), done);
    });
  }

  #checkNick(session: S, raw: string): CodedError | null {
    if (session.key !== null) return codedError('TC_ERR_ALREADY_REGISTERED');
    const nick = raw.trim();
    if (!isValidNick(nick)) return codedError('TC_ERR_BAD_NICK', JSON.stringify(nick));
    if (this.#directory.local(nickKey(nick))) return codedError('TC_ERR_NICK_IN_USE', nick);
    return null;
  }

  #authRequired(nick: string, state: AccountState): CodedError {
    return state === 'password'
      ? codedError('TC_ERR_AUTH_REQUIRED')
      : codedError(
          'TC_ERR_AUTH_REQUIRED',
          `this server needs an account: register ${nick} with hello {"register": true, "password": ...}`,
        );
  }

  /**
   * Welcomes a session under its nick, once the nick is ours across the cluster (a claim in the
   * store: two nodes can never both admit it), and brings back its rooms.
   */
  #admit(session: S, request: LoginRequest, identity: Identity, done: (error: CodedError | null) => void): void {
    const nick = request.nick.trim();
    const key = nickKey(nick);
    const local = this.#checkNick(session, nick);
    if (local) return done(local);
    const remote = this.#directory.remote(key);
    // Someone else holds it on another node (the same owner may take over: a reconnect after its node died).
    if (remote && remote.owner !== identity.owner) return done(codedError('TC_ERR_NICK_IN_USE', nick));
    this.#await(session, this.#fx.claimNick(key, nick, identity.owner), request.ref, (claim) => {
      const again = this.#checkNick(session, nick);
      if (again) return done(again);
      if (!claim.ok) return done(codedError('TC_ERR_NICK_IN_USE', nick));
      this.#welcome(session, request, identity, nick, key);
      done(null);
    });
  }

  #welcome(session: S, request: LoginRequest, identity: Identity, nick: string, key: string): void {
    session.nick = nick;
    session.key = key;
    session.owner = identity.owner;
    this.#directory.forgetRemoteKey(key);
    this.#directory.addLocal(session);
    const instance = this.#fx.instance;
    this.#fx.persistState({ op: 'user', nick, ts: this.#fx.now() });
    if (this.#fx.clustered) this.#fx.inOrder(() => {}, { kind: 'online', key, nick, owner: identity.owner, instance });
    this.#fx.log(`connected: ${nick} (${session.remote}, ${session.dialect})`);

    const asked = new Map<string, number | undefined>();
    const badRooms: string[] = [];
    for (const [raw, after] of Object.entries(request.rooms ?? {})) {
      const name = normalizeRoom(raw);
      if (name) asked.set(name, after ?? undefined);
      else badRooms.push(raw);
    }
    const owner = identity.owner;
    const start = (persisted: string[]) => {
      if (session.owner !== owner) return;
      const wanted = new Map<string, number | undefined>();
      for (const room of persisted) wanted.set(room, undefined);
      for (const [room, after] of asked) wanted.set(room, after);
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
      if (skipped > 0)
        this.#error(
          session,
          'TC_ERR_TOO_MANY_ROOMS',
          undefined,
          `${skipped} of the rooms asked for were not joined (at most ${this.#maxRooms})`,
        );
      const pmAfter = request.pmAfter;
      const after = () => {
        if (pmAfter !== undefined) this.#pmHistory(session, undefined, undefined, pmAfter, HISTORY_MAX, undefined);
        // Unread and mention counts of the rooms it is back in and of its private conversations,
        // from its read markers (any device); nothing when there is nothing to count.
        if (session.dialect === 'json') this.#team.unread(session, this.#roomNames(session), undefined, true);
      };
      if (rooms.length === 0) after();
      else this.#await(session, this.#restore(session, rooms), undefined, after);
    };
    // The owner's rooms, as stored (joined on this node or any other).
    if (request.restore && !this.#ephemeral(session))
      this.#await(session, this.#fx.membershipsOf(owner, this.#maxRooms), undefined, start);
    else start([]);
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
    // In a cluster any name may have been created on another node: ask the store.
    if (room || !(this.#known.has(name) || this.#fx.clustered))
      return this.#joinRoom(session, name, room ?? null, after, ref, key);
    this.#await(session, this.#load(name), ref, (loaded) => this.#joinRoom(session, name, loaded, after, ref, key));
  }

  #joinRoom(
    session: S,
    name: string,
    found: Room<S> | null,
    after: number | undefined,
    ref: string | undefined,
    key: string | undefined,
  ): void {
    // Created or read back by someone else meanwhile: that one is the room.
    const existing = this.#rooms.get(name) ?? found;
    if (existing?.members.has(session)) return this.#enter(session, existing, after, ref);
    if (session.rooms.size >= this.#maxRooms)
      return this.#error(session, 'TC_ERR_TOO_MANY_ROOMS', ref, `at most ${this.#maxRooms}`);
    if (!existing) {
      const refused = this.#fx.allowRoomCreation(session);
      if (refused) return this.#sendError(session, refused, ref);
      return this.#enter(session, this.#create(session, name), after, ref);
    }
    if (!this.#rooms.has(name)) this.#rooms.set(name, existing);
    const barred = this.#barred(session, existing, existing.invited.has(session.owner!));
    if (barred) return this.#sendError(session, barred, ref);
    // On a single node the room in memory is the truth: an open room needs no store read.
    if (!this.#fx.clustered && !existing.restricted) return this.#enter(session, existing, after, ref);
    const owner = session.owner!;
    // The key, +i and invitations as stored now: a change on another node counts at once.
    this.#await(session, this.#fx.roomAccess(name, owner), ref, (access) => {
      if (session.owner !== owner) return;
      const room = this.#rooms.get(name) ?? existing;
      if (!this.#rooms.has(name)) this.#rooms.set(name, room);
      if (access) this.#refreshAccess(room, access, owner);
      if (room.members.has(session)) return this.#enter(session, room, after, ref);
      if (session.rooms.size >= this.#maxRooms)
        return this.#error(session, 'TC_ERR_TOO_MANY_ROOMS', ref, `at most ${this.#maxRooms}`);
      const invited = access?.invited === true || room.invited.has(owner);
      const refused = this.#barred(session, room, invited);
      if (refused) return this.#sendError(session, refused, ref);
      const invex = room.inviteOnly && matchesAny(room.invexes, this.#maskOf(session));
      if (!room.restricted || room.creator === owner || invited || access?.member || (invex && room.keyHash === null))
        return this.#enter(session, room, after, ref);
      if (room.inviteOnly) return this.#error(session, 'TC_ERR_INVITE_ONLY', ref, name);
      if (key === undefined) return this.#error(session, 'TC_ERR_BAD_KEY', ref, name);
      const check = this.#fx.verifySecret(session, key, room.keyHash!, { kind: 'room-key', name });
      this.#await(session, check, ref, (ok) => {
        if (session.owner !== owner) return;
        if (typeof ok === 'object') return this.#sendError(session, ok, ref);
        if (!ok) return this.#error(session, 'TC_ERR_BAD_KEY', ref, `wrong key for ${name}`);
        if (session.rooms.size >= this.#maxRooms)
          return this.#error(session, 'TC_ERR_TOO_MANY_ROOMS', ref, `at most ${this.#maxRooms}`);
        const current = this.#rooms.get(name) ?? room;
        if (!this.#rooms.has(name)) this.#rooms.set(name, current);
        this.#enter(session, current, after, ref);
      });
    });
  }

  /** `nick!user@host` of a session, as ban masks see it. */
  #maskOf(session: S): string {
    return `${session.nick}!${session.userhost ?? `${session.key}@teamchat`}`;
  }

  /** A ban (+b, unless an exception +e matches) or the member cap (+l) keeps a joiner out; an invitation lets it in. */
  #barred(session: S, room: Room<S>, invited: boolean): CodedError | null {
    if (invited || room.isOperator(session.owner)) return null;
    const mask = this.#maskOf(session);
    if (matchesAny(room.bans, mask) && !matchesAny(room.excepts, mask)) return codedError('TC_ERR_BANNED', room.name);
    if (room.limit !== null && this.#memberCount(room) >= room.limit) return codedError('TC_ERR_ROOM_FULL', room.name);
    return null;
  }

  /** The room's access as stored (the one truth, whatever this node saw of it). */
  #refreshAccess(room: Room<S>, access: RoomAccess, owner: string): void {
    room.keyHash = access.keyHash;
    room.inviteOnly = access.inviteOnly;
    if (access.creator !== null && room.creator !== access.creator) room.operators.add(access.creator);
    room.creator = access.creator;
    if (access.invited) room.invited.add(owner);
    else room.invited.delete(owner);
  }

  #create(session: S, name: string): Room<S> {
    const now = this.#fx.now();
    const room = new Room<S>(name, new RecentMessages(this.#recentCapacity, [], true), now);
    room.creator = session.owner;
    room.operators.add(session.owner!);
    this.#rooms.set(name, room);
    this.#known.add(name);
    this.#fx.persistState({ op: 'room', room: name, ts: now, creator: session.owner! });
    if (this.#fx.clustered) this.#fx.inOrder(() => {}, { kind: 'room', room: name });
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
    const room = new Room<S>(
      r.name,
      new RecentMessages(this.#recentCapacity, recent, recent.length < this.#historyOnJoin),
      this.#fx.now(),
    );
    room.topic = r.topic;
    room.topicBy = r.topicBy;
    room.createdAt = r.createdAt;
    room.creator = r.creator ?? null;
    if (room.creator !== null) room.operators.add(room.creator);
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
      const now = this.#fx.now();
      // Idempotent in the store. A plain-text user's identity ends with its connection: nothing to restore later.
      if (!this.#ephemeral(session))
        this.#fx.persistState({ op: 'membership-add', nick: session.owner!, room: name, ts: now });
      const key = session.key!;
      const nick = session.nick!;
      if (this.#fx.clustered)
        this.#fx.persistState({ op: 'presence-join', room: name, key, nick, instance: this.#fx.instance });
      this.#fx.events.join(name);
      this.#fx.log(`join: ${nick} -> ${name}`);
      this.#announce(room, { type: 'presence', room: name, nick, event: 'join', ts: now }, session, {
        kind: 'presence',
        room: name,
        key,
        nick,
        event: 'join',
        ts: now,
        instance: this.#fx.instance,
      });
    }
    let page: RoomMessage[];
    let more: boolean;
    const resumed = after !== undefined ? room.recent.query({ after, limit: this.#recentCapacity }) : null;
    if (resumed) {
      page = resumed.messages;
      more = false;
    } else {
      // Latest page: the ring holds at least historyOnJoin messages, or all of them.
      const latest = room.recent.query({ limit: this.#historyOnJoin }) ?? {
        messages: room.recent.toArray(),
        more: true,
      };
      page = latest.messages;
      // For a resume the ring cannot cover, a gap remains between `after` and history[0].
      more = after !== undefined || latest.more;
    }
    const users = this.#roomNicks(room, USERS_PAGE_MAX);
    const total = this.#memberCount(room);
    this.#fx.send(session, {
      type: 'joined',
      room: name,
      topic: room.topic,
      ...(room.topic !== null && room.topicBy !== null ? { topicBy: room.topicBy } : {}),
      ...(room.topic !== null && room.topicAt !== null ? { topicAt: room.topicAt } : {}),
      users,
      ...(total > users.length ? { usersTotal: total } : {}),
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
      return this.#fx.close(session, {
        type: 'bye',
        code: 'TC_ERR_VERSION',
        reason: `unsupported protocol version ${frame.v}`,
      });
    }
    const request: LoginRequest = {
      nick: frame.nick,
      rooms: frame.rooms,
      pmAfter: frame.pmAfter,
      ref: frame.ref,
      restore: true,
    };
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

  #ephemeral(session: S): boolean {
    return session.dialect !== 'json' && isIdentityOwner(session.owner!);
  }

  #removeMember(room: Room<S>, session: S, now: number): void {
    room.members.delete(session);
    if (room.members.size === 0) room.emptySince = now;
  }

  /** A member leaves a room and its membership (a part or a kick): here, in the store, on other nodes. */
  #leaveForGood(room: Room<S>, session: S, now: number): void {
    this.#removeMember(room, session, now);
    session.rooms.delete(room);
    if (!this.#ephemeral(session))
      this.#fx.persistState({ op: 'membership-remove', nick: session.owner!, room: room.name });
    if (this.#fx.clustered) this.#fx.persistState({ op: 'presence-leave', room: room.name, key: session.key! });
    this.#fx.events.leave(room.name);
  }

  #part(session: S, raw: string, ref: string | undefined, rawReason?: string): void {
    const room = this.#joinedRoom(session, raw, ref);
    if (!room) return;
    const reason = rawReason === undefined ? '' : sanitizeText(rawReason).trim().slice(0, REASON_MAX_LENGTH);
    const why = reason !== '' ? { reason } : {};
    const now = this.#fx.now();
    const key = session.key!;
    const nick = session.nick!;
    this.#leaveForGood(room, session, now);
    this.#fx.log(`part: ${nick} <- ${room.name}`);
    this.#fx.send(session, { type: 'parted', room: room.name, ...(ref ? { ref } : {}) });
    this.#announce(room, { type: 'presence', room: room.name, nick, event: 'part', ts: now, ...why }, undefined, {
      kind: 'presence',
      room: room.name,
      key,
      nick,
      event: 'part',
      ts: now,
      instance: this.#fx.instance,
      ...why,
    });
  }

  /**
   * An operator puts a member out of the room: it leaves for good (as a part), gets `parted` with
   * who and why, and the room sees `presence` `kick`. The kicker's copy carries its `ref`.
   */
  #kick(session: S, frame: KickFrame, ref: string | undefined): void {
    const room = this.#joinedRoom(session, frame.room, ref);
    if (!room) return;
    if (!room.isOperator(session.owner)) return this.#error(session, 'TC_ERR_NOT_OPERATOR', ref, room.name);
    if (!isValidNick(frame.nick)) return this.#error(session, 'TC_ERR_NO_SUCH_USER', ref, JSON.stringify(frame.nick));
    const victim = this.#directory.local(nickKey(frame.nick));
    if (!victim || !room.members.has(victim)) {
      // Members on other nodes of a cluster are not kicked from here (their node owns their session).
      if (this.isOnline(frame.nick))
        return this.#error(session, 'TC_ERR_USER_NOT_IN_ROOM', ref, `${frame.nick} in ${room.name}`);
      return this.#error(session, 'TC_ERR_NO_SUCH_USER', ref, frame.nick);
    }
    const by = session.nick!;
    const cleaned = sanitizeText(frame.reason ?? '')
      .trim()
      .slice(0, REASON_MAX_LENGTH);
    const reason = cleaned === '' ? by : cleaned;
    const now = this.#fx.now();
    const nick = victim.nick!;
    const key = victim.key!;
    this.#leaveForGood(room, victim, now);
    this.#fx.log(`kick: ${nick} <- ${room.name} by ${by}`);
    const notice: ServerFrame = { type: 'presence', room: room.name, nick, event: 'kick', by, reason, ts: now };
    const others = [...room.members].filter((m) => m !== session);
    this.#fx.inOrder(
      () => {
        this.#fx.send(victim, { type: 'parted', room: room.name, by, reason });
        this.#fx.broadcast(others, notice);
        this.#fx.send(session, { ...notice, ...(ref ? { ref } : {}) });
      },
      this.#fx.clustered
        ? {
            kind: 'presence',
            room: room.name,
            key,
            nick,
            event: 'kick',
            reason,
            by,
            ts: now,
            instance: this.#fx.instance,
          }
        : undefined,
    );
  }

  #say(
    session: S,
    raw: string,
    text: string,
    action: boolean,
    ref: string | undefined,
    cid: string | undefined,
    replyTo: number | undefined,
    notice: boolean,
  ): void {
    const room = this.#speakable(session, raw, ref);
    if (!room) return;
    const clean = sanitizeText(text);
    if (clean.trim() === '') return this.#error(session, 'TC_ERR_EMPTY_TEXT', ref);
    if (replyTo !== undefined) {
      // A reply answers a message of the same room: checked in the store when memory does not hold it.
      const inRing = room.recent.query({ after: replyTo - 1, limit: 1 })?.messages[0];
      if (inRing?.id === replyTo) return this.#sayChecked(session, room, clean, action, ref, cid, replyTo, notice);
      return this.#await(session, this.#fx.messageInfo(replyTo), ref, (info) => {
        if (!info || info.room !== room.name)
          return this.#error(
            session,
            'TC_ERR_NO_SUCH_MESSAGE',
            ref,
            `${replyTo} (a reply answers a message of the same room)`,
          );
        this.#sayChecked(session, room, clean, action, ref, cid, replyTo, notice);
      });
    }
    this.#sayChecked(session, room, clean, action, ref, cid, undefined, notice);
  }

  /**
   * The room a session may send to: one it is in, or (when an operator lifted +n) an open room
   * it is not in; and in a moderated room (+m) only as an operator or voiced member.
   */
  #speakable(session: S, raw: string, ref: string | undefined): Room<S> | undefined {
    const name = normalizeRoom(raw);
    if (!name) return void this.#error(session, 'TC_ERR_BAD_ROOM', ref, raw);
    const room = this.#rooms.get(name);
    if (!room || (!room.members.has(session) && (room.noExternal || room.restricted)))
      return void this.#error(session, 'TC_ERR_NOT_IN_ROOM', ref, name);
    if (!room.maySpeak(session.owner)) return void this.#error(session, 'TC_ERR_MODERATED', ref, name);
    return room;
  }

  #sayChecked(
    session: S,
    room: Room<S>,
    clean: string,
    action: boolean,
    ref: string | undefined,
    cid: string | undefined,
    replyTo: number | undefined,
    notice: boolean,
  ): void {
    if (!room.members.has(session) && (room.noExternal || room.restricted))
      return this.#error(session, 'TC_ERR_NOT_IN_ROOM', ref, room.name);
    const nick = session.nick!;
    const ts = this.#fx.now();
    const reply = replyTo !== undefined ? { replyTo } : {};
    // A notice is a flag of the delivery only: stored and paged back as a message.
    const flag = notice ? { notice: true as const } : {};
    const accepted = this.#fx.persist(
      {
        kind: 'room',
        room: room.name,
        nick,
        owner: session.owner!,
        ...(cid !== undefined ? { cid } : {}),
        ...reply,
        text: clean,
        action,
        ts,
      },
      {
        deliver: (id) => {
          this.#deliverRoomMessage(room, {
            id,
            ts,
            room: room.name,
            nick,
            text: clean,
            ...(action ? { action } : {}),
            ...reply,
            ...flag,
          });
          this.#fx.events.message(room.name);
        },
        committed: (result) => this.#acknowledge(session, result, ts, ref, cid),
      },
    );
    if (!accepted) this.#error(session, 'TC_ERR_STORE_BUSY', ref);
  }

  #deliverRoomMessage(room: Room<S>, message: RoomMessage): void {
    const { notice: _notice, ...stored } = message;
    room.recent.push(stored);
    this.#fx.broadcast(room.members, { type: 'message', ...message });
  }

  #pm(
    session: S,
    to: string,
    text: string,
    action: boolean,
    ref: string | undefined,
    cid: string | undefined,
    notice = false,
  ): void {
    const toKey = nickKey(to);
    const local = this.#directory.local(toKey);
    const target = local ? { nick: local.nick!, owner: local.owner! } : this.#directory.remote(toKey);
    if (!target) return this.#error(session, 'TC_ERR_NO_SUCH_USER', ref, to);
    const clean = sanitizeText(text);
    if (clean.trim() === '') return this.#error(session, 'TC_ERR_EMPTY_TEXT', ref);
    const from = session.nick!;
    const toNick = target.nick;
    const toOwner = target.owner;
    const ts = this.#fx.now();
    const accepted = this.#fx.persist(
      {
        kind: 'pm',
        from,
        to: toNick,
        fromOwner: session.owner!,
        toOwner,
        ...(cid !== undefined ? { cid } : {}),
        text: clean,
        action,
        ts,
      },
      {
        deliver: (id) => {
          const frame: ServerFrame = {
            type: 'pm',
            id,
            ts,
            from,
            to: toNick,
            text: clean,
            ...(action ? { action } : {}),
            ...(notice ? { notice: true as const } : {}),
          };
          // The recipient may have reconnected meanwhile: deliver to the same person holding the nick now.
          const recipient = this.#directory.local(toKey);
          if (recipient && recipient !== session && recipient.owner === toOwner) this.#fx.send(recipient, frame);
          this.#fx.send(session, frame);
          this.#fx.events.privateMessage();
        },
        committed: (result) => this.#acknowledge(session, result, ts, ref, cid),
      },
    );
    if (!accepted) this.#error(session, 'TC_ERR_STORE_BUSY', ref);
  }

  /** Tells the sender its message is stored (`ack`), or that it never will be. */
  #acknowledge(session: S, result: PersistResult, ts: number, ref: string | undefined, cid: string | undefined): void {
    if (!result.ok) return this.#sendError(session, result.error, ref);
    // A repeated client id is answered like the first time: the stored message's id.
    if (ref || cid !== undefined)
      this.#fx.send(session, { type: 'ack', ref: ref ?? '', id: result.id, ts, ...(cid !== undefined ? { cid } : {}) });
  }

  #nick(session: S, wanted: string, ref: string | undefined): void {
    const nick = wanted.trim();
    if (!isValidNick(nick)) return this.#error(session, 'TC_ERR_BAD_NICK', ref, JSON.stringify(nick));
    const old = session.nick!;
    const oldKey = session.key!;
    const key = nickKey(nick);
    const owner = session.owner!;
    if (nick === old)
      return this.#fx.send(session, { type: 'nick', old, new: nick, ts: this.#fx.now(), ...(ref ? { ref } : {}) });
    const inUse = () => {
      const holder = this.#directory.local(key);
      return (holder && holder !== session) || (key !== oldKey && this.#directory.remote(key) !== undefined);
    };
    if (inUse()) return this.#error(session, 'TC_ERR_NICK_IN_USE', ref, nick);
    this.#await(session, this.#fx.accountHash(key), ref, (hash) => {
      if (session.key !== oldKey || session.owner !== owner) return;
      // A registered nick is taken only by its own account (logged in under another nick); with
      // accounts required, an unregistered one not at all (it would be a nick without an account).
      const state = this.#accountState(hash);
      if (key !== oldKey && state !== 'open' && key !== owner)
        return this.#sendError(session, this.#authRequired(nick, state), ref);
      if (inUse()) return this.#error(session, 'TC_ERR_NICK_IN_USE', ref, nick);
      const claim = key === oldKey ? Promise.resolve({ ok: true as const }) : this.#fx.claimNick(key, nick, owner);
      this.#await(session, claim, ref, (claimed) => {
        if (session.key !== oldKey || session.owner !== owner) return;
        if (!claimed.ok || inUse()) return this.#error(session, 'TC_ERR_NICK_IN_USE', ref, nick);
        this.#renamed(session, old, oldKey, nick, key, ref);
      });
    });
  }

  #renamed(session: S, old: string, oldKey: string, nick: string, key: string, ref: string | undefined): void {
    const instance = this.#fx.instance;
    this.#directory.removeLocal(oldKey, session);
    session.nick = nick;
    session.key = key;
    this.#directory.addLocal(session);
    const ts = this.#fx.now();
    this.#fx.persistState({ op: 'user', nick, ts });
    if (this.#fx.clustered) {
      if (key !== oldKey) this.#fx.persistState({ op: 'nick-release', key: oldKey, instance });
      for (const room of this.#roomsOf(session)) {
        if (key !== oldKey) this.#fx.persistState({ op: 'presence-leave', room: room.name, key: oldKey });
        this.#fx.persistState({ op: 'presence-join', room: room.name, key, nick, instance });
      }
    }
    this.#fx.log(`nick: ${old} -> ${nick}`);
    this.#fx.send(session, { type: 'nick', old, new: nick, ts, ...(ref ? { ref } : {}) });
    const rooms = [...this.#roomsOf(session)];
    for (const room of rooms) this.#announce(room, { type: 'nick', room: room.name, old, new: nick, ts });
    if (this.#fx.clustered)
      this.#fx.inOrder(() => {}, {
        kind: 'nick',
        oldKey,
        old,
        new: nick,
        rooms: rooms.map((r) => r.name),
        ts,
        instance,
      });
  }

  #topic(session: S, raw: string, topic: string | undefined, ref: string | undefined): void {
    if (topic === undefined) {
      return this.#withRoom(session, raw, ref, (room) => {
        if (room.restricted && !room.members.has(session))
          return this.#error(session, 'TC_ERR_NOT_IN_ROOM', ref, room.name);
        this.#fx.send(session, {
          type: 'topic',
          room: room.name,
          topic: room.topic,
          ts: this.#fx.now(),
          ...(ref ? { ref } : {}),
        });
      });
    }
    const room = this.#joinedRoom(session, raw, ref);
    if (!room) return;
    if (room.topicLock && !room.isOperator(session.owner))
      return this.#error(session, 'TC_ERR_NOT_OPERATOR', ref, `${room.name} is +t: only its operators set the topic`);
    const clean = sanitizeText(topic).trim();
    if (clean.length > TOPIC_MAX_LENGTH) return this.#error(session, 'TC_ERR_TOPIC_TOO_LONG', ref);
    const by = session.nick!;
    const value = clean === '' ? null : clean;
    const ts = this.#fx.now();
    room.topic = value;
    room.topicBy = by;
    room.topicAt = ts;
    this.#fx.log(`topic: ${room.name} by ${by}`);
    // Announced (and so confirmed to the setter) once stored.
    this.#fx.persistState({ op: 'topic', room: room.name, topic: value, by, ts }, (ok) => {
      if (!ok) return this.#error(session, 'TC_ERR_STORE_FAILED', ref, 'the topic could not be saved');
      this.#fx.broadcast(room.members, {
        type: 'topic',
        room: room.name,
        topic: value,
        by,
        ts,
        ...(ref ? { ref } : {}),
      });
    });
    if (this.#fx.clustered) this.#fx.inOrder(() => {}, { kind: 'topic', room: room.name, topic: value, by, ts });
  }

  #history(
    session: S,
    raw: string,
    before: number | undefined,
    after: number | undefined,
    limit: number,
    ref: string | undefined,
    thread?: number,
    ts?: { beforeTs?: number; afterTs?: number },
  ): void {
    const room = this.#joinedRoom(session, raw, ref);
    if (!room) return;
    const query = { before, after, limit, ...(thread !== undefined ? { thread } : {}), ...ts };
    // A thread is a few messages among many, and times are not what the ring is ordered by: the store.
    const cached = thread === undefined && ts === undefined ? room.recent.query(query) : null;
    if (cached) {
      this.#fx.send(session, { type: 'history', room: room.name, ...cached, ...(ref ? { ref } : {}) });
      return;
    }
    this.#await(session, this.#fx.roomHistory(room.name, { ...query, limit: limit + 1 }), ref, (rows) => {
      const more = rows.length > limit;
      const ascending = after !== undefined || ts?.afterTs !== undefined;
      const messages = !more ? rows : ascending ? rows.slice(0, limit) : rows.slice(rows.length - limit);
      this.#fx.send(session, { type: 'history', room: room.name, messages, more, ...(ref ? { ref } : {}) });
    });
  }

  #pmHistory(
    session: S,
    peer: string | undefined,
    before: number | undefined,
    after: number | undefined,
    limit: number,
    ref: string | undefined,
    ts?: { beforeTs?: number; afterTs?: number },
  ): void {
    if (peer !== undefined && !isValidNick(peer))
      return this.#error(session, 'TC_ERR_BAD_NICK', ref, JSON.stringify(peer));
    const owner = session.owner!;
    const read = this.#fx.privateHistory(owner, {
      before,
      after,
      limit: limit + 1,
      ...(peer ? { peer: nickKey(peer) } : {}),
      ...ts,
    });
    this.#await(session, read, ref, (rows) => {
      if (session.owner !== owner) return;
      const more = rows.length > limit;
      const ascending = after !== undefined || ts?.afterTs !== undefined;
      const messages = !more ? rows : ascending ? rows.slice(0, limit) : rows.slice(rows.length - limit);
      this.#fx.send(session, {
        type: 'pm-history',
        ...(peer ? { with: peer } : {}),
        messages,
        more,
        ...(ref ? { ref } : {}),
      });
    });
  }

  /** One page of the rooms people are in, by name. Restricted rooms show no topic to outsiders. */
  #roomList(session: S, after: string | undefined): { rooms: RoomSummary[]; more: boolean } {
    const names = new Set<string>();
    for (const [name, room] of this.#rooms) {
      if (room.members.size > 0 && (after === undefined || name > after) && (!room.secret || room.members.has(session)))
        names.add(name);
    }
    for (const name of this.#directory.remoteRoomNames())
      if ((after === undefined || name > after) && !this.#rooms.get(name)?.secret) names.add(name);
    const sorted = [...names].sort();
    const page = sorted.slice(0, ROOMS_PAGE_MAX).map((name) => {
      const r = this.#rooms.get(name);
      const members = (r?.members.size ?? 0) + this.#directory.remoteMembers(name).size;
      // A room only in use on other nodes: its topic is shown once someone here reads it in.
      return { name, members, topic: !r || (r.restricted && !r.members.has(session)) ? null : r.topic };
    });
    return { rooms: page, more: sorted.length > ROOMS_PAGE_MAX };
  }

  /**
   * Sends a room notice in order with the messages queued before it, to the members at that time;
   * `event` tells the other nodes of a cluster the same thing at the same place in the order.
   */
  #announce(room: Room<S>, frame: ServerFrame, except?: S, event?: ClusterEvent): void {
    const members = except ? [...without(room.members, except)] : [...room.members];
    this.#fx.inOrder(() => this.#fx.broadcast(members, frame), this.#fx.clustered ? event : undefined);
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

  // ---------- the other nodes of a cluster ----------

  /** A message committed on another node, in the cluster order (metrics count it where it was sent). */
  deliverRemote(stored: StoredMessage): void {
    if (stored.kind === 'room') {
      const room = this.#rooms.get(stored.message.room);
      if (room) this.#deliverRoomMessage(room, stored.message);
      return;
    }
    const recipient = this.#directory.local(nickKey(stored.message.to));
    if (recipient && recipient.owner === stored.toOwner) this.#fx.send(recipient, { type: 'pm', ...stored.message });
  }

  /** What another node did, in the cluster order: the directory and rooms here follow, local members are told. */
  applyRemote(event: ClusterEvent): void {
    switch (event.kind) {
      case 'online': {
        const here = this.#directory.local(event.key);
        // The same owner logged in on another node (a reconnect after a lost node, say): that one is it now.
        if (here && here.owner === event.owner)
          this.#fx.close(here, {
            type: 'bye',
            code: 'TC_ERR_NICK_IN_USE',
            reason: 'logged in from another connection',
          });
        this.#directory.forgetRemoteKey(event.key);
        this.#directory.addRemote({ key: event.key, nick: event.nick, owner: event.owner, instance: event.instance });
        return;
      }
      case 'offline':
        this.#directory.removeRemote(event.key, event.instance);
        return;
      case 'presence': {
        if (event.event === 'join')
          this.#directory.remoteJoin(event.room, event.key, { nick: event.nick, instance: event.instance });
        else this.#directory.remoteLeave(event.room, event.key);
        const room = this.#rooms.get(event.room);
        if (!room) return;
        if (event.event !== 'join' && room.members.size === 0) room.emptySince = this.#fx.now();
        this.#fx.broadcast(room.members, {
          type: 'presence',
          room: event.room,
          nick: event.nick,
          event: event.event,
          ts: event.ts,
          ...(event.reason ? { reason: event.reason } : {}),
          ...(event.by ? { by: event.by } : {}),
        });
        return;
      }
      case 'nick': {
        const key = nickKey(event.new);
        const user = this.#directory.remote(event.oldKey);
        if (user && user.instance === event.instance) {
          this.#directory.removeRemote(event.oldKey, event.instance);
          this.#directory.addRemote({ ...user, key, nick: event.new });
        }
        for (const name of event.rooms) {
          this.#directory.remoteLeave(name, event.oldKey);
          this.#directory.remoteJoin(name, key, { nick: event.new, instance: event.instance });
          const room = this.#rooms.get(name);
          if (room)
            this.#fx.broadcast(room.members, {
              type: 'nick',
              room: name,
              old: event.old,
              new: event.new,
              ts: event.ts,
            });
        }
        return;
      }
      case 'topic': {
        const room = this.#rooms.get(event.room);
        if (!room) return;
        room.topic = event.topic;
        room.topicBy = event.by;
        room.topicAt = event.ts;
        this.#fx.broadcast(room.members, {
          type: 'topic',
          room: event.room,
          topic: event.topic,
          by: event.by,
          ts: event.ts,
        });
        return;
      }
      case 'mode': {
        const room = this.#rooms.get(event.room);
        if (!room) return;
        room.keyHash = event.keyHash;
        room.inviteOnly = event.inviteOnly;
        if (!room.inviteOnly) room.invited.clear();
        this.#fx.broadcast(room.members, this.#modeFrame(room, event.by, undefined));
        return;
      }
      case 'invite': {
        this.#rooms.get(event.room)?.invited.add(event.owner);
        const invitee = this.#directory.local(nickKey(event.nick));
        if (invitee && invitee.owner === event.owner)
          this.#fx.send(invitee, { type: 'invite', room: event.room, nick: event.nick, by: event.by, ts: event.ts });
        return;
      }
      case 'room':
        this.#known.add(event.room);
        return;
      default:
        this.#team.applyRemote(event);
    }
  }

  /** The rooms the session is in now. */
  #roomNames(session: S): string[] {
    return [...this.#roomsOf(session)].map((r) => r.name);
  }

  /**
   * What the session may read: the rooms it is in and its owner's persisted memberships (rooms it
   * joined, passing their key or invitation). Never a restricted room it never entered.
   */
  #readable(session: S, ref: string | undefined, then: (rooms: string[]) => void): void {
    const now = this.#roomNames(session);
    if (this.#ephemeral(session)) return then(now);
    this.#await(session, this.#fx.membershipsOf(session.owner!, this.#maxRooms), ref, (stored) =>
      then([...new Set([...now, ...stored])]),
    );
  }

  /** A node is gone (its heartbeat stopped): its users leave every room, as a disconnect. */
  nodeLost(instance: string): number {
    const { users, rooms } = this.#directory.dropInstance(instance);
    const ts = this.#fx.now();
    for (const [name, nicks] of rooms) {
      const room = this.#rooms.get(name);
      if (!room) continue;
      if (room.members.size === 0) room.emptySince = ts;
      for (const nick of nicks)
        this.#fx.broadcast(room.members, {
          type: 'presence',
          room: name,
          nick,
          event: 'disconnect',
          ts,
          reason: 'server lost',
        });
    }
    if (users.length > 0) this.#fx.log(`node lost: ${instance} (${users.length} users shown as gone)`);
    return users.length;
  }

  /** Instances this node believes have users online. */
  knownInstances(): Set<string> {
    return this.#directory.instances();
  }

  /** Replaces the view of the other nodes with what the store holds (at start, or after missed events). */
  resync(users: RemoteUser[], presence: { room: string; key: string; nick: string; instance: string }[]): void {
    this.#directory.replaceRemote(users, presence, this.#fx.instance);
  }

  #roomNicks(room: Room<S>, limit: number, after?: string): string[] {
    const remote = this.#directory.remoteMembers(room.name);
    return room.nicks(limit, after, remote.size > 0 ? [...remote.values()].map((m) => m.nick) : undefined);
  }

  #memberCount(room: Room<S>): number {
    return room.members.size + this.#directory.remoteMembers(room.name).size;
  }

  // ---------- accounts and room modes ----------

  /**
   * `/register <password>`: makes the session's nick an account (or changes its password). What
   * the session's identity owned (memberships, invites, rooms it created, private history) passes
   * to the account. Confirmed once stored.
   */
  #registerPassword(session: S, password: string, ref: string | undefined): void {
    const weak = this.#checkPassword(password);
    if (weak) return this.#sendError(session, weak, ref);
    const owner = session.owner!;
    const key = session.key!;
    if (!isIdentityOwner(owner) && owner !== key) {
      return this.#error(
        session,
        'TC_ERR_BAD_ARGUMENT',
        ref,
        `you are logged in to the account ${owner}: /nick ${owner} to change its password`,
      );
    }
    this.#await(session, this.#fx.hashSecret(password), ref, (hash) => {
      if (session.key !== key || session.owner !== owner) return;
      const nick = session.nick!;
      const writes: StateWrite[] = [{ op: 'account', nick, hash, ts: this.#fx.now() }];
      if (owner !== key) {
        writes.push({ op: 'owner-rename', from: owner, to: key });
        this.#moveOwner(owner, key);
        // Re-filed in the directory under its new owner.
        this.#directory.removeLocal(key, session);
        session.owner = key;
        this.#directory.addLocal(session);
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
    for (const room of this.#rooms.values()) {
      if (room.creator === from) room.creator = to;
      if (room.invited.delete(from)) room.invited.add(to);
      if (room.operators.delete(from)) room.operators.add(to);
      if (room.voiced.delete(from)) room.voiced.add(to);
    }
  }

  #modeFrame(
    room: Room<S>,
    by: string | undefined,
    ref: string | undefined,
    changes?: ModeChangeNote[],
    lists = false,
  ): ServerFrame {
    return {
      type: 'mode',
      room: room.name,
      key: room.keyHash !== null,
      inviteOnly: room.inviteOnly,
      // Only an account is shown: an identity's id is nobody else's business.
      creator: room.creator !== null && !isIdentityOwner(room.creator) ? room.creator : null,
      topicLock: room.topicLock,
      noExternal: room.noExternal,
      moderated: room.moderated,
      secret: room.secret,
      ...(room.limit !== null ? { limit: room.limit } : {}),
      createdAt: room.createdAt,
      ...(lists ? { bans: [...room.bans], excepts: [...room.excepts], invexes: [...room.invexes] } : {}),
      ...(changes ? { changes } : {}),
      ...(by ? { by } : {}),
      ts: this.#fx.now(),
      ...(ref ? { ref } : {}),
    };
  }

  /**
   * Shows a room's modes (the mask lists to members only), or (an operator) changes them. The key
   * and +i are stored and confirmed once stored; the other modes live with the room in memory and
   * are announced in order with the messages around them. Every change is checked before any is
   * applied: a frame is applied whole or refused.
   */
  #mode(session: S, room: Room<S>, frame: ModeFrame, ref: string | undefined): void {
    const member = room.members.has(session);
    const question = Object.keys(frame).every((k) => k === 'type' || k === 'room' || k === 'ref');
    if (question)
      return this.#fx.send(
        session,
        this.#modeFrame(room, undefined, ref, undefined, member || !(room.restricted || room.secret)),
      );
    const owner = session.owner!;
    if (!room.isOperator(owner)) {
      const creator =
        room.creator === null ? 'nobody known' : isIdentityOwner(room.creator) ? 'someone else' : room.creator;
      return this.#error(session, 'TC_ERR_NOT_ROOM_CREATOR', ref, `${room.name} was created by ${creator}`);
    }
    if (isIdentityOwner(owner) && !this.#guestRoomModes)
      return this.#error(session, 'TC_ERR_NOT_REGISTERED_NICK', ref, 'room modes need a registered nick');
    const tooMany = tooManyChanges(frame);
    if (tooMany) return this.#sendError(session, tooMany, ref);
    if (typeof frame.key === 'string' && !ROOM_KEY_PATTERN.test(frame.key))
      return this.#error(session, 'TC_ERR_BAD_ARGUMENT', ref, 'a room key is 1-64 characters without spaces');
    if (frame.limit !== undefined && frame.limit !== null && (frame.limit < 1 || frame.limit > 100_000))
      return this.#error(session, 'TC_ERR_BAD_MODE', ref, 'a member limit is 1 to 100000');
    const members = checkMemberChanges(frame.members);
    if (!Array.isArray(members)) return this.#sendError(session, members, ref);
    const lists = checkListChanges(frame.lists);
    if (!Array.isArray(lists)) return this.#sendError(session, lists, ref);
    const targets: { session: S; role: 'op' | 'voice'; add: boolean }[] = [];
    for (const m of members) {
      const target = isValidNick(m.nick) ? this.#directory.local(nickKey(m.nick)) : undefined;
      if (!target)
        return this.#error(
          session,
          this.isOnline(m.nick) ? 'TC_ERR_USER_NOT_IN_ROOM' : 'TC_ERR_NO_SUCH_USER',
          ref,
          m.nick,
        );
      if (!room.members.has(target))
        return this.#error(session, 'TC_ERR_USER_NOT_IN_ROOM', ref, `${target.nick} in ${room.name}`);
      targets.push({ session: target, role: m.role, add: m.add });
    }
    const apply = (keyHash: string | null | undefined) => {
      if (session.owner !== owner) return;
      const changes: ModeChangeNote[] = [];
      const flag = (mode: string, now: boolean, wanted: boolean | undefined, set: (v: boolean) => void) => {
        if (wanted === undefined || wanted === now) return;
        set(wanted);
        changes.push({ mode, add: wanted });
      };
      const stored = { keyHash: room.keyHash, inviteOnly: room.inviteOnly };
      flag('i', room.inviteOnly, frame.inviteOnly, (v) => (room.inviteOnly = v));
      if (keyHash !== undefined && (keyHash !== null || room.keyHash !== null)) {
        room.keyHash = keyHash;
        changes.push(
          keyHash !== null ? { mode: 'k', add: true, arg: frame.key as string } : { mode: 'k', add: false, arg: '*' },
        );
      }
      flag('t', room.topicLock, frame.topicLock, (v) => (room.topicLock = v));
      flag('n', room.noExternal, frame.noExternal, (v) => (room.noExternal = v));
      flag('m', room.moderated, frame.moderated, (v) => (room.moderated = v));
      flag('s', room.secret, frame.secret, (v) => (room.secret = v));
      if (frame.limit !== undefined && frame.limit !== room.limit) {
        if (frame.limit !== null || room.limit !== null)
          changes.push(
            frame.limit !== null ? { mode: 'l', add: true, arg: String(frame.limit) } : { mode: 'l', add: false },
          );
        room.limit = frame.limit;
      }
      for (const t of targets) {
        const set = t.role === 'op' ? room.operators : room.voiced;
        const who = t.session.owner!;
        if (t.add) set.add(who);
        else set.delete(who);
        changes.push({ mode: t.role === 'op' ? 'o' : 'v', add: t.add, arg: t.session.nick! });
      }
      for (const l of lists)
        if (applyListChange(listOf(room, l.list), l, session.nick!, this.#fx.now()))
          changes.push({ mode: listLetter(l.list), add: l.add, arg: l.mask });
      if (!room.inviteOnly && stored.inviteOnly) room.invited.clear();
      const by = session.nick!;
      if (changes.length === 0) return this.#fx.send(session, this.#modeFrame(room, undefined, ref));
      this.#fx.log(`mode: ${room.name} ${changes.map((c) => (c.add ? '+' : '-') + c.mode).join('')} by ${by}`);
      const announce = () => {
        if (!room.members.has(session)) this.#fx.send(session, this.#modeFrame(room, by, ref, changes));
        this.#fx.broadcast(without(room.members, session), this.#modeFrame(room, by, undefined, changes));
        if (room.members.has(session)) this.#fx.send(session, this.#modeFrame(room, by, ref, changes));
      };
      if (room.keyHash === stored.keyHash && room.inviteOnly === stored.inviteOnly) return this.#fx.inOrder(announce);
      // The key and +i are in force at once; confirmed (to the setter, announced to the room) once stored.
      this.#fx.persistState(
        { op: 'room-mode', room: room.name, keyHash: room.keyHash, inviteOnly: room.inviteOnly },
        (ok) => {
          if (!ok) return this.#error(session, 'TC_ERR_STORE_FAILED', ref, 'the mode could not be saved');
          announce();
        },
      );
      if (this.#fx.clustered)
        this.#fx.inOrder(() => {}, {
          kind: 'mode',
          room: room.name,
          keyHash: room.keyHash,
          inviteOnly: room.inviteOnly,
          by,
          ts: this.#fx.now(),
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
    if (!room.members.has(session) && room.creator !== session.owner)
      return this.#error(session, 'TC_ERR_NOT_IN_ROOM', ref, room.name);
    // Into an invite-only room only its operators invite (RFC 2812 3.2.7).
    if (room.inviteOnly && !room.isOperator(session.owner))
      return this.#error(session, 'TC_ERR_NOT_OPERATOR', ref, `${room.name} is invite-only`);
    const nick = rawNick.trim();
    if (!isValidNick(nick)) return this.#error(session, 'TC_ERR_BAD_NICK', ref, JSON.stringify(nick));
    const key = nickKey(nick);
    const inviter = session.owner;
    this.#await(session, this.#fx.accountHash(key), ref, (hash) => {
      if (session.owner !== inviter) return;
      const invitee = this.#directory.local(key);
      const elsewhere = this.#directory.remote(key);
      const owner = invitee?.owner ?? elsewhere?.owner ?? (hash !== null ? key : null);
      if (owner === null)
        return this.#error(
          session,
          'TC_ERR_NO_SUCH_USER',
          ref,
          `${nick} (invite someone who is online or has an account)`,
        );
      const ts = this.#fx.now();
      const by = session.nick!;
      const notice: ServerFrame = { type: 'invite', room: room.name, nick, by, ts };
      const confirm = (ok: boolean) => {
        if (!ok) return this.#error(session, 'TC_ERR_STORE_FAILED', ref, 'the invitation could not be saved');
        if (invitee && invitee !== session && invitee.owner === owner) this.#fx.send(invitee, notice);
        this.#fx.send(session, { ...notice, ...(ref ? { ref } : {}) });
      };
      this.#fx.log(`invite: ${nick} -> ${room.name} by ${by}`);
      if (room.invited.has(owner)) return confirm(true);
      room.invited.add(owner);
      this.#fx.persistState({ op: 'invite', room: room.name, nick: owner, by, ts }, confirm);
      if (this.#fx.clustered) this.#fx.inOrder(() => {}, { kind: 'invite', room: room.name, owner, nick, by, ts });
    });
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

  #checkPassword(password: string): CodedError | null {
    const length = [...password].length;
    return length < this.#minPassword || length > PASSWORD_MAX_LENGTH
      ? codedError('TC_ERR_WEAK_PASSWORD', `${this.#minPassword} to ${PASSWORD_MAX_LENGTH} characters`)
      : null;
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

/** The time bounds of a history question, when it has any. */
function times(frame: { beforeTs?: number; afterTs?: number }): { beforeTs?: number; afterTs?: number } | undefined {
  if (frame.beforeTs === undefined && frame.afterTs === undefined) return undefined;
  return {
    ...(frame.beforeTs !== undefined ? { beforeTs: frame.beforeTs } : {}),
    ...(frame.afterTs !== undefined ? { afterTs: frame.afterTs } : {}),
  };
}
