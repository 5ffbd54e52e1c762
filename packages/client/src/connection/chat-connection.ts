/**
 * One chat connection: NDJSON over TCP, reconnect with backoff, and resume without gaps or
 * duplicates. No UI in here: consumers subscribe to events (frames, state, notices).
 *
 * Resume: the client remembers the last message id it saw per room (and overall, for private
 * messages, whose ids share the same sequence). On reconnect `hello` carries them; a `joined`
 * that reports a gap is completed with `history {after}` pages before it is passed on, so the
 * consumer sees one contiguous `joined` per room. Every room and private message is passed on
 * at most once (ids are remembered in a bounded set).
 *
 * Sending: room and private messages carry a `ref`; they stay in an outbox until the server
 * acks them. Typed while offline, they are queued and sent once the resume is complete; a
 * message that was on the wire when the connection dropped is looked for in the resumed
 * history and resent only when it is not there, so it is delivered exactly once.
 *
 * Identity: the server gives a client that is not logged in to an account a secret resume token
 * in `welcome`. The connection keeps the latest one and sends it in every `hello` (reconnects
 * included), so it stays the same person; with a `tokens` store it also files the token (per
 * server and nick) for the next run and presents it at the first `hello`. Tokens never reach the
 * listeners.
 *
 * Giving up: by default a connection retries forever. With `giveUpAfterMs`, when no session
 * could be opened (no `welcome`) that long after `start()`, it stops and emits `closed` with
 * `unreachable` set and a reason such as `cannot reach host:port: connection refused (ECONNREFUSED)`.
 *
 * @example
 * const conn = new ChatConnection({ host: 'localhost', port: 5555, nick: 'alice', rooms: ['general'] });
 * conn.on((event) => { if (event.kind === 'frame') console.log(event.frame); });
 * conn.start();
 * conn.sendText({ kind: 'room', room: 'general' }, 'hi');
 */
import { Socket, connect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  decodeServerFrame,
  encodeFrame,
  HISTORY_MAX,
  LineFramer,
  NICK_PROMPT,
  nickKey,
  normalizeRoom,
  PROTOCOL_VERSION,
  type ClientFrame,
  type ErrorFrame,
  type JoinedFrame,
  type MsgFrame,
  type PmFrame,
  type RoomMessage,
  type ServerFrame,
} from '@teamchat/protocol';
import { formatAddress } from './address.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { SeenIds } from './seen-ids.js';
import type { TokenStore } from './token-store.js';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface ConnectionState {
  status: ConnectionStatus;
  /** `host:port`. */
  server: string;
  /** The nick in use (or wanted, before the server confirmed it). */
  nick: string;
  /** When `reconnecting`: epoch ms of the next attempt. */
  retryAt: number | null;
  /** Why the last connection ended, if it did. */
  reason: string | null;
  /** Connected, registered and resumed: input is sent right away. */
  ready: boolean;
}

/** Where a text goes: a room or a private conversation. */
export type Target = { kind: 'room'; room: string } | { kind: 'pm'; nick: string };

export type ConnectionEvent =
  | { kind: 'state'; state: ConnectionState }
  /** A server frame, deduplicated; `resumed` marks the `joined` frames of a reconnect. */
  | { kind: 'frame'; frame: ServerFrame; resumed: boolean }
  | { kind: 'notice'; level: 'info' | 'error'; text: string; code?: string }
  /** The nick was refused when registering for the first time: call `retryNick`. */
  | { kind: 'nick-rejected'; error: ErrorFrame }
  /** Registered and resumed (`first`: the first time). */
  | { kind: 'ready'; first: boolean }
  /**
   * The connection is closed for good. `reason` is `quit` after `quit()` or `destroy()`;
   * otherwise it says why (a fatal error from the server, or, with `unreachable`, that no
   * session could be opened within `giveUpAfterMs`).
   */
  | { kind: 'closed'; reason: string; unreachable?: boolean };

