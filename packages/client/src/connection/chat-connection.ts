/**
 * The terminal client's connection: `ChatClient` (@teamchat/client-core: transport, reconnect
 * with backoff over one or several addresses, resume by cursor, dedupe, typed requests,
 * exactly-once sends by `cid`) plus what the terminal needs on top: notices in a person's words,
 * resume tokens filed between runs, and the fire-and-forget calls of the UI and the line mode.
 * No UI in here: consumers subscribe to events (frames, state, notices).
 *
 * Sending: room and private messages carry a `cid` and stay in the client's outbox until the
 * server acks them. Typed while offline, they are queued and sent once the resume is complete;
 * a message that was on the wire when the connection dropped is resent with the same `cid`, and
 * the server stores it once.
 *
 * Identity: the server gives a client that is not logged in to an account a secret resume token
 * in `welcome`. The client keeps the latest one and sends it in every `hello` (reconnects
 * included), so it stays the same person; with a `tokens` store the connection also files the
 * token (per server and nick; with several addresses, under each of them) for the next run and
 * presents it at the first `hello`. Tokens never reach the listeners.
 *
 * Giving up: by default a connection retries forever. With `giveUpAfterMs`, when no session
 * could be opened (no `welcome`) that long after `start()`, it stops and emits `closed` with
 * `unreachable` set and a reason such as `cannot reach host:port: connection refused (ECONNREFUSED)`.
 *
 * @example
 * const conn = new ChatConnection({ addresses: [{ host: 'localhost', port: 5555 }], nick: 'alice', rooms: ['general'] });
 * conn.on((event) => { if (event.kind === 'frame') console.log(event.frame); });
 * conn.start();
 * conn.sendText({ kind: 'room', room: 'general' }, 'hi');
 */
import {
  ChatClient,
  ClientError,
  formatAddress,
  newCid,
  type BackoffOptions,
  type ClientEvent,
  type ClientState,
  type RequestFrame,
  type ServerAddress,
} from '@teamchat/client-core';
import {
  nickKey,
  normalizeRoom,
  type ClientFrame,
  type ErrorFrame,
  type MsgFrame,
  type PmFrame,
  type ServerFrame,
} from '@teamchat/protocol';
import type { TokenStore } from './token-store.js';

export type ConnectionStatus = ClientState['status'];

export type ConnectionState = ClientState;

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

/** A command frame of the UI: anything but messages, `hello` and `quit`. */
export type CommandFrame = Exclude<
  ClientFrame,
  MsgFrame | PmFrame | { type: 'hello' } | { type: 'quit' } | { type: 'kick' }
>;

export interface ChatConnectionOptions {
  /** The server, or the nodes of a cluster (tried in turn when a connection is lost). */
  addresses?: ServerAddress[];
  /** One server (when `addresses` is not given). */
  host?: string;
  port?: number;
  nick: string;
  /** Rooms to join at the first connect (the server also restores persisted memberships). */
  rooms?: string[];
  /** Client name sent in hello. */
  client?: string;
  backoff?: BackoffOptions;
  /** Messages held until acknowledged (queued offline or in flight); beyond that they are refused. */
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

export class ChatConnection {
  readonly #client: ChatClient;
  readonly #listeners = new Set<(event: ConnectionEvent) => void>();
  readonly #tokens: TokenStore | undefined;
  /** `host:port` of every address, canonical: the keys of stored tokens. */
  readonly #servers: string[];
  /** The latest resume token from the server. */
  #token: string | undefined;
  /** Nicks the token was filed under in the store during this session. */
  readonly #tokenFiled = new Set<string>();
  #quitting = false;

  constructor(options: ChatConnectionOptions) {
    const addresses =
      options.addresses ??
      (options.host !== undefined && options.port !== undefined ? [{ host: options.host, port: options.port }] : []);
    if (addresses.length === 0)
      throw new TypeError('ChatConnection needs a server address (addresses, or host and port)');
    this.#servers = addresses.map(formatAddress);
    this.#tokens = options.tokens;
    this.#client = new ChatClient({
      addresses,
      nick: options.nick,
      client: options.client ?? 'teamchat-connect',
      ...(options.rooms ? { rooms: options.rooms } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
      maxOutbox: options.maxQueued ?? 200,
      pingIntervalMs: options.pingIntervalMs ?? 15_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.tokens ? { token: (nick: string) => this.#storedToken(nick) } : {}),
      ...(options.giveUpAfterMs !== undefined ? { giveUpAfterMs: options.giveUpAfterMs } : {}),
    });
    this.#client.on((event) => this.#onClientEvent(event));
  }

  get state(): ConnectionState {
    return this.#client.state;
  }

  get nick(): string {
    return this.#client.nick;
  }

  /** Messages waiting for the server's ack (queued, in flight, or to be resent). */
  get pendingCount(): number {
    return this.#client.outboxSize;
  }

