/**
 * The chat core: rooms, nicks, memberships and commands. Pure decisions over in-memory state;
 * every side effect goes through the CoreEffects port, so the core runs in unit tests with no
 * sockets, no database and no timers.
 *
 * @example
 * const core = new ChatCore(effects, await store.loadSnapshot(RECENT_CAPACITY));
 * core.connect(session);
 * core.handle(session, { type: 'hello', v: 1, nick: 'alice' });
 */
import {
  codedError,
  HISTORY_DEFAULT,
  HISTORY_MAX,
  isValidNick,
  MAX_LINE_BYTES,
  nickKey,
  normalizeRoom,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  PROTOCOL_VERSION,
  ROOM_KEY_PATTERN,
  TOPIC_MAX_LENGTH,
  REASON_MAX_LENGTH,
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
import type { StoreSnapshot } from '../store/message-store.js';
import type { CoreEffects, PersistResult } from './core-effects.js';
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
}

/** Messages kept in memory per room by default: joins and most resumes never read the database. */
export const RECENT_CAPACITY = 200;

export interface RegisterRequest {
  nick: string;
  rooms?: Record<string, number | null>;
  pmAfter?: number;
  ref?: string;
  /** Put the nick back into its persisted rooms (NDJSON clients); plain-text users pick one room. */
  restore: boolean;
}

/** A registration that may carry a password (hello `password`/`register`, the plain-text password prompt). */
export interface LoginRequest extends RegisterRequest {
  password?: string;
  /** Register the nick with `password` when it is not registered yet. */
  register?: boolean;
}

/**
 * How a nick may log in: `open` (no password), `password` (registered: needs its password),
 * `register` (not registered, and the server requires accounts: must register with a password).
 */
export type AccountState = 'open' | 'password' | 'register';

export class ChatCore<S extends Session> {
  readonly #fx: CoreEffects<S>;
  readonly #rooms = new Map<string, Room<S>>();
  /** Online sessions by nick key. */
  readonly #online = new Map<string, S>();
  /** Persisted memberships: nick key -> room names. Survive disconnects and restarts. */
  readonly #memberships = new Map<string, Set<string>>();
  readonly #serverName: string;
  readonly #historyOnJoin: number;
  readonly #recentCapacity: number;
  #connections = 0;
  /** Sessions already disconnected: a quit is followed by the socket closing. */
  readonly #gone = new WeakSet<S>();
  /** Registered nicks: nick key -> password hash. */
  readonly #accounts = new Map<string, string>();
  readonly #requireAccounts: boolean;
  /** Sessions whose hello is waiting for a password check. */
  readonly #authenticating = new WeakSet<S>();

