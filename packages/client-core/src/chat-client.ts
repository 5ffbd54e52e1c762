/**
 * The typed teamchat client: one session at a time over TCP, TLS or WebSocket, kept up across
 * drops. Every NDJSON client (the terminal client, scripts, tests, tools) can stand on it.
 *
 * - Connecting: the addresses (one server, or the nodes of a cluster) are used in turn: a lost
 *   connection or a failed attempt moves to the next one after the backoff delay (one `Backoff`,
 *   reset by each `welcome`). Each attempt is abandoned after `connectTimeoutMs`; with
 *   `giveUpAfterMs`, a client that never got a session that long stops (`closed`, `unreachable`).
 * - Session and resume: `hello` carries the nick, password, resume token (the latest `welcome`'s)
 *   and, per room, the last message id seen there (the cursor); after the first session also
 *   `pmAfter`. A `joined` that reports a gap after the cursor is completed with `history` pages
 *   before it is passed on, so listeners see one contiguous `joined` per room; the private
 *   messages since `pmAfter` are paged in the same way. Then the client is `ready`.
 * - Dedupe: every room and private message is passed on at most once (a bounded set of ids).
 * - Requests: each gets a fresh `ref`, waits in a map keyed by it with a timeout, and resolves
 *   with its typed answer (`await client.history('general', { limit: 50 })`) or rejects with a
 *   `ClientError` (the server's code, or TC_CLIENT_*). Answers are also passed on as `frame`
 *   events, like every other frame of the server (room messages, presence, topics, ...).
 * - Exactly-once sends: `say` and `pm` give the frame a `cid` and keep it in a bounded outbox until
 *   the server's `ack`. Sent while offline, it waits; on a drop, what was not acked is resent
 *   after the resume, with the same `cid`, and the server stores it once.
 * - Heartbeat: the server's `ping` is answered; a connection silent for three `pingIntervalMs`
 *   is considered dead and replaced.
 *
 * @example
 * const client = await ChatClient.connect({ addresses: [{ host: 'localhost', port: 5555 }], nick: 'alice', rooms: ['general'] });
 * client.on((e) => e.kind === 'frame' && e.frame.type === 'message' && console.log(e.frame.text));
 * await client.say('general', 'hi');
 * const page = await client.history('general', { limit: 20 });
 * await client.quit();
 */
import { isIP } from 'node:net';
import {
  decodeServerFrame,
  HISTORY_MAX,
  isValidCid,
  normalizeRoom,
  PROTOCOL_VERSION,
  type AckFrame,
  type ClientFrame,
  type DeletedFrame,
  type EditedFrame,
  type MarkerFrame,
  type MentionsListFrame,
  type HighlightsListFrame,
  type ReactionFrame,
  type SearchResultsFrame,
  type UnreadCountsFrame,
  type ErrorFrame,
  type HistoryPageFrame,
  type InviteNoticeFrame,
  type JoinedFrame,
  type NickChangeFrame,
  type PartedFrame,
  type PmHistoryPageFrame,
  type PongFrame,
  type PrivateMessage,
  type RegisteredFrame,
  type RoomMessage,
  type RoomModeFrame,
  type RoomsListFrame,
  type ServerFrame,
  type ServerFrameType,
  type TopicChangeFrame,
  type UsersListFrame,
  type WelcomeFrame,
} from '@teamchat/protocol';
import { Backoff, type BackoffOptions } from './backoff.js';
import { ClientError } from './client-error.js';
import { describeFailure, formatMs } from './connect-failure.js';
import { newCid } from './new-cid.js';
import { Outbox, type OutboxItem, type OutgoingMessage } from './outbox.js';
import { PendingRequests } from './pending-requests.js';
import { SeenIds } from './seen-ids.js';
import { formatAddress, type ServerAddress } from './server-address.js';
import { tcpTransport } from './transport/tcp-transport.js';
import type { TlsOptions, Transport, TransportFactory } from './transport/transport.js';
import { wsTransport } from './transport/ws-transport.js';

export type ClientStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface ClientState {
  status: ClientStatus;
  /** `host:port` of the server in use (or being tried). */
  server: string;
  /** The nick in use (or wanted, before the server confirmed it). */
  nick: string;
  /** When `reconnecting`: epoch ms of the next attempt. */
  retryAt: number | null;
  /** Why the last connection ended, if it did (an errno code such as `ECONNREFUSED`, or the server's reason). */
  reason: string | null;
  /** In a session and resumed: messages are sent right away. */
  ready: boolean;
}

export type ClientEvent =
  | { kind: 'state'; state: ClientState }
  /** A server frame, deduplicated; `resumed` marks the `joined` frames of a reconnect. */
  | { kind: 'frame'; frame: ServerFrame; resumed: boolean }
  /** The first `hello` was refused (nick in use or invalid); the connection stays open: call `hello({ nick })`. */
  | { kind: 'hello-refused'; error: ErrorFrame }
  /** In a session and resumed (`first`: the first time); `resent` messages were written again, with their cids. */
  | { kind: 'ready'; first: boolean; resent: number }
  /**
   * Something could not be used: a bad frame (its decode code, TC_ERR_*), an oversized line
   * (TC_ERR_LINE_TOO_LONG), a resume gap too long to fill (TC_CLIENT_GAP_TRUNCATED), a token
   * lookup that threw (TC_CLIENT_TOKEN).
   */
  | { kind: 'warning'; message: string; code: string }
  /**
   * Closed for good. `reason` is `quit` after `quit()` or `destroy()`; otherwise it says why (a
   * fatal refusal, or, with `unreachable`, that no session could be opened within `giveUpAfterMs`).
   */
  | { kind: 'closed'; reason: string; unreachable?: boolean };

