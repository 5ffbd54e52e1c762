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
  nickKey,
  normalizeRoom,
  PROTOCOL_VERSION,
  TOPIC_MAX_LENGTH,
  REASON_MAX_LENGTH,
  type ClientFrame,
  type CodedError,
  type ErrorCode,
  type HelloFrame,
  type PresenceEvent,
  type RoomMessage,
  type RoomSummary,
  type ServerFrame,
} from '@teamchat/protocol';
import type { StoreSnapshot } from '../store/message-store.js';
import type { CoreEffects } from './core-effects.js';
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

  constructor(effects: CoreEffects<S>, snapshot: StoreSnapshot, options: ChatCoreOptions = {}) {
    this.#fx = effects;
    this.#serverName = options.serverName ?? 'teamchat';
    this.#historyOnJoin = options.historyOnJoin ?? HISTORY_DEFAULT;
    this.#recentCapacity = Math.max(options.recentCapacity ?? RECENT_CAPACITY, this.#historyOnJoin);
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
      this.#rooms.set(r.name, room);
    }
    for (const { nick, room } of snapshot.memberships) this.#membershipsOf(nick).add(room);
  }

  // ---------- views for metrics and the HTTP side ----------

  /** Online members per room, for every known room. */
  roomMembers(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, room] of this.#rooms) out.set(name, room.members.size);
    return out;
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
      if (session.key !== null) return this.#error(session, 'TC_ERR_ALREADY_REGISTERED', ref);
      return this.#hello(session, frame);
    }
    if (frame.type === 'ping') return this.#fx.send(session, { type: 'pong', ...(frame.ts !== undefined ? { ts: frame.ts } : {}), ...(ref ? { ref } : {}) });
    if (frame.type === 'quit') return this.quit(session, frame.reason);
    if (session.key === null) return this.#error(session, 'TC_ERR_NOT_REGISTERED', ref);

    switch (frame.type) {
      case 'join': {
        const name = normalizeRoom(frame.room);
        if (!name) return this.#error(session, 'TC_ERR_BAD_ROOM', ref, frame.room);
        return this.join(session, name, frame.after, ref);
      }
      case 'part':
        return this.#part(session, frame.room, ref);
      case 'msg':
        return this.#say(session, frame.room, frame.text, frame.action === true, ref);
      case 'pm':
        return this.#pm(session, frame.to, frame.text, frame.action === true, ref);
      case 'users': {
        const room = this.#existingRoom(session, frame.room, ref);
        if (room) this.#fx.send(session, { type: 'users', room: room.name, users: room.nicks(), ...(ref ? { ref } : {}) });
        return;
      }
      case 'rooms':
        return this.#fx.send(session, { type: 'rooms', rooms: this.#roomList(), ...(ref ? { ref } : {}) });
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
    if (session.key !== null) return codedError('TC_ERR_ALREADY_REGISTERED');
    const nick = request.nick.trim();
    if (!isValidNick(nick)) return codedError('TC_ERR_BAD_NICK', JSON.stringify(nick));
    const key = nickKey(nick);
    if (this.#online.has(key)) return codedError('TC_ERR_NICK_IN_USE', nick);
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
      limits: { maxLineBytes: 8192, historyDefault: this.#historyOnJoin, historyMax: HISTORY_MAX },
      ...(request.ref ? { ref: request.ref } : {}),
    });
    for (const raw of badRooms) this.#error(session, 'TC_ERR_BAD_ROOM', undefined, raw);
    for (const [name, after] of wanted) this.join(session, name, after, undefined);
    if (request.pmAfter !== undefined) this.#pmHistory(session, undefined, undefined, request.pmAfter, HISTORY_MAX, undefined);
    return null;
  }

  /** Enters a room (creating it when new) and answers with `joined`. */
  join(session: S, name: string, after: number | undefined, ref: string | undefined): void {
    let room = this.#rooms.get(name);
    if (!room) {
      room = new Room<S>(name, new RecentMessages(this.#recentCapacity, [], true));
      this.#rooms.set(name, room);
      this.#fx.persistState({ op: 'room', room: name, ts: this.#fx.now() });
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
    const error = this.register(session, { nick: frame.nick, rooms: frame.rooms, pmAfter: frame.pmAfter, ref: frame.ref, restore: true });
    if (error) this.#sendError(session, error, frame.ref);
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
    const queued = this.#fx.persist({ kind: 'room', room: room.name, nick, text: clean, action, ts }, (result) => {
      if (!result.ok) return this.#sendError(session, result.error, ref);
      const message: RoomMessage = { id: result.id, ts, room: room.name, nick, text: clean, ...(action ? { action } : {}) };
      room.recent.push(message);
      this.#fx.broadcast(room.members, { type: 'message', ...message });
      this.#fx.events.message(room.name);
      if (ref) this.#fx.send(session, { type: 'ack', ref, id: result.id, ts });
    });
    if (!queued) this.#error(session, 'TC_ERR_STORE_BUSY', ref);
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
    const queued = this.#fx.persist({ kind: 'pm', from, to: toNick, text: clean, action, ts }, (result) => {
      if (!result.ok) return this.#sendError(session, result.error, ref);
      const frame: ServerFrame = { type: 'pm', id: result.id, ts, from, to: toNick, text: clean, ...(action ? { action } : {}) };
      // The recipient may have reconnected meanwhile: deliver to whoever holds the nick now.
      const recipient = this.#online.get(toKey);
      if (recipient && recipient !== session) this.#fx.send(recipient, frame);
      this.#fx.send(session, frame);
      this.#fx.events.privateMessage();
      if (ref) this.#fx.send(session, { type: 'ack', ref, id: result.id, ts });
    });
    if (!queued) this.#error(session, 'TC_ERR_STORE_BUSY', ref);
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
      const room = this.#existingRoom(session, raw, ref);
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

  #roomList(): RoomSummary[] {
    return [...this.#rooms.values()]
      .map((r) => ({ name: r.name, members: r.members.size, topic: r.topic }))
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