export interface ChatConnectionOptions {
  host: string;
  port: number;
  nick: string;
  /** Rooms to join at the first connect (the server also restores persisted memberships). */
  rooms?: string[];
  /** Client name sent in hello. */
  client?: string;
  backoff?: BackoffOptions;
  /** Messages held while offline; beyond that they are refused. */
  maxQueued?: number;
  /** Ping interval; a connection silent for 3 intervals is considered dead. */
  pingIntervalMs?: number;
  /** Connect over TLS; `ca` (PEM) trusts a self-signed server certificate. */
  tls?: { ca?: string | Buffer };
  /** Password of a registered nick, sent in hello. */
  password?: string;
  /** Where resume tokens are kept between runs (see token-store.ts); without it they live only as long as this connection. */
  tokens?: TokenStore;
  /**
   * Stop retrying when no session was opened (no `welcome`) this long after `start()`. Only the
   * first session: once connected, a dropped connection is retried until `quit()`. Default: never.
   */
  giveUpAfterMs?: number;
  /** One attempt (name lookup, TCP connect, TLS handshake) is abandoned after this long. Default 10 s. */
  connectTimeoutMs?: number;
}

/** Why one connection attempt failed, as a person would say it. */
function describeFailure(code: string | undefined, message: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED)';
    case 'ETIMEDOUT':
      return 'timed out (ETIMEDOUT)';
    case 'ENOTFOUND':
      return 'host not found (ENOTFOUND)';
    case 'EAI_AGAIN':
      return 'host name lookup failed (EAI_AGAIN)';
    case 'EHOSTUNREACH':
      return 'host unreachable (EHOSTUNREACH)';
    case 'ENETUNREACH':
      return 'network unreachable (ENETUNREACH)';
    case 'ECONNRESET':
      return 'connection reset (ECONNRESET)';
    default:
      return code ? `${message} (${code})` : message;
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

interface OutboxItem {
  ref: string;
  frame: MsgFrame | PmFrame;
  /** queued: never written; sent: written on the current connection; uncertain: written on a connection that dropped before the ack. */
  state: 'queued' | 'sent' | 'uncertain';
}

interface GapFill {
  held: JoinedFrame;
  after: number;
  messages: RoomMessage[];
}

/** Messages fetched to close one resume gap at most; beyond that `/history` pages remain. */
const MAX_GAP_FILL = 5_000;

export class ChatConnection {
  readonly #opts: Required<Pick<ChatConnectionOptions, 'host' | 'port' | 'maxQueued' | 'pingIntervalMs' | 'connectTimeoutMs'>> & ChatConnectionOptions;
  readonly #listeners = new Set<(event: ConnectionEvent) => void>();
  readonly #backoff: Backoff;
  #socket: Socket | null = null;
  #framer = new LineFramer();
  #state: ConnectionState;
  #refCounter = 0;

  /** Rooms we are in, with the ids seen there. */
  readonly #rooms = new Map<string, SeenIds>();
  /** Rooms to ask for at the next hello with no history cursor (first connect, joins while offline). */
  readonly #wanted = new Set<string>();
  readonly #pmSeen = new SeenIds();
  /** Highest message id seen anywhere (ids are one sequence): the PM resume cursor. */
  #maxId = 0;

  #registered = false;
  #everReady = false;
  #ready = false;
  #helloRef: string | null = null;
  #awaitingJoins = new Set<string>();
  #resumeAfter = new Map<string, number>();
  #gapFills = new Map<string, GapFill>();
  #pmResumePending = false;
  /** Own messages seen during a resume, to settle `uncertain` outbox items. */
  #resumedOwn: Array<{ room?: string; to?: string; text: string; action: boolean }> = [];

  #outbox: OutboxItem[] = [];
  #quitting = false;
  #closed = false;
  #finished = false;
  #retryTimer: NodeJS.Timeout | null = null;
  #pingTimer: NodeJS.Timeout | null = null;
  #lastData = 0;
  #quitWaiters: Array<() => void> = [];
  #sawPromptBytes = '';

  /** `host:port`, canonical: shown, and the key of stored tokens. */
  readonly #server: string;
  /** The latest resume token from the server (or from the store, until the first welcome). */
  #token: string | undefined;
  /** Nicks the token was filed under in the store during this session. */
  #tokenFiled = new Set<string>();
  #giveUpTimer: NodeJS.Timeout | null = null;
  #attemptTimer: NodeJS.Timeout | null = null;
  /** Why the latest attempt failed (a person's words), for the give-up message. */
  #lastFailure: string | null = null;
  /** Why the connection was closed for good, when it was not a quit. */
  #closeReason: string | null = null;
  #unreachable = false;