export interface ChatClientOptions {
  /** One server, or the nodes of a cluster (tried in turn). At least one. */
  addresses: readonly ServerAddress[];
  /** `tcp` (default), `ws` (the server's HTTP port, `/ws`), or a transport of your own. */
  transport?: 'tcp' | 'ws' | TransportFactory;
  /** TLS (over TCP, or `wss://`); `ca` trusts a self-signed certificate. */
  tls?: TlsOptions;
  nick: string;
  /** Password of a registered nick. */
  password?: string;
  /** With `password`: register the nick if it is not registered yet. */
  register?: boolean;
  /** Rooms to join at the first session (the server also restores the identity's memberships). */
  rooms?: readonly string[];
  /** Client name sent in `hello`, for the server's logs. */
  client?: string;
  /**
   * The resume token to present until a `welcome` gives one: a string, or a lookup by the nick
   * about to be sent (it may throw; the client then goes without).
   */
  token?: string | ((nick: string) => string | undefined);
  backoff?: BackoffOptions;
  /** Default timeout of a request. Default 15 s. */
  requestTimeoutMs?: number;
  /** One attempt (name lookup, TCP connect, TLS handshake, upgrade) is abandoned after this long. Default 10 s. */
  connectTimeoutMs?: number;
  /** Heartbeat interval; a connection silent for 3 intervals is considered dead. Default 15 s. */
  pingIntervalMs?: number;
  /** Messages waiting for their ack, at most (beyond: TC_CLIENT_OUTBOX_FULL). Default 200. */
  maxOutbox?: number;
  /** Messages fetched to close one room's resume gap, at most. Default 5,000. */
  maxGapFill?: number;
  /** Stop when no session was opened this long after `start()` (only before the first session). Default: never. */
  giveUpAfterMs?: number;
}

/** The answer each request gets. */
interface AnswerMap {
  join: JoinedFrame;
  part: PartedFrame;
  history: HistoryPageFrame;
  'pm-history': PmHistoryPageFrame;
  users: UsersListFrame;
  rooms: RoomsListFrame;
  topic: TopicChangeFrame;
  nick: NickChangeFrame;
  mode: RoomModeFrame;
  invite: InviteNoticeFrame;
  register: RegisteredFrame;
  ping: PongFrame;
  edit: EditedFrame;
  delete: DeletedFrame;
  react: ReactionFrame;
  search: SearchResultsFrame;
  mark: MarkerFrame;
  unread: UnreadCountsFrame;
  mentions: MentionsListFrame;
  highlights: HighlightsListFrame;
}

/** A client frame that the server answers (besides `hello`, `msg` and `pm`, which have their own methods). */
export type RequestFrame = Extract<ClientFrame, { type: keyof AnswerMap }>;
/** The typed answer to a request frame. */
export type AnswerTo<F extends RequestFrame> = AnswerMap[F['type']];

const ANSWER_TYPE: { [K in keyof AnswerMap]: AnswerMap[K]['type'] } = {
  join: 'joined',
  part: 'parted',
  history: 'history',
  'pm-history': 'pm-history',
  users: 'users',
  rooms: 'rooms',
  topic: 'topic',
  nick: 'nick',
  mode: 'mode',
  invite: 'invite',
  register: 'registered',
  ping: 'pong',
  edit: 'edited',
  delete: 'deleted',
  react: 'reaction',
  search: 'search-results',
  mark: 'marker',
  unread: 'unread',
  mentions: 'mentions',
  highlights: 'highlights',
};

export interface RequestOptions {
  /** Overrides `requestTimeoutMs` for this request. */
  timeoutMs?: number;
}

export interface SendOptions {
  /** A `/me` action. */
  action?: boolean;
  /** The client message id; default a fresh one (`newCid()`). 1-64 characters of A-Za-z0-9_-. */
  cid?: string;
  /** A reply to the message with this id (room messages only). */
  replyTo?: number;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: ClientError) => void;
}

const AUTH_REFUSALS = new Set(['TC_ERR_AUTH_REQUIRED', 'TC_ERR_BAD_PASSWORD', 'TC_ERR_WEAK_PASSWORD']);

export class ChatClient {
  readonly #opts: ChatClientOptions;
  readonly #addresses: readonly ServerAddress[];
  readonly #openTransport: TransportFactory;
  readonly #listeners = new Set<(event: ClientEvent) => void>();
  readonly #backoff: Backoff;
  readonly #pending = new PendingRequests();
  readonly #outbox: Outbox;
  readonly #requestTimeout: number;
  readonly #pingInterval: number;
  readonly #connectTimeout: number;
  readonly #maxGapFill: number;

  #addressIndex = 0;
  #transport: Transport | null = null;
  /** The transport is open (frames can be written). */
  #connected = false;
  #password: string | undefined;
  /** The current connection attempt (identity): events of an older one are ignored. */
  #attempt: object | null = null;
  #state: ClientState;
  /** Refs: a random tag per client (answers broadcast with another client's ref cannot match) and a counter. */
  readonly #refTag = newCid().slice(0, 4);
  #refCounter = 0;