  /** Rooms this connection is in. */
  get rooms(): string[] {
    return this.#client.rooms;
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: (event: ConnectionEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    this.#client.start();
  }

  /**
   * Sends a room or private message (a `/me` action with `action`). Returns its client message
   * id (`cid`), or null when it was refused (a notice says why). While offline it is queued.
   */
  sendText(target: Target, text: string, action = false, replyTo?: number): string | null {
    if (this.#client.isClosed || this.#quitting) {
      this.#notice('error', 'not connected: message not sent');
      return null;
    }
    if (this.#client.outboxFull) {
      this.#notice('error', `${this.#client.outboxSize} messages are already waiting to be sent: this one was refused`);
      return null;
    }
    const cid = newCid();
    // A reply is queued offline and resent after a drop like any message (same cid).
    const sent =
      target.kind === 'room'
        ? this.#client.say(target.room, text, { action, cid, ...(replyTo !== undefined ? { replyTo } : {}) })
        : this.#client.pm(target.nick, text, { action, cid });
    // A refusal by the server arrives as an `error` frame too; closing rejects what is left.
    sent.catch(() => {});
    if (!this.#client.isReady)
      this.#notice(
        'info',
        `offline: message queued (${this.#client.outboxSize} waiting), it will be sent on reconnect`,
      );
    return cid;
  }

  /**
   * Sends any other command frame; returns the promise of its answer (which is also passed on as
   * a frame; the promise resolves with undefined when there was none), or null when not connected
   * (a `join` is then remembered for the next connect; other commands are refused with a notice).
   * The promise never rejects, so a caller that only sends may drop it.
   */
  request(frame: CommandFrame): Promise<ServerFrame | undefined> | null {
    if (frame.type === 'pong') return null; // the heartbeat is the client's business
    if (!this.#client.isReady) {
      if (frame.type === 'join') {
        const room = normalizeRoom(frame.room);
        if (room && !this.#client.isClosed && !this.#quitting) {
          this.#client.join(room).catch(() => {});
          this.#notice('info', `offline: will join ${room} on reconnect`);
          return null;
        }
      }
      this.#notice('error', `not connected: /${frame.type} was not sent`);
      return null;
    }
    return this.#client.request(frame satisfies RequestFrame).then(
      (answer): ServerFrame => answer,
      (err: unknown) => {
        // Refusals arrive as `error` frames; an answer after the timeout is still passed on.
        if (!(err instanceof ClientError)) this.#notice('error', `/${frame.type} failed: ${(err as Error).message}`);
        return undefined;
      },
    );
  }

  /** Registers with another nick after `nick-rejected` (or before `start()`). */
  retryNick(nick: string): void {
    this.#client.hello({ nick }).catch(() => {});
  }

  /**
   * Leaves: sends `quit` and resolves once the server closed the connection (or after
   * `timeoutMs`). No reconnect follows.
   */
  quit(reason?: string, timeoutMs = 2_000): Promise<void> {
    this.#quitting = true;
    return this.#client.quit(reason, timeoutMs);
  }

  /** Closes immediately, without a quit frame and without reconnecting. */
  destroy(): void {
    this.#quitting = true;
    this.#client.destroy();
  }

  // ---------- events ----------

  #onClientEvent(event: ClientEvent): void {
    switch (event.kind) {
      case 'state':
        return this.#emit(event);
      case 'frame':
        return this.#onFrame(event.frame, event.resumed);
      case 'hello-refused':
        return this.#emit({ kind: 'nick-rejected', error: event.error });
      case 'ready':
        if (event.resent > 0) this.#notice('info', `${event.resent} unconfirmed message(s) resent`);
        return this.#emit({ kind: 'ready', first: event.first });
      case 'warning':
        return this.#notice('error', event.message, event.code.startsWith('TC_ERR_') ? event.code : undefined);
      case 'closed':
        return this.#emit(event);
    }
  }

  #onFrame(frame: ServerFrame, resumed: boolean): void {
    if (frame.type === 'welcome') {
      const { token, ...shown } = frame;
      if (typeof token === 'string' && token !== '') {
        if (token !== this.#token) this.#tokenFiled.clear();
        this.#token = token;
      }
      this.#fileToken(frame.nick);
      return this.#emit({ kind: 'frame', frame: shown, resumed });
    }
    if (frame.type === 'nick' && frame.room === undefined) this.#fileToken(frame.new);
    this.#emit({ kind: 'frame', frame, resumed });
  }

  // ---------- resume tokens ----------

  /** The token stored for this nick (under the first address that has one). */
  #storedToken(nick: string): string | undefined {
    const store = this.#tokens;
    if (!store) return undefined;
    try {
      for (const server of this.#servers) {
        const token = store.get(server, nick);
        if (token !== undefined) return token;
      }
      return undefined;
    } catch (err) {
      this.#notice('error', `resume token: ${(err as Error).message}; connecting as a new identity`);
      return undefined;
    }
  }

  /** Files the session's token under this nick, for every address (once per nick and token). */
  #fileToken(nick: string): void {
    const store = this.#tokens;
    const key = nickKey(nick);
    if (!store || this.#token === undefined || this.#tokenFiled.has(key)) return;
    this.#tokenFiled.add(key);
    try {
      for (const server of this.#servers) store.set(server, nick, this.#token);
    } catch (err) {
      this.#notice('error', `resume token not saved: ${(err as Error).message}`);
    }
  }

  #notice(level: 'info' | 'error', text: string, code?: string): void {
    this.#emit({ kind: 'notice', level, text, ...(code ? { code } : {}) });
  }

  #emit(event: ConnectionEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