  constructor(options: ChatConnectionOptions) {
    this.#opts = { maxQueued: 200, pingIntervalMs: 15_000, connectTimeoutMs: 10_000, ...options };
    this.#backoff = new Backoff(options.backoff);
    for (const raw of options.rooms ?? []) {
      const room = normalizeRoom(raw);
      if (room) this.#wanted.add(room);
    }
    this.#server = formatAddress(options.host, options.port);
    this.#state = {
      status: 'connecting',
      server: this.#server,
      nick: options.nick,
      retryAt: null,
      reason: null,
      ready: false,
    };
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get nick(): string {
    return this.#state.nick;
  }

  /** Messages waiting for the server's ack (queued, in flight or uncertain). */
  get pendingCount(): number {
    return this.#outbox.length;
  }

  /** Rooms this connection is in. */
  get rooms(): string[] {
    return [...this.#rooms.keys()];
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: (event: ConnectionEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    const limit = this.#opts.giveUpAfterMs;
    if (limit !== undefined && limit > 0) this.#giveUpTimer = setTimeout(() => this.#giveUp(limit), limit);
    this.#open();
  }

  /**
   * Sends a room or private message (a `/me` action with `action`). Returns its ref, or null
   * when it was refused (a notice says why). While offline it is queued.
   */
  sendText(target: Target, text: string, action = false): string | null {
    if (this.#closed || this.#quitting) {
      this.#notice('error', 'not connected: message not sent');
      return null;
    }
    if (this.#outbox.length >= this.#opts.maxQueued) {
      this.#notice('error', `${this.#outbox.length} messages are already waiting to be sent: this one was refused`);
      return null;
    }
    const ref = this.#ref('m');
    const frame: MsgFrame | PmFrame =
      target.kind === 'room'
        ? { type: 'msg', room: target.room, text, ...(action ? { action } : {}), ref }
        : { type: 'pm', to: target.nick, text, ...(action ? { action } : {}), ref };
    const item: OutboxItem = { ref, frame, state: 'queued' };
    this.#outbox.push(item);
    if (this.#ready) {
      this.#write(frame);
      item.state = 'sent';
    } else {
      this.#notice('info', `offline: message queued (${this.#outbox.length} waiting), it will be sent on reconnect`);
    }
    return ref;
  }

  /**
   * Sends any other command frame. Returns its ref, or null when not connected (a `join`
   * is then remembered for the next connect; other commands are refused with a notice).
   */
  request(frame: Exclude<ClientFrame, MsgFrame | PmFrame | { type: 'hello' } | { type: 'quit' }>): string | null {
    if (!this.#ready) {
      if (frame.type === 'join') {
        const room = normalizeRoom(frame.room);
        if (room && !this.#closed) {
          this.#wanted.add(room);
          this.#notice('info', `offline: will join ${room} on reconnect`);
          return null;
        }
      }
      this.#notice('error', `not connected: /${frame.type} was not sent`);
      return null;
    }
    const ref = this.#ref('q');
    this.#write({ ...frame, ref } as ClientFrame);
    return ref;
  }

  /** Registers with another nick after `nick-rejected`. */
  retryNick(nick: string): void {
    this.#state = { ...this.#state, nick };
    this.#emitState();
    if (this.#socket && !this.#registered) this.#sendHello();
  }

  /**
   * Leaves: sends `quit` and resolves once the server closed the connection (or after
   * `timeoutMs`). No reconnect follows.
   */
  quit(reason?: string, timeoutMs = 2_000): Promise<void> {
    this.#quitting = true;
    this.#clearRetry();
    this.#clearGiveUp();
    return new Promise<void>((resolve) => {
      if (!this.#socket || this.#socket.destroyed) {
        this.#finish();
        return resolve();
      }
      this.#quitWaiters.push(resolve);
      this.#write({ type: 'quit', ...(reason ? { reason } : {}) });
      setTimeout(() => this.#socket?.destroy(), timeoutMs).unref();
    });
  }

  /** Closes immediately, without a quit frame and without reconnecting. */
  destroy(): void {
    this.#quitting = true;
    this.#clearRetry();
    this.#clearGiveUp();
    if (this.#socket) this.#socket.destroy();
    else this.#finish();
  }

  // ---------- connection lifecycle ----------

  #open(): void {
    this.#retryTimer = null;
    this.#setState({ status: 'connecting', retryAt: null });
    const { host, port, tls } = this.#opts;
    const socket: Socket = tls
      ? tlsConnect({ host, port, ...(tls.ca ? { ca: tls.ca } : {}), ...(isIP(host) ? {} : { servername: host }) })
      : connect({ host, port });
    this.#socket = socket;
    this.#framer = new LineFramer({ maxLineBytes: 4 * 1024 * 1024, maxUnterminatedBytes: 8 * 1024 * 1024 });
    this.#sawPromptBytes = '';
    this.#registered = false;
    this.#ready = false;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    let looked = isIP(host) !== 0;
    socket.once('lookup', () => (looked = true));
    socket.once('connect', () => (looked = true));
    this.#attemptTimer = setTimeout(() => {
      this.#attemptTimer = null;
      const why = looked ? `timed out (no answer in ${formatMs(this.#opts.connectTimeoutMs)})` : `timed out looking up ${host}`;
      this.#lastFailure = why;
      this.#state = { ...this.#state, reason: 'ETIMEDOUT' };
      socket.destroy();
    }, this.#opts.connectTimeoutMs);
    socket.on(tls ? 'secureConnect' : 'connect', () => {
      this.#clearAttempt();
      this.#lastData = Date.now();
      this.#lastFailure = 'the connection was accepted, but no teamchat server answered';
      this.#sendHello();
      this.#startPing();
    });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      this.#lastFailure = describeFailure(code, err.message);
      this.#state = { ...this.#state, reason: code ?? err.message };
    });
    socket.on('close', () => this.#onClose(socket));
  }

  /** No session within `giveUpAfterMs`: stop, and say why. */
  #giveUp(limit: number): void {
    this.#giveUpTimer = null;
    if (this.#closed || this.#quitting || this.#registered) return;
    const pending = this.#socket !== null && this.#attemptTimer !== null;
    const why = this.#lastFailure ?? (pending ? 'timed out' : 'no answer');
    this.#closed = true;
    this.#unreachable = true;
    this.#closeReason = `cannot reach ${this.#server}: ${why}; gave up after ${formatMs(limit)}`;
    this.#state = { ...this.#state, reason: this.#closeReason };
    this.#clearRetry();
    if (this.#socket) this.#socket.destroy();
    else this.#finish();
  }

  #clearGiveUp(): void {
    if (this.#giveUpTimer) clearTimeout(this.#giveUpTimer);
    this.#giveUpTimer = null;
  }

  #clearAttempt(): void {
    if (this.#attemptTimer) clearTimeout(this.#attemptTimer);
    this.#attemptTimer = null;
  }

  #sendHello(): void {
    const rooms: Record<string, number | null> = {};
    this.#resumeAfter.clear();
    for (const [room, seen] of this.#rooms) {
      rooms[room] = seen.max > 0 ? seen.max : null;
      if (seen.max > 0) this.#resumeAfter.set(room, seen.max);
    }
    for (const room of this.#wanted) if (!(room in rooms)) rooms[room] = null;
    this.#helloRef = this.#ref('h');
    const pmAfter = this.#everReady ? this.#maxId : undefined;
    this.#pmResumePending = pmAfter !== undefined;
    const token = this.#currentToken();
    this.#write({
      type: 'hello',
      v: PROTOCOL_VERSION,
      nick: this.#state.nick,
      client: 'teamchat-connect',
      rooms,
      ...(pmAfter !== undefined ? { pmAfter } : {}),
      ...(this.#opts.password !== undefined ? { password: this.#opts.password } : {}),
      ...(token !== undefined ? { token } : {}),
      ref: this.#helloRef,
    });
  }

  #onClose(socket: Socket): void {
    if (socket !== this.#socket) return;
    this.#clearAttempt();
    this.#socket = null;
    this.#stopPing();
    this.#registered = false;
    this.#ready = false;
    this.#gapFills.clear();
    this.#awaitingJoins.clear();
    for (const item of this.#outbox) if (item.state === 'sent') item.state = 'uncertain';
    if (this.#quitting || this.#closed) return this.#finish();
    const delay = this.#backoff.next();
    const retryAt = Date.now() + delay;
    this.#setState({ status: 'reconnecting', retryAt, ready: false });
    this.#retryTimer = setTimeout(() => this.#open(), delay);
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#stopPing();
    this.#clearGiveUp();
    this.#clearAttempt();
    this.#closed = true;
    this.#ready = false;
    this.#setState({ status: 'offline', retryAt: null, ready: false });
    for (const resolve of this.#quitWaiters.splice(0)) resolve();
    const reason = this.#quitting ? 'quit' : (this.#closeReason ?? this.#state.reason ?? 'closed by the server');
    this.#emit({ kind: 'closed', reason, ...(this.#unreachable && !this.#quitting ? { unreachable: true } : {}) });
  }

  #clearRetry(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  #startPing(): void {
    this.#stopPing();
    const every = this.#opts.pingIntervalMs;
    this.#pingTimer = setInterval(() => {
      if (!this.#socket) return;
      if (Date.now() - this.#lastData > every * 3) {
        this.#state = { ...this.#state, reason: 'no answer from the server' };
        this.#socket.destroy();
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

  /** Drops the current socket (a reconnect follows). */
  #abandon(reason: string): void {
    this.#state = { ...this.#state, reason };
    if (!this.#registered) this.#lastFailure = reason;
    this.#socket?.destroy();
  }

  // ---------- input ----------

  #onData(chunk: Buffer): void {
    this.#lastData = Date.now();
    if (!this.#registered && this.#sawPromptBytes.length < NICK_PROMPT.length) {
      // A plain-text nick prompt may arrive if the server did not see our hello in time: drop it.
      const text = chunk.toString('latin1');
      const want = NICK_PROMPT.slice(this.#sawPromptBytes.length);
      const n = Math.min(text.length, want.length);
      if (text.slice(0, n) === want.slice(0, n)) {
        this.#sawPromptBytes += text.slice(0, n);
        // The server prompted before our hello arrived (a busy machine); it still takes the
        // hello as NDJSON, because the first line decides the dialect: skip the prompt.
        chunk = chunk.subarray(n);
        if (chunk.length === 0) return;
      } else {
        this.#sawPromptBytes = NICK_PROMPT; // not a prompt: stop looking
      }
    }
    this.#framer.push(
      chunk,
      (line) => {
        if (line.length === 0 || !this.#socket || this.#socket.destroyed) return;
        const decoded = decodeServerFrame(line);
        if (decoded.ok) this.#onFrame(decoded.frame);
        else if (!this.#registered) this.#abandon(`the server answered in another dialect (${decoded.error.code})`);
        else this.#notice('error', `bad frame from server: ${decoded.error.message}`, decoded.error.code);
      },
      (code) => this.#notice('error', `server sent an oversized line (${code})`, code),
    );
  }

  #onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'welcome': {
        this.#registered = true;
        this.#clearGiveUp();
        this.#lastFailure = null;
        this.#backoff.reset();
        this.#wanted.clear();
        this.#awaitingJoins = new Set(frame.rooms);
        this.#resumedOwn = [];
        this.#state = { ...this.#state, nick: frame.nick, reason: null };
        const { token, ...shown } = frame;
        if (typeof token === 'string' && token !== '') {
          if (token !== this.#token) this.#tokenFiled.clear();
          this.#token = token;
        }
        this.#fileToken(frame.nick);
        this.#setState({ status: 'connected' });
        this.#emitFrame(shown);
        return this.#checkReady();
      }
      case 'joined':
        return this.#onJoined(frame);
      case 'history': {
        const gap = this.#gapFills.get(frame.room);
        if (gap && frame.ref !== undefined && frame.ref === this.#gapRef(frame.room)) return this.#onGapPage(gap, frame.messages, frame.more);
        const seen = this.#rooms.get(frame.room);
        if (seen) for (const m of frame.messages) this.#noteId(m.id), seen.add(m.id);
        return this.#emitFrame(frame);
      }
      case 'message': {
        const seen = this.#roomSeen(frame.room);
        if (!seen.add(frame.id)) return;
        this.#noteId(frame.id);
        if (!this.#ready && nickKey(frame.nick) === nickKey(this.#state.nick)) {
          this.#resumedOwn.push({ room: frame.room, text: frame.text, action: frame.action === true });
        }
        return this.#emitFrame(frame);
      }
      case 'pm':
        return this.#onPm(frame);
      case 'pm-history': {
        if (frame.ref === undefined || frame.ref.startsWith('p')) {
          // The resume answer to hello (and its follow-up pages).
          for (const m of frame.messages) this.#onPm({ type: 'pm', ...m });
          const last = frame.messages.at(-1);
          if (frame.more && last) {
            this.#write({ type: 'pm-history', after: last.id, limit: HISTORY_MAX, ref: this.#ref('p') });
          } else {
            this.#pmResumePending = false;
            this.#checkReady();
          }
          return;
        }
        for (const m of frame.messages) this.#noteId(m.id), this.#pmSeen.add(m.id);
        return this.#emitFrame(frame);
      }
      case 'ack': {
        this.#noteId(frame.id);
        const i = this.#outbox.findIndex((o) => o.ref === frame.ref);
        if (i >= 0) this.#outbox.splice(i, 1);
        return this.#emitFrame(frame);
      }
      case 'error':
        return this.#onError(frame);
      case 'parted':
        this.#rooms.delete(frame.room);
        return this.#emitFrame(frame);
      case 'nick':
        if (frame.room === undefined) {
          this.#state = { ...this.#state, nick: frame.new };
          this.#fileToken(frame.new);
        }
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

  #onJoined(frame: JoinedFrame): void {
    const seen = this.#roomSeen(frame.room);
    const after = this.#resumeAfter.get(frame.room);
    this.#resumeAfter.delete(frame.room);
    const first = frame.history[0];
    if (after !== undefined && frame.more && first && first.id > after + 1) {
      // Resumed, but the server could not send everything since `after`: fill the gap first.
      const gap: GapFill = { held: frame, after, messages: [] };
      this.#gapFills.set(frame.room, gap);
      this.#requestGap(frame.room, gap);
      return;
    }
    this.#releaseJoined(frame, seen, after !== undefined);
  }

  #gapRef(room: string): string {
    return `g:${room}`;
  }

  #requestGap(room: string, gap: GapFill): void {
    const after = gap.messages.at(-1)?.id ?? gap.after;
    this.#write({ type: 'history', room, after, before: gap.held.history[0]!.id, limit: HISTORY_MAX, ref: this.#gapRef(room) });
  }

  #onGapPage(gap: GapFill, messages: RoomMessage[], more: boolean): void {
    gap.messages.push(...messages);
    if (more && messages.length > 0 && gap.messages.length < MAX_GAP_FILL) return this.#requestGap(gap.held.room, gap);
    this.#gapFills.delete(gap.held.room);
    if (more) this.#notice('error', `more than ${MAX_GAP_FILL} messages were missed in ${gap.held.room}; use /history for the rest`);
    const frame: JoinedFrame = { ...gap.held, history: [...gap.messages, ...gap.held.history], more: true };
    this.#releaseJoined(frame, this.#roomSeen(gap.held.room), true);
  }

  #releaseJoined(frame: JoinedFrame, seen: SeenIds, resumed: boolean): void {
    const own = nickKey(this.#state.nick);
    const history = frame.history.filter((m) => {
      if (!seen.add(m.id)) return false;
      this.#noteId(m.id);
      if (resumed && nickKey(m.nick) === own) this.#resumedOwn.push({ room: m.room, text: m.text, action: m.action === true });
      return true;
    });
    this.#awaitingJoins.delete(frame.room);
    this.#emit({ kind: 'frame', frame: { ...frame, history }, resumed });
    this.#checkReady();
  }

  #onPm(frame: Extract<ServerFrame, { type: 'pm' }>): void {
    if (!this.#pmSeen.add(frame.id)) return;
    this.#noteId(frame.id);
    if (!this.#ready && nickKey(frame.from) === nickKey(this.#state.nick)) {
      this.#resumedOwn.push({ to: nickKey(frame.to), text: frame.text, action: frame.action === true });
    }
    this.#emitFrame(frame);
  }

  #onError(frame: ErrorFrame): void {
    if (frame.ref !== undefined && frame.ref === this.#helloRef && !this.#registered) {
      if (!this.#everReady && (frame.code === 'TC_ERR_NICK_IN_USE' || frame.code === 'TC_ERR_BAD_NICK')) {
        this.#emit({ kind: 'nick-rejected', error: frame });
        return;
      }
      if (frame.code === 'TC_ERR_AUTH_REQUIRED' || frame.code === 'TC_ERR_BAD_PASSWORD' || frame.code === 'TC_ERR_WEAK_PASSWORD') {
        // Retrying with the same password cannot help: stop, and say why.
        this.#closed = true;
        this.#state = { ...this.#state, reason: `${frame.message} [${frame.code}]` };
        this.#emitFrame(frame);
        this.#socket?.destroy();
        return;
      }
      // A reconnect whose nick is still held (the old session has not timed out): try again later.
      this.#state = { ...this.#state, reason: `${frame.message} [${frame.code}]` };
      this.#lastFailure = this.#state.reason;
      this.#emitFrame(frame);
      this.#socket?.destroy();
      return;
    }
    if (frame.ref !== undefined) {
      const i = this.#outbox.findIndex((o) => o.ref === frame.ref);
      if (i >= 0) this.#outbox.splice(i, 1);
      if (frame.ref.startsWith('g:')) {
        const gap = this.#gapFills.get(frame.ref.slice(2));
        if (gap) this.#onGapPage(gap, [], false);
      }
      if (frame.ref.startsWith('p')) {
        this.#pmResumePending = false;
        this.#checkReady();
      }
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
    this.#flushOutbox();
    this.#emit({ kind: 'ready', first });
  }

  #flushOutbox(): void {
    let settled = 0;
    let resent = 0;
    for (const item of [...this.#outbox]) {
      if (item.state === 'uncertain') {
        const f = item.frame;
        const i = this.#resumedOwn.findIndex((o) =>
          f.type === 'msg'
            ? o.room === normalizeRoom(f.room) && o.text === f.text && o.action === (f.action === true)
            : o.to === nickKey(f.to) && o.text === f.text && o.action === (f.action === true),
        );
        if (i >= 0) {
          // It was stored before the connection dropped: the resumed history already shows it.
          this.#resumedOwn.splice(i, 1);
          this.#outbox.splice(this.#outbox.indexOf(item), 1);
          settled++;
          continue;
        }
        resent++;
      }
      this.#write(item.frame);
      item.state = 'sent';
    }
    this.#resumedOwn = [];
    if (resent > 0 || settled > 0) this.#notice('info', `${resent} unconfirmed message(s) resent, ${settled} found already delivered`);
  }

  // ---------- helpers ----------

  /** The token for the next hello: the session's, else the one stored for the nick we ask for. */
  #currentToken(): string | undefined {
    if (this.#token !== undefined || !this.#opts.tokens || this.#state.nick === '') return this.#token;
    try {
      return this.#opts.tokens.get(this.#server, this.#state.nick);
    } catch (err) {
      this.#notice('error', `resume token: ${(err as Error).message}; connecting as a new identity`);
      return undefined;
    }
  }

  /** Files the session's token under this nick (once per nick and token). */
  #fileToken(nick: string): void {
    const store = this.#opts.tokens;
    const key = nickKey(nick);
    if (!store || this.#token === undefined || this.#tokenFiled.has(key)) return;
    this.#tokenFiled.add(key);
    try {
      store.set(this.#server, nick, this.#token);
    } catch (err) {
      this.#notice('error', `resume token not saved: ${(err as Error).message}`);
    }
  }

  #roomSeen(room: string): SeenIds {
    let seen = this.#rooms.get(room);
    if (!seen) this.#rooms.set(room, (seen = new SeenIds()));
    return seen;
  }

  #noteId(id: number): void {
    if (id > this.#maxId) this.#maxId = id;
  }

  #ref(prefix: string): string {
    return `${prefix}${++this.#refCounter}`;
  }

  #write(frame: ClientFrame): void {
    const socket = this.#socket;
    if (!socket || socket.destroyed) return;
    socket.write(encodeFrame(frame));
  }

  #setState(patch: Partial<ConnectionState>): void {
    this.#state = { ...this.#state, ...patch };
    this.#emitState();
  }

  #emitState(): void {
    this.#emit({ kind: 'state', state: this.#state });
  }

  #emitFrame(frame: ServerFrame): void {
    this.#emit({ kind: 'frame', frame, resumed: false });
  }

  #notice(level: 'info' | 'error', text: string, code?: string): void {
    this.#emit({ kind: 'notice', level, text, ...(code ? { code } : {}) });
  }

  #emit(event: ConnectionEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