  /** Rooms we are in, with the ids seen there. */
  readonly #rooms = new Map<string, SeenIds>();
  /** Rooms to ask for at the next hello with no cursor (first session, joins while offline). */
  readonly #wanted = new Set<string>();
  /** Promises of joins asked for while offline, by room. */
  readonly #roomWaiters = new Map<string, Array<Waiter<JoinedFrame>>>();
  readonly #pmSeen = new SeenIds();
  /** Highest message id seen anywhere (ids are one sequence): the private-message cursor. */
  #maxId = 0;

  #registered = false;
  #everReady = false;
  #ready = false;
  #helloRef: string | null = null;
  #awaitingJoins = new Set<string>();
  #resumeAfter = new Map<string, number>();
  /** Rooms whose resumed `joined` is held until its gap is filled. */
  #gapFills = new Set<string>();
  #pmResumePending = false;
  #pmResumeStarted = false;
  #welcome: WelcomeFrame | null = null;
  #welcomeWaiters: Array<Waiter<WelcomeFrame>> = [];
  #readyWaiters: Array<Waiter<void>> = [];

  #quitting = false;
  #closed = false;
  #finished = false;
  #started = false;
  #retryTimer: NodeJS.Timeout | null = null;
  #pingTimer: NodeJS.Timeout | null = null;
  #giveUpTimer: NodeJS.Timeout | null = null;
  #attemptTimer: NodeJS.Timeout | null = null;
  #lastData = 0;
  #quitWaiters: Array<() => void> = [];

  /** The latest resume token from a `welcome`. */
  #token: string | undefined;
  /** Why the latest attempt failed (a person's words), for the give-up message. */
  #lastFailure: string | null = null;
  #closeReason: string | null = null;
  #unreachable = false;

  constructor(options: ChatClientOptions) {
    if (options.addresses.length === 0) throw new TypeError('ChatClient needs at least one server address');
    this.#opts = options;
    this.#password = options.password;
    this.#addresses = [...options.addresses];
    const transport = options.transport ?? 'tcp';
    const tls = options.tls ? { tls: options.tls } : {};
    this.#openTransport =
      typeof transport === 'function' ? transport : transport === 'ws' ? wsTransport(tls) : tcpTransport(tls);
    this.#backoff = new Backoff(options.backoff);
    this.#outbox = new Outbox(options.maxOutbox ?? 200);
    this.#requestTimeout = options.requestTimeoutMs ?? 15_000;
    this.#pingInterval = options.pingIntervalMs ?? 15_000;
    this.#connectTimeout = options.connectTimeoutMs ?? 10_000;
    this.#maxGapFill = options.maxGapFill ?? 5_000;
    for (const raw of options.rooms ?? []) {
      const room = normalizeRoom(raw);
      if (room) this.#wanted.add(room);
    }
    this.#state = {
      status: 'connecting',
      server: formatAddress(this.#addresses[0]),
      nick: options.nick,
      retryAt: null,
      reason: null,
      ready: false,
    };
  }

  /**
   * Starts a client and resolves once its first session is ready; rejects (and closes the
   * client) when the nick is refused or the client closes first. `listener` is subscribed before
   * the client starts, so it sees every event of the first session (its `welcome` and `joined`s).
   */
  static async connect(options: ChatClientOptions, listener?: (event: ClientEvent) => void): Promise<ChatClient> {
    const client = new ChatClient(options);
    if (listener) client.on(listener);
    const refused = new Promise<never>((_, reject) => {
      const off = client.on((e) => {
        if (e.kind === 'hello-refused') reject(ClientError.fromFrame(e.error));
        if (e.kind === 'hello-refused' || e.kind === 'ready' || e.kind === 'closed') off();
      });
    });
    const ready = client.whenReady();
    client.start();
    try {
      await Promise.race([ready, refused]);
    } catch (err) {
      client.destroy();
      throw err;
    }
    return client;
  }

  // ---------- what it is ----------

  get state(): ClientState {
    return this.#state;
  }

  get nick(): string {
    return this.#state.nick;
  }

  /** In a session and resumed. */
  get isReady(): boolean {
    return this.#ready;
  }

  /** Closed for good (quit, destroyed, gave up, refused). */
  get isClosed(): boolean {
    return this.#finished;
  }