  constructor(effects: CoreEffects<S>, snapshot: StoreSnapshot, options: ChatCoreOptions = {}) {
    this.#fx = effects;
    this.#serverName = options.serverName ?? 'teamchat';
    this.#historyOnJoin = options.historyOnJoin ?? HISTORY_DEFAULT;
    this.#recentCapacity = Math.max(options.recentCapacity ?? RECENT_CAPACITY, this.#historyOnJoin);
    this.#requireAccounts = options.requireAccounts ?? false;
    for (const { nick, hash } of snapshot.accounts ?? []) this.#accounts.set(nickKey(nick), hash);
    const recentByRoom = new Map<string, RoomMessage[]>();
    for (const m of snapshot.recent) {
      let list = recentByRoom.get(m.room);
      if (!list) recentByRoom.set(m.room, (list = []));
      list.push(m);
    }
    for (const r of snapshot.rooms) {
      // The snapshot holds at most recentCapacity per room; a full page may hide older messages.
      const recent = recentByRoom.get(r.name) ?? [];
      const room = new Room<S>(r.name, new RecentMessages(this.#recentCapacity, recent, recent.length < this.#recentCapacity));
      room.topic = r.topic;
      room.topicBy = r.topicBy;
      room.creator = r.creator ?? null;
      room.keyHash = r.keyHash ?? null;
      room.inviteOnly = r.inviteOnly ?? false;
      this.#rooms.set(r.name, room);
    }
    for (const { room, nick } of snapshot.invites ?? []) this.#rooms.get(room)?.invited.add(nickKey(nick));
    for (const { nick, room } of snapshot.memberships) this.#membershipsOf(nick).add(room);
  }

  // ---------- views for metrics and the HTTP side ----------

  /** Online members per room, for every known room. */
  roomMembers(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, room] of this.#rooms) out.set(name, room.members.size);
    return out;
  }

  /** A keyed or invite-only room (in memory): public metrics must not name it. */
  isRestrictedRoom(name: string): boolean {
    return this.#rooms.get(name)?.restricted ?? false;
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

  /** True while the session's hello waits for its password check: hold its other input until then. */
  isAuthenticating(session: S): boolean {
    return this.#authenticating.has(session);
  }

  // ---------- connection lifecycle ----------

  connect(_session: S): void {
    this.#connections++;
    this.#fx.events.connectionOpened();
  }

  /**
   * The session is gone (its connection closed, or it quit). Announces it to its rooms; its
   * persisted memberships stay, so reconnecting with the same nick restores them.
   */
  disconnect(session: S, event: Extract<PresenceEvent, 'quit' | 'disconnect'> = 'disconnect', reason?: string): void {
    if (this.#gone.has(session)) return;
    this.#gone.add(session);
    if (session.key !== null && this.#online.get(session.key) === session) {
      this.#online.delete(session.key);
      for (const room of this.#roomsOf(session)) {
        room.members.delete(session);
        this.#fx.events.leave(room.name);
        this.#announce(room, { type: 'presence', room: room.name, nick: session.nick!, event, ts: this.#fx.now(), ...(reason ? { reason } : {}) });
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
      if (session.key !== null || this.#authenticating.has(session)) return this.#error(session, 'TC_ERR_ALREADY_REGISTERED', ref);
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
      case 'users': {
        const room = this.#visibleRoom(session, frame.room, ref);
        if (room) this.#fx.send(session, { type: 'users', room: room.name, users: room.nicks(), ...(ref ? { ref } : {}) });
        return;
      }
      case 'rooms':
        return this.#fx.send(session, { type: 'rooms', rooms: this.#roomList(session), ...(ref ? { ref } : {}) });
      case 'register':
        return this.#registerPassword(session, frame.password, ref);
      case 'mode':
        return this.#mode(session, frame, ref);
      case 'invite':
        return this.#invite(session, frame.nick, frame.room, ref);
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
   * Gives a session its nick. Returns the error (without sending it) when the nick is refused,
   * so a plain-text prompt can ask again.
   */
  register(session: S, request: RegisterRequest): CodedError | null {
    const refused = this.#checkNick(session, request.nick);
    if (refused) return refused;
    if (this.accountState(request.nick) !== 'open') return this.#authRequired(request.nick);
    return this.#admit(session, request, false);
  }

  /**
   * Gives a session its nick, checking the password of a registered nick (or registering a new
   * one) off the event loop. `done` gets null once the session is welcomed, or the refusal.
   */
  login(session: S, request: LoginRequest, done: (error: CodedError | null) => void): void {
    const refused = this.#checkNick(session, request.nick);
    if (refused) return done(refused);
    const nick = request.nick.trim();
    const key = nickKey(nick);
    const state = this.accountState(nick);
    const password = request.password;
    if (state === 'open' && !(request.register && password !== undefined)) return done(this.#admit(session, request, false));
    if (password === undefined) return done(this.#authRequired(nick));
    if (state !== 'password' && !request.register) return done(this.#authRequired(nick));
    if (state !== 'password') {
      const weak = checkPassword(password);
      if (weak) return done(weak);
    }
    this.#authenticating.add(session);
    const check = state === 'password' ? this.#fx.verifySecret(session, password, this.#accounts.get(key)!, { kind: 'account', name: key }) : this.#fx.hashSecret(password);
    const settle = (result: string | boolean | CodedError): CodedError | null => {
      if (typeof result === 'object') {
        this.#fx.log(`login refused: ${nick} (${session.remote}): ${result.code}`);
        return result;
      }
      if (result === false) {
        this.#fx.log(`login refused: ${nick} (${session.remote}): wrong password`);
        return codedError('TC_ERR_BAD_PASSWORD');
      }
      if (typeof result === 'string') {
        // A new account; the nick may have been registered or taken meanwhile.
        const again = this.#checkNick(session, nick) ?? (this.#accounts.has(key) ? this.#authRequired(nick) : null);
        if (again) return again;
        this.#accounts.set(key, result);
        this.#fx.persistState({ op: 'account', nick, hash: result, ts: this.#fx.now() });
        this.#fx.log(`account registered: ${nick}`);
      }
      return this.#admit(session, request, true);
    };
    check.then(
      (result) => {
        this.#authenticating.delete(session);
        if (this.#gone.has(session)) return;
        done(settle(result));
        session.loginSettled?.();
      },
      (err: unknown) => {
        this.#authenticating.delete(session);
        this.#fx.log(`error: password check failed: ${(err as Error).message}`);
        if (!this.#gone.has(session)) done(codedError('TC_ERR_INTERNAL', 'could not check the password'));
        session.loginSettled?.();
      },
    );
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

  #admit(session: S, request: RegisterRequest, account: boolean): CodedError | null {
    const refused = this.#checkNick(session, request.nick);
    if (refused) return refused;
    const nick = request.nick.trim();
    const key = nickKey(nick);
    session.nick = nick;
    session.key = key;
    this.#online.set(key, session);
    this.#fx.persistState({ op: 'user', nick, ts: this.#fx.now() });
    this.#fx.log(`connected: ${nick} (${session.remote}, ${session.dialect})`);

    const wanted = new Map<string, number | undefined>();
    if (request.restore) for (const room of this.#memberships.get(key) ?? []) wanted.set(room, undefined);
    const badRooms: string[] = [];
    for (const [raw, after] of Object.entries(request.rooms ?? {})) {
      const name = normalizeRoom(raw);
      if (name) wanted.set(name, after ?? undefined);
      else badRooms.push(raw);
    }
    this.#fx.send(session, {
      type: 'welcome',
      v: PROTOCOL_VERSION,
      nick,
      server: this.#serverName,
      rooms: [...wanted.keys()],
      limits: { maxLineBytes: MAX_LINE_BYTES, historyDefault: this.#historyOnJoin, historyMax: HISTORY_MAX },
      ...(account ? { account: true } : {}),
      ...(request.ref ? { ref: request.ref } : {}),
    });
    for (const raw of badRooms) this.#error(session, 'TC_ERR_BAD_ROOM', undefined, raw);
    for (const [name, after] of wanted) this.join(session, name, after, undefined);
    if (request.pmAfter !== undefined) this.#pmHistory(session, undefined, undefined, request.pmAfter, HISTORY_MAX, undefined);
    return null;
  }

  /** Enters a room (creating it when new) and answers with `joined`. */
  join(session: S, name: string, after: number | undefined, ref: string | undefined, key?: string): void {
    const existing = this.#rooms.get(name);
    if (existing && existing.restricted && !existing.members.has(session) && !this.#mayEnter(session, existing)) {
      if (existing.inviteOnly) return this.#error(session, 'TC_ERR_INVITE_ONLY', ref, name);
      if (key === undefined) return this.#error(session, 'TC_ERR_BAD_KEY', ref, name);
      const who = session.key;
      this.#fx.verifySecret(session, key, existing.keyHash!, { kind: 'room-key', name }).then(
        (ok) => {
          if (session.key !== who || this.#gone.has(session)) return;
          if (typeof ok === 'object') return this.#sendError(session, ok, ref);
          if (!ok) return this.#error(session, 'TC_ERR_BAD_KEY', ref, `wrong key for ${name}`);
          this.#enter(session, name, after, ref);
        },
        (err: unknown) => this.#storeReadFailed(session, err, ref),
      );
      return;
    }
    this.#enter(session, name, after, ref);
  }

  /** Members (persisted), the creator and invited nicks enter a restricted room without its key. */
  #mayEnter(session: S, room: Room<S>): boolean {
    const key = session.key!;
    return room.creator === key || room.invited.has(key) || (this.#memberships.get(key)?.has(room.name) ?? false);
  }

  #enter(session: S, name: string, after: number | undefined, ref: string | undefined): void {
    let room = this.#rooms.get(name);
    if (!room) {
      room = new Room<S>(name, new RecentMessages(this.#recentCapacity, [], true));
      room.creator = session.key;
      this.#rooms.set(name, room);
      this.#fx.persistState({ op: 'room', room: name, ts: this.#fx.now(), creator: session.key! });
      this.#fx.log(`room created: ${name} by ${session.nick}`);
    }
    if (!room.members.has(session)) {
      room.members.add(session);
      session.rooms.add(room);
      const mine = this.#membershipsOf(session.key!);
      if (!mine.has(name)) {
        mine.add(name);
        this.#fx.persistState({ op: 'membership-add', nick: session.key!, room: name, ts: this.#fx.now() });
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
      // Latest page: always answerable, the ring holds at least historyOnJoin messages or all of them.
      const latest = room.recent.query({ limit: this.#historyOnJoin })!;
      page = latest.messages;
      // For a resume the ring cannot cover, a gap remains between `after` and history[0].
      more = after !== undefined || latest.more;
    }
    this.#fx.send(session, {
      type: 'joined',
      room: name,
      topic: room.topic,
      users: room.nicks(),
      history: page,
      more,
      ...(ref ? { ref } : {}),
    });
  }

  /** Leaves cleanly: announced as a quit, then the connection closes. */
  quit(session: S, reason?: string): void {
    const why = reason ? sanitizeText(reason).slice(0, REASON_MAX_LENGTH) : undefined;
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
    this.login(session, request, (error) => {
      if (error) this.#sendError(session, error, frame.ref);
    });
  }

  #part(session: S, raw: string, ref: string | undefined): void {
    const room = this.#joinedRoom(session, raw, ref);
    if (!room) return;
    room.members.delete(session);
    session.rooms.delete(room);
    this.#memberships.get(session.key!)?.delete(room.name);
    this.#fx.persistState({ op: 'membership-remove', nick: session.key!, room: room.name });
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
    const ts = this.#fx.now();
    const id = this.#fx.persist(
      { kind: 'pm', from, to: toNick, text: clean, action, ts },
      {
        deliver: (id) => {
          const frame: ServerFrame = { type: 'pm', id, ts, from, to: toNick, text: clean, ...(action ? { action } : {}) };
          // The recipient may have reconnected meanwhile: deliver to whoever holds the nick now.
          const recipient = this.#online.get(toKey);
          if (recipient && recipient !== session) this.#fx.send(recipient, frame);
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
    if (key !== oldKey && this.accountState(nick) !== 'open') {
      return this.#sendError(session, this.#authRequired(nick), ref);
    }
    this.#online.delete(oldKey);
    this.#online.set(key, session);
    session.nick = nick;
    session.key = key;
    this.#fx.persistState({ op: 'user', nick, ts: this.#fx.now() });
    if (key !== oldKey) {
      const moved = this.#memberships.get(oldKey);
      if (moved) {
        this.#memberships.delete(oldKey);
        const target = this.#membershipsOf(key);
        for (const r of moved) target.add(r);
      }
      this.#fx.persistState({ op: 'membership-rename', from: oldKey, to: key });
    }
    const ts = this.#fx.now();
    this.#fx.log(`nick: ${old} -> ${nick}`);
    this.#fx.send(session, { type: 'nick', old, new: nick, ts, ...(ref ? { ref } : {}) });
    for (const room of this.#roomsOf(session)) this.#announce(room, { type: 'nick', room: room.name, old, new: nick, ts });
  }

  #topic(session: S, raw: string, topic: string | undefined, ref: string | undefined): void {
    if (topic === undefined) {
      const room = this.#visibleRoom(session, raw, ref);
      if (room) this.#fx.send(session, { type: 'topic', room: room.name, topic: room.topic, ts: this.#fx.now(), ...(ref ? { ref } : {}) });
      return;
    }
    const room = this.#joinedRoom(session, raw, ref);
    if (!room) return;
    const clean = sanitizeText(topic).trim();
    if (clean.length > TOPIC_MAX_LENGTH) return this.#error(session, 'TC_ERR_TOPIC_TOO_LONG', ref);
    room.topic = clean === '' ? null : clean;
    room.topicBy = session.nick;
    const ts = this.#fx.now();
    this.#fx.persistState({ op: 'topic', room: room.name, topic: room.topic, by: session.nick!, ts });
    this.#fx.log(`topic: ${room.name} by ${session.nick}`);
    this.#announce(room, { type: 'topic', room: room.name, topic: room.topic, by: session.nick!, ts, ...(ref ? { ref } : {}) });
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
    this.#fx.roomHistory(room.name, { ...query, limit: limit + 1 }).then(
      (rows) => {
        const more = rows.length > limit;
        const messages = !more ? rows : after !== undefined ? rows.slice(0, limit) : rows.slice(rows.length - limit);
        this.#fx.send(session, { type: 'history', room: room.name, messages, more, ...(ref ? { ref } : {}) });
      },
      (err: unknown) => this.#storeReadFailed(session, err, ref),
    );
  }

  #pmHistory(session: S, peer: string | undefined, before: number | undefined, after: number | undefined, limit: number, ref: string | undefined): void {
    if (peer !== undefined && !isValidNick(peer)) return this.#error(session, 'TC_ERR_BAD_NICK', ref, JSON.stringify(peer));
    const key = session.key!;
    this.#fx.privateHistory(key, { before, after, limit: limit + 1, ...(peer ? { peer: nickKey(peer) } : {}) }).then(
      (rows) => {
        const more = rows.length > limit;
        const messages = !more ? rows : after !== undefined ? rows.slice(0, limit) : rows.slice(rows.length - limit);
        if (session.key !== key) return; // gone or renamed meanwhile
        this.#fx.send(session, { type: 'pm-history', ...(peer ? { with: peer } : {}), messages, more, ...(ref ? { ref } : {}) });
      },
      (err: unknown) => this.#storeReadFailed(session, err, ref),
    );
  }

  #storeReadFailed(session: S, err: unknown, ref: string | undefined): void {
    this.#fx.log(`error: history read failed: ${(err as Error).message}`);
    this.#error(session, 'TC_ERR_INTERNAL', ref, 'history is unavailable right now');
  }

  #roomList(session: S): RoomSummary[] {
    return [...this.#rooms.values()]
      .map((r) => ({ name: r.name, members: r.members.size, topic: r.restricted && !r.members.has(session) ? null : r.topic }))
      .sort((a, b) => b.members - a.members || a.name.localeCompare(b.name));
  }

  /** Sends a room notice in order with the messages queued before it, to the members at that time. */
  #announce(room: Room<S>, frame: ServerFrame, except?: S): void {
    this.#fx.inOrder(() => this.#fx.broadcast(except ? without(room.members, except) : room.members, frame));
  }

  #existingRoom(session: S, raw: string, ref: string | undefined): Room<S> | undefined {
    const name = normalizeRoom(raw);
    if (!name) return void this.#error(session, 'TC_ERR_BAD_ROOM', ref, raw);
    const room = this.#rooms.get(name);
    if (!room) this.#error(session, 'TC_ERR_NO_SUCH_ROOM', ref, name);
    return room;
  }

  /** An existing room whose users and topic the session may see: any open room, or a restricted one it is in. */
  #visibleRoom(session: S, raw: string, ref: string | undefined): Room<S> | undefined {
    const room = this.#existingRoom(session, raw, ref);
    if (room && room.restricted && !room.members.has(session)) return void this.#error(session, 'TC_ERR_NOT_IN_ROOM', ref, room.name);
    return room;
  }

  // ---------- accounts and room modes ----------

  /** `/register <password>`: protects the session's nick (or changes its password). */
  #registerPassword(session: S, password: string, ref: string | undefined): void {
    const weak = checkPassword(password);
    if (weak) return this.#sendError(session, weak, ref);
    const key = session.key!;
    this.#fx.hashSecret(password).then(
      (hash) => {
        if (session.key !== key || this.#gone.has(session)) return;
        const nick = session.nick!;
        this.#accounts.set(key, hash);
        this.#fx.persistState({ op: 'account', nick, hash, ts: this.#fx.now() });
        this.#fx.log(`account registered: ${nick}`);
        this.#fx.send(session, { type: 'registered', nick, ...(ref ? { ref } : {}) });
      },
      (err: unknown) => {
        this.#fx.log(`error: hashing a password failed: ${(err as Error).message}`);
        this.#error(session, 'TC_ERR_INTERNAL', ref, 'could not register');
      },
    );
  }

  #modeFrame(room: Room<S>, by: string | undefined, ref: string | undefined): ServerFrame {
    return {
      type: 'mode',
      room: room.name,
      key: room.keyHash !== null,
      inviteOnly: room.inviteOnly,
      creator: room.creator,
      ...(by ? { by } : {}),
      ts: this.#fx.now(),
      ...(ref ? { ref } : {}),
    };
  }

  /** Shows a room's modes, or (its creator, logged in to a registered nick) changes them. */
  #mode(session: S, frame: ModeFrame, ref: string | undefined): void {
    const room = this.#existingRoom(session, frame.room, ref);
    if (!room) return;
    if (frame.key === undefined && frame.inviteOnly === undefined) return this.#fx.send(session, this.#modeFrame(room, undefined, ref));
    const key = session.key!;
    if (room.creator !== key) return this.#error(session, 'TC_ERR_NOT_ROOM_CREATOR', ref, room.creator ? `${room.name} was created by ${room.creator}` : `${room.name} has no known creator`);
    if (!this.#accounts.has(key)) return this.#error(session, 'TC_ERR_NOT_REGISTERED_NICK', ref, 'room modes need a registered nick');
    if (typeof frame.key === 'string' && !ROOM_KEY_PATTERN.test(frame.key)) return this.#error(session, 'TC_ERR_BAD_ARGUMENT', ref, 'a room key is 1-64 characters without spaces');
    const apply = (keyHash: string | null | undefined) => {
      if (session.key !== key || this.#gone.has(session)) return;
      if (keyHash !== undefined) room.keyHash = keyHash;
      if (frame.inviteOnly !== undefined) room.inviteOnly = frame.inviteOnly;
      if (!room.inviteOnly) room.invited.clear();
      this.#fx.persistState({ op: 'room-mode', room: room.name, keyHash: room.keyHash, inviteOnly: room.inviteOnly });
      this.#fx.log(`mode: ${room.name} ${room.keyHash ? '+k' : '-k'} ${room.inviteOnly ? '+i' : '-i'} by ${session.nick}`);
      if (!room.members.has(session)) this.#fx.send(session, this.#modeFrame(room, session.nick!, ref));
      this.#announce(room, this.#modeFrame(room, session.nick!, undefined), session);
      if (room.members.has(session)) this.#fx.inOrder(() => this.#fx.send(session, this.#modeFrame(room, session.nick!, ref)));
    };
    if (typeof frame.key === 'string') {
      this.#fx.hashSecret(frame.key).then(apply, (err: unknown) => this.#storeReadFailed(session, err, ref));
    } else {
      apply(frame.key === null ? null : undefined);
    }
  }

  /** Invites a nick into a room: the inviter must be in the room (or be its creator). */
  #invite(session: S, rawNick: string, rawRoom: string, ref: string | undefined): void {
    const room = this.#existingRoom(session, rawRoom, ref);
    if (!room) return;
    if (!room.members.has(session) && room.creator !== session.key) return this.#error(session, 'TC_ERR_NOT_IN_ROOM', ref, room.name);
    const nick = rawNick.trim();
    if (!isValidNick(nick)) return this.#error(session, 'TC_ERR_BAD_NICK', ref, JSON.stringify(nick));
    const key = nickKey(nick);
    const ts = this.#fx.now();
    if (!room.invited.has(key)) {
      room.invited.add(key);
      this.#fx.persistState({ op: 'invite', room: room.name, nick: key, by: session.nick!, ts });
    }
    this.#fx.log(`invite: ${nick} -> ${room.name} by ${session.nick}`);
    const notice: ServerFrame = { type: 'invite', room: room.name, nick, by: session.nick!, ts };
    const invitee = this.#online.get(key);
    if (invitee && invitee !== session) this.#fx.send(invitee, notice);
    this.#fx.send(session, { ...notice, ...(ref ? { ref } : {}) });
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

  #membershipsOf(key: string): Set<string> {
    let set = this.#memberships.get(key);
    if (!set) this.#memberships.set(key, (set = new Set()));
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