  /** Rooms the client is in. */
  get rooms(): string[] {
    return [...this.#rooms.keys()];
  }

  /** The last message id seen in a room (its resume cursor), or null. */
  cursor(room: string): number | null {
    const max = this.#rooms.get(room)?.max ?? 0;
    return max > 0 ? max : null;
  }

  /** The latest `welcome` (null before the first session). */
  get welcome(): WelcomeFrame | null {
    return this.#welcome;
  }

  /** The resume token the latest `welcome` gave (sent in every later `hello`). */
  get token(): string | undefined {
    return this.#token;
  }

  /** Messages waiting for their ack (queued, in flight, or to be resent). */
  get outboxSize(): number {
    return this.#outbox.size;
  }

  /** True when `say` / `pm` would be refused with TC_CLIENT_OUTBOX_FULL. */
  get outboxFull(): boolean {
    return this.#outbox.full;
  }

  /** Requests waiting for their answer. */
  get pendingRequests(): number {
    return this.#pending.size;
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: (event: ClientEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves at the next `ready` (at once when ready); rejects when the client closes first. */
  whenReady(): Promise<void> {
    if (this.#ready) return Promise.resolve();
    if (this.#finished) return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  // ---------- lifecycle ----------

  /** Opens the first connection. Once only. */
  start(): void {
    if (this.#started || this.#finished) return;
    this.#started = true;
    const limit = this.#opts.giveUpAfterMs;
    if (limit !== undefined && limit > 0) this.#giveUpTimer = setTimeout(() => this.#giveUp(limit), limit);
    this.#open();
  }

  /**
   * Leaves: sends `quit` and resolves once the server closed the connection (or after
   * `timeoutMs`). No reconnect follows; messages still in the outbox are rejected (TC_CLIENT_CLOSED).
   */
  quit(reason?: string, timeoutMs = 2_000): Promise<void> {
    this.#quitting = true;
    this.#clearRetry();
    this.#clearGiveUp();
    return new Promise<void>((resolve) => {
      if (this.#finished) return resolve();
      const transport = this.#transport;
      if (!transport) {
        this.#finish();
        return resolve();
      }
      this.#quitWaiters.push(resolve);
      // Not connected yet: nobody to say goodbye to.
      if (!this.#connected) return transport.destroy();
      transport.send({ type: 'quit', ...(reason ? { reason } : {}) });
      setTimeout(() => transport.destroy(), timeoutMs).unref();
    });
  }

  /** Closes at once, without `quit` and without reconnecting. */
  destroy(): void {
    this.#quitting = true;
    this.#clearRetry();
    this.#clearGiveUp();
    if (this.#transport) this.#transport.destroy();
    else this.#finish();
  }

  // ---------- sending ----------

  /**
   * Sends a room message; resolves with the server's `ack` (its id is the message's cursor).
   * Offline, the message waits in the outbox; after a drop it is resent with the same `cid`.
   * Rejects with the server's refusal (TC_ERR_NOT_IN_ROOM, ...), TC_CLIENT_OUTBOX_FULL, or
   * TC_CLIENT_CLOSED. Messages never time out: they are kept until acked or refused.
   */
  say(room: string, text: string, options: SendOptions = {}): Promise<AckFrame> {
    return this.#send({
      type: 'msg',
      room,
      text,
      ...(options.action ? { action: true } : {}),
      ...(options.replyTo !== undefined ? { replyTo: options.replyTo } : {}),
      cid: this.#cid(options),
    });
  }

  /** Sends a private message, like `say`. */
  pm(to: string, text: string, options: SendOptions = {}): Promise<AckFrame> {
    return this.#send({ type: 'pm', to, text, ...(options.action ? { action: true } : {}), cid: this.#cid(options) });
  }

  // ---------- requests ----------

  /**
   * Sends `hello` again, after the first one was refused (`hello-refused`), with another nick or
   * password; before `start()` (or between connections), sets what the next `hello` will carry.
   * Resolves with the next `welcome`; rejects with the server's refusal, or TC_CLIENT_IN_SESSION
   * when a session is open (change the nick with `changeNick`).
   */
  hello(changes: { nick?: string; password?: string } = {}): Promise<WelcomeFrame> {
    if (this.#finished) return Promise.reject(this.#closedError());
    if (this.#registered)
      return Promise.reject(
        new ClientError('TC_CLIENT_IN_SESSION', 'already in a session: use changeNick() to change the nick'),
      );
    if (changes.nick !== undefined) this.#setState({ nick: changes.nick });
    if (changes.password !== undefined) this.#password = changes.password;
    const welcome = new Promise<WelcomeFrame>((resolve, reject) => this.#welcomeWaiters.push({ resolve, reject }));
    if (this.#connected) this.#sendHello();
    return welcome;
  }

  /**
   * Joins a room. Offline, the room is asked for at the next session, and the promise resolves
   * with its `joined` then (or rejects with TC_CLIENT_NOT_JOINED when the server did not join it).
   */
  join(room: string, options: { key?: string; after?: number } & RequestOptions = {}): Promise<JoinedFrame> {
    const { timeoutMs, ...rest } = options;
    if (!this.#registered && !this.#finished && !this.#quitting) {
      const name = normalizeRoom(room);
      if (name) {
        this.#wanted.add(name);
        return new Promise((resolve, reject) => {
          const list = this.#roomWaiters.get(name) ?? [];
          list.push({ resolve, reject });
          this.#roomWaiters.set(name, list);
        });
      }
    }
    return this.request({ type: 'join', room, ...rest }, timeoutMs !== undefined ? { timeoutMs } : {});
  }

  part(room: string, options?: RequestOptions): Promise<PartedFrame> {
    return this.request({ type: 'part', room }, options);
  }

  /** A page of a room's history: the latest `limit` messages, or those `before` / `after` an id. */
  history(
    room: string,
    query: { before?: number; after?: number; limit?: number } = {},
    options?: RequestOptions,
  ): Promise<HistoryPageFrame> {
    return this.request({ type: 'history', room, ...query }, options);
  }

  /** A page of private messages: all of them, or the conversation `with` one nick. */
  pmHistory(
    query: { with?: string; before?: number; after?: number; limit?: number } = {},
    options?: RequestOptions,
  ): Promise<PmHistoryPageFrame> {
    return this.request({ type: 'pm-history', ...query }, options);
  }

  /** A page of a room's members (`after`: the last nick of the previous page). */
  users(room: string, query: { after?: string } = {}, options?: RequestOptions): Promise<UsersListFrame> {
    return this.request({ type: 'users', room, ...query }, options);
  }

  /** A page of the rooms (`after`: the last name of the previous page). */
  roomList(query: { after?: string } = {}, options?: RequestOptions): Promise<RoomsListFrame> {
    return this.request({ type: 'rooms', ...query }, options);
  }

  /** Asks for a room's topic (no `topic`), or sets it (a string; empty clears it). */
  topic(room: string, topic?: string, options?: RequestOptions): Promise<TopicChangeFrame> {
    return this.request({ type: 'topic', room, ...(topic !== undefined ? { topic } : {}) }, options);
  }

  /** Changes the nick. */
  changeNick(nick: string, options?: RequestOptions): Promise<NickChangeFrame> {
    return this.request({ type: 'nick', nick }, options);
  }

  /** Asks for a room's modes (no `changes`), or changes them (the room's creator only). */
  mode(
    room: string,
    changes: { key?: string | null; inviteOnly?: boolean } = {},
    options?: RequestOptions,
  ): Promise<RoomModeFrame> {
    return this.request({ type: 'mode', room, ...changes }, options);
  }

  invite(nick: string, room: string, options?: RequestOptions): Promise<InviteNoticeFrame> {
    return this.request({ type: 'invite', nick, room }, options);
  }

  /** Protects the current nick with a password (or changes it). */
  register(password: string, options?: RequestOptions): Promise<RegisteredFrame> {
    return this.request({ type: 'register', password }, options);
  }

  /** A round trip to the server. */
  ping(options?: RequestOptions): Promise<PongFrame> {
    return this.request({ type: 'ping', ts: Date.now() }, options);
  }

  /**
   * Sends any request frame (its `ref` is the client's) and resolves with its typed answer.
   * Rejects with the server's refusal, TC_CLIENT_TIMEOUT, TC_CLIENT_OFFLINE (no session: not
   * sent) or TC_CLIENT_DISCONNECTED (the connection dropped before the answer).
   */
  request<F extends RequestFrame>(frame: F, options: RequestOptions = {}): Promise<AnswerTo<F>> {
    return this.#request(frame, options.timeoutMs ?? this.#requestTimeout, false) as Promise<AnswerTo<F>>;
  }

  // ---------- connection ----------

  #open(): void {
    this.#retryTimer = null;
    const address = this.#addresses[this.#addressIndex];
    this.#setState({ status: 'connecting', server: formatAddress(address), retryAt: null });
    this.#registered = false;
    this.#ready = false;
    this.#connected = false;
    const attempt = {};
    this.#attempt = attempt;
    let progressed = isIP(address.host) !== 0;
    const mine = () => this.#attempt === attempt;
    this.#transport = this.#openTransport(address, {
      progress: () => void (progressed = true),
      open: () => {
        if (!mine()) return;
        this.#clearAttempt();
        this.#connected = true;
        this.#lastData = Date.now();
        this.#lastFailure = 'the connection was accepted, but no teamchat server answered';
        this.#sendHello();
        this.#startPing();
      },
      activity: () => {
        if (mine()) this.#lastData = Date.now();
      },
      line: (line) => {
        if (mine()) this.#onLine(line);
      },
      overflow: (code) => {
        if (mine()) this.#warn(`the server sent an oversized line (${code})`, code);
      },
      error: (err) => {
        if (!mine()) return;
        this.#lastFailure = describeFailure(err.code, err.message);
        this.#state = { ...this.#state, reason: err.code ?? err.message };
      },
      close: () => {
        if (mine()) this.#onClose();
      },
    });
    this.#attemptTimer = setTimeout(() => {
      this.#attemptTimer = null;
      if (!mine()) return;
      this.#lastFailure = progressed
        ? `timed out (no answer in ${formatMs(this.#connectTimeout)})`
        : `timed out looking up ${address.host}`;
      this.#state = { ...this.#state, reason: 'ETIMEDOUT' };
      this.#transport?.destroy();
    }, this.#connectTimeout);
  }

  #onClose(): void {
    this.#clearAttempt();
    this.#transport = null;
    this.#connected = false;
    this.#attempt = null;
    this.#stopPing();
    this.#registered = false;
    this.#ready = false;
    this.#gapFills.clear();
    this.#awaitingJoins.clear();
    this.#pmResumePending = false;
    this.#pending.failAll(new ClientError('TC_CLIENT_DISCONNECTED', 'the connection was lost before the answer came'));
    if (this.#quitting || this.#closed) return this.#finish();
    const delay = this.#backoff.next();
    // A cluster: the next node gets the next attempt.
    this.#addressIndex = (this.#addressIndex + 1) % this.#addresses.length;
    this.#setState({ status: 'reconnecting', retryAt: Date.now() + delay, ready: false });
    this.#retryTimer = setTimeout(() => this.#open(), delay);
  }

  /** No session within `giveUpAfterMs`: stop, and say why. */
  #giveUp(limit: number): void {
    this.#giveUpTimer = null;
    if (this.#closed || this.#quitting || this.#registered) return;
    const pending = this.#transport !== null && this.#attemptTimer !== null;
    const why = this.#lastFailure ?? (pending ? 'timed out' : 'no answer');
    this.#closed = true;
    this.#unreachable = true;
    const servers = this.#addresses.map(formatAddress).join(', ');
    this.#closeReason = `cannot reach ${servers}: ${why}; gave up after ${formatMs(limit)}`;
    this.#state = { ...this.#state, reason: this.#closeReason };
    this.#clearRetry();
    if (this.#transport) this.#transport.destroy();
    else this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#closed = true;
    this.#ready = false;
    this.#registered = false;
    this.#stopPing();
    this.#clearGiveUp();
    this.#clearAttempt();
    this.#clearRetry();
    this.#setState({ status: 'offline', retryAt: null, ready: false });
    const closed = this.#closedError();
    this.#pending.failAll(closed);
    this.#outbox.failAll(closed);
    for (const w of this.#welcomeWaiters.splice(0)) w.reject(closed);
    for (const w of this.#readyWaiters.splice(0)) w.reject(closed);
    for (const list of this.#roomWaiters.values()) for (const w of list) w.reject(closed);
    this.#roomWaiters.clear();
    for (const resolve of this.#quitWaiters.splice(0)) resolve();
    const reason = this.#quitting ? 'quit' : (this.#closeReason ?? this.#state.reason ?? 'closed by the server');
    this.#emit({ kind: 'closed', reason, ...(this.#unreachable && !this.#quitting ? { unreachable: true } : {}) });
  }

  #closedError(): ClientError {
    return new ClientError('TC_CLIENT_CLOSED', this.#closeReason ?? 'the client is closed');
  }

  #clearRetry(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  #clearGiveUp(): void {
    if (this.#giveUpTimer) clearTimeout(this.#giveUpTimer);
    this.#giveUpTimer = null;
  }

  #clearAttempt(): void {
    if (this.#attemptTimer) clearTimeout(this.#attemptTimer);
    this.#attemptTimer = null;
  }

  #startPing(): void {
    this.#stopPing();
    const every = this.#pingInterval;
    this.#pingTimer = setInterval(() => {
      if (!this.#transport) return;
      if (Date.now() - this.#lastData > every * 3) {
        this.#state = { ...this.#state, reason: 'no answer from the server' };
        this.#transport.destroy();
        return;
      }
      if (this.#registered) this.#write({ type: 'ping', ts: Date.now() });
    }, every);
    this.#pingTimer.unref();
  }

  #stopPing(): void {
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#pingTimer = null;
  }

  /** Drops the current connection (a reconnect follows). */
  #abandon(reason: string): void {
    this.#state = { ...this.#state, reason };
    if (!this.#registered) this.#lastFailure = reason;
    this.#transport?.destroy();
  }

  #sendHello(): void {
    const rooms: Record<string, number | null> = {};
    this.#resumeAfter.clear();
    for (const [room, seen] of this.#rooms) {
      rooms[room] = seen.max > 0 ? seen.max : null;
      if (seen.max > 0) this.#resumeAfter.set(room, seen.max);
    }
    for (const room of this.#wanted) if (!(room in rooms)) rooms[room] = null;
    this.#helloRef = this.#nextRef();
    const pmAfter = this.#everReady ? this.#maxId : undefined;
    this.#pmResumePending = pmAfter !== undefined;
    this.#pmResumeStarted = false;
    const token = this.#currentToken();
    const password = this.#password;
    const register = this.#opts.register === true;
    this.#write({
      type: 'hello',
      v: PROTOCOL_VERSION,
      nick: this.#state.nick,
      ...(this.#opts.client !== undefined ? { client: this.#opts.client } : {}),
      rooms,
      ...(pmAfter !== undefined ? { pmAfter } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(password !== undefined && register ? { register: true } : {}),
      ...(token !== undefined ? { token } : {}),
      ref: this.#helloRef,
    });
  }

  /** The token for the next hello: the session's, else the one given in the options. */
  #currentToken(): string | undefined {
    if (this.#token !== undefined) return this.#token;
    const given = this.#opts.token;
    if (typeof given !== 'function') return given;
    if (this.#state.nick === '') return undefined;
    try {
      return given(this.#state.nick);
    } catch (err) {
      this.#warn(`resume token: ${(err as Error).message}; connecting as a new identity`, 'TC_CLIENT_TOKEN');
      return undefined;
    }
  }

  // ---------- input ----------

  #onLine(line: Uint8Array | string): void {
    if (line.length === 0) return;
    const decoded = decodeServerFrame(line);
    if (decoded.ok) this.#onFrame(decoded.frame);
    else if (!this.#registered) this.#abandon(`the server answered in another dialect (${decoded.error.code})`);
    else this.#warn(`bad frame from server: ${decoded.error.message}`, decoded.error.code);
  }

  #onFrame(frame: ServerFrame): void {
    // The answer to a request settles it first, so that state (the outbox) is current when the frame is passed on.
    const entry = this.#pending.take(frame);
    if (entry) {
      if (frame.type === 'error') entry.fail(ClientError.fromFrame(frame));
      else entry.reply(frame);
      if (entry.silent) return;
    }
    switch (frame.type) {
      case 'welcome':
        return this.#onWelcome(frame);
      case 'joined':
        return this.#onJoined(frame);
      case 'history': {
        const seen = this.#rooms.get(frame.room);
        if (seen) {
          for (const m of frame.messages) {
            this.#noteId(m.id);
            seen.add(m.id);
          }
        }
        return this.#emitFrame(frame);
      }
      case 'message': {
        if (!this.#roomSeen(frame.room).add(frame.id)) return;
        this.#noteId(frame.id);
        return this.#emitFrame(frame);
      }
      case 'pm':
        return this.#onPm(frame);
      case 'pm-history':
        if (frame.ref === undefined && this.#pmResumePending && !this.#pmResumeStarted)
          return void this.#resumePms(frame);
        for (const m of frame.messages) {
          this.#noteId(m.id);
          this.#pmSeen.add(m.id);
        }
        return this.#emitFrame(frame);
      case 'ack': {
        this.#noteId(frame.id);
        if (!entry && frame.cid !== undefined) {
          // Matched by its client message id (an ack of an earlier write).
          const item = this.#outbox.byCid(frame.cid);
          if (item) this.#settleSent(item, frame);
        }
        return this.#emitFrame(frame);
      }
      case 'error':
        return this.#onError(frame);
      case 'parted':
        this.#rooms.delete(frame.room);
        return this.#emitFrame(frame);
      case 'nick':
        if (frame.room === undefined) this.#state = { ...this.#state, nick: frame.new };
        this.#emitFrame(frame);
        if (frame.room === undefined) this.#emitState();
        return;
      case 'bye':
        if (frame.code === 'TC_ERR_VERSION') this.#closed = true;
        this.#state = { ...this.#state, reason: frame.code ? `${frame.reason} [${frame.code}]` : frame.reason };
        if (!this.#registered) this.#lastFailure = this.#state.reason;
        return this.#emitFrame(frame);
      case 'pong':
        return;
      case 'ping':
        // The server's heartbeat of an idle connection.
        this.#write({ type: 'pong', ts: frame.ts });
        return;
      default:
        return this.#emitFrame(frame);
    }
  }

  #onWelcome(frame: WelcomeFrame): void {
    this.#registered = true;
    this.#welcome = frame;
    this.#clearGiveUp();
    this.#lastFailure = null;
    this.#backoff.reset();
    this.#wanted.clear();
    this.#awaitingJoins = new Set(frame.rooms);
    // Rooms asked for while offline that the server did not take.
    for (const [room, waiters] of this.#roomWaiters) {
      if (frame.rooms.includes(room)) continue;
      this.#roomWaiters.delete(room);
      for (const w of waiters) w.reject(new ClientError('TC_CLIENT_NOT_JOINED', `the server did not join ${room}`));
    }
    if (typeof frame.token === 'string' && frame.token !== '') this.#token = frame.token;
    this.#state = { ...this.#state, nick: frame.nick, reason: null };
    this.#setState({ status: 'connected' });
    for (const w of this.#welcomeWaiters.splice(0)) w.resolve(frame);
    this.#emitFrame(frame);
    this.#checkReady();
  }

  #onJoined(frame: JoinedFrame): void {
    const seen = this.#roomSeen(frame.room);
    const after = this.#resumeAfter.get(frame.room);
    this.#resumeAfter.delete(frame.room);
    const first = frame.history[0];
    if (after !== undefined && frame.more && first && first.id > after + 1) {
      // Resumed, but the server could not send everything since `after`: fill the gap first.
      this.#gapFills.add(frame.room);
      void this.#fillGap(frame, after);
      return;
    }
    this.#releaseJoined(frame, seen, after !== undefined);
  }

  /** Pages `history` between the cursor and a resumed `joined`, then passes the `joined` on with it. */
  async #fillGap(held: JoinedFrame, after: number): Promise<void> {
    const attempt = this.#attempt;
    const before = held.history[0].id;
    const messages: RoomMessage[] = [];
    let more = true;
    try {
      while (more && messages.length < this.#maxGapFill) {
        const cursor = messages.at(-1)?.id ?? after;
        const page = (await this.#request(
          { type: 'history', room: held.room, after: cursor, before, limit: HISTORY_MAX },
          this.#requestTimeout,
          true,
        )) as HistoryPageFrame;
        if (this.#attempt !== attempt) return;
        messages.push(...page.messages);
        more = page.more && page.messages.length > 0;
      }
    } catch {
      if (this.#attempt !== attempt) return;
      more = false; // refused or timed out: pass on what there is
    }
    this.#gapFills.delete(held.room);
    if (more)
      this.#warn(
        `more than ${this.#maxGapFill} messages were missed in ${held.room}; use /history for the rest`,
        'TC_CLIENT_GAP_TRUNCATED',
      );
    this.#releaseJoined(
      { ...held, history: [...messages, ...held.history], more: true },
      this.#roomSeen(held.room),
      true,
    );
  }

  #releaseJoined(frame: JoinedFrame, seen: SeenIds, resumed: boolean): void {
    const history = frame.history.filter((m) => {
      if (!seen.add(m.id)) return false;
      this.#noteId(m.id);
      return true;
    });
    this.#awaitingJoins.delete(frame.room);
    const released: JoinedFrame = { ...frame, history };
    this.#emit({ kind: 'frame', frame: released, resumed });
    const waiters = this.#roomWaiters.get(frame.room);
    if (waiters) {
      this.#roomWaiters.delete(frame.room);
      for (const w of waiters) w.resolve(released);
    }
    this.#checkReady();
  }

  /** The private messages since `pmAfter`: the answer to hello, then further pages. */
  async #resumePms(first: PmHistoryPageFrame): Promise<void> {
    this.#pmResumeStarted = true;
    const attempt = this.#attempt;
    let page = first;
    try {
      for (;;) {
        for (const m of page.messages) this.#onPm({ type: 'pm', ...m });
        const last: PrivateMessage | undefined = page.messages.at(-1);
        if (!page.more || !last) break;
        page = (await this.#request(
          { type: 'pm-history', after: last.id, limit: HISTORY_MAX },
          this.#requestTimeout,
          true,
        )) as PmHistoryPageFrame;
        if (this.#attempt !== attempt) return;
      }
    } catch {
      if (this.#attempt !== attempt) return;
    }
    this.#pmResumePending = false;
    this.#checkReady();
  }

  #onPm(frame: Extract<ServerFrame, { type: 'pm' }>): void {
    if (!this.#pmSeen.add(frame.id)) return;
    this.#noteId(frame.id);
    this.#emitFrame(frame);
  }

  #onError(frame: ErrorFrame): void {
    if (frame.ref !== undefined && frame.ref === this.#helloRef && !this.#registered) {
      const refusal = ClientError.fromFrame(frame);
      if (!this.#everReady && (frame.code === 'TC_ERR_NICK_IN_USE' || frame.code === 'TC_ERR_BAD_NICK')) {
        for (const w of this.#welcomeWaiters.splice(0)) w.reject(refusal);
        this.#emit({ kind: 'hello-refused', error: frame });
        return;
      }
      this.#state = { ...this.#state, reason: `${frame.message} [${frame.code}]` };
      if (AUTH_REFUSALS.has(frame.code)) {
        // Retrying with the same password cannot help: stop, and say why.
        this.#closed = true;
        this.#closeReason = this.#state.reason;
        for (const w of this.#welcomeWaiters.splice(0)) w.reject(refusal);
      } else {
        // A reconnect whose nick is still held (the old session has not timed out yet): try again later.
        this.#lastFailure = this.#state.reason;
      }
      this.#emitFrame(frame);
      this.#transport?.destroy();
      return;
    }
    this.#emitFrame(frame);
  }

  #checkReady(): void {
    if (!this.#registered || this.#ready) return;
    if (this.#awaitingJoins.size > 0 || this.#gapFills.size > 0 || this.#pmResumePending) return;
    this.#ready = true;
    const first = !this.#everReady;
    this.#everReady = true;
    this.#setState({ ready: true });
    for (const [room, waiters] of this.#roomWaiters) {
      this.#roomWaiters.delete(room);
      for (const w of waiters) w.reject(new ClientError('TC_CLIENT_NOT_JOINED', `the server did not join ${room}`));
    }
    let resent = 0;
    for (const item of this.#outbox.items) {
      if (item.writes > 0) resent++;
      this.#writeMessage(item);
    }
    this.#emit({ kind: 'ready', first, resent });
    for (const w of this.#readyWaiters.splice(0)) w.resolve();
  }

  // ---------- outbox and requests ----------

  #cid(options: SendOptions): string {
    const cid = options.cid ?? newCid();
    if (!isValidCid(cid))
      throw new TypeError(`not a valid cid: ${JSON.stringify(cid)} (1-64 characters of A-Za-z0-9_-)`);
    return cid;
  }

  #send(frame: OutgoingMessage): Promise<AckFrame> {
    if (this.#finished || this.#quitting) return Promise.reject(this.#closedError());
    return new Promise<AckFrame>((resolve, reject) => {
      const item = this.#outbox.add(frame, { resolve, reject });
      if (!item)
        return reject(
          new ClientError('TC_CLIENT_OUTBOX_FULL', `${this.#outbox.size} messages are already waiting to be sent`),
        );
      if (this.#ready) this.#writeMessage(item);
    });
  }

  /** Writes an outbox item with a fresh ref (and its lifelong cid). */
  #writeMessage(item: OutboxItem): void {
    if (item.ref !== null) this.#pending.delete(item.ref);
    const ref = this.#nextRef();
    item.ref = ref;
    item.writes++;
    this.#pending.add(ref, {
      expects: ['ack'],
      reply: (ack) => this.#settleSent(item, ack as AckFrame),
      fail: (error) => {
        // Lost with the connection: it stays, to be resent with the same cid.
        if (error.code === 'TC_CLIENT_DISCONNECTED') return;
        if (this.#outbox.remove(item)) item.reject(error);
      },
    });
    this.#write({ ...item.frame, ref });
  }

  #settleSent(item: OutboxItem, ack: AckFrame): void {
    if (item.ref !== null) this.#pending.delete(item.ref);
    if (this.#outbox.remove(item)) item.resolve(ack);
  }

  #request(frame: RequestFrame, timeoutMs: number, silent: boolean): Promise<ServerFrame> {
    if (this.#finished) return Promise.reject(this.#closedError());
    if (!this.#registered || !this.#transport)
      return Promise.reject(new ClientError('TC_CLIENT_OFFLINE', `not connected: ${frame.type} was not sent`));
    const ref = this.#nextRef();
    const expects: ServerFrameType[] = [ANSWER_TYPE[frame.type]];
    return new Promise<ServerFrame>((resolve, reject) => {
      this.#pending.add(ref, { expects, reply: resolve, fail: reject, silent }, timeoutMs);
      this.#write({ ...frame, ref });
    });
  }

  // ---------- helpers ----------

  #roomSeen(room: string): SeenIds {
    let seen = this.#rooms.get(room);
    if (!seen) this.#rooms.set(room, (seen = new SeenIds()));
    return seen;
  }

  #noteId(id: number): void {
    if (id > this.#maxId) this.#maxId = id;
  }

  #nextRef(): string {
    return `${this.#refTag}${(++this.#refCounter).toString(36)}`;
  }

  #write(frame: ClientFrame): void {
    this.#transport?.send(frame);
  }

  #setState(patch: Partial<ClientState>): void {
    this.#state = { ...this.#state, ...patch };
    this.#emitState();
  }

  #emitState(): void {
    this.#emit({ kind: 'state', state: this.#state });
  }

  #emitFrame(frame: ServerFrame): void {
    this.#emit({ kind: 'frame', frame, resumed: false });
  }

  #warn(message: string, code: string): void {
    this.#emit({ kind: 'warning', message, code });
  }

  #emit(event: ClientEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
