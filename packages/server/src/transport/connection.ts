/**
 * One client connection, whatever carries it (TCP or WebSocket) and whichever dialect it speaks.
 * It is the core's Session: the core hands it frames to deliver, and it hands the core what the
 * client sent. Everything that can go wrong with one client's input stays inside this object.
 */
import {
  codedError,
  decodeClientFrame,
  ERRORS,
  type ByeFrame,
  type ClientFrame,
  type CodedError,
  type ErrorCode,
  type ServerFrame,
} from '@teamchat/protocol';
import type { ChatCore } from '../core/chat-core.js';
import type { Room } from '../core/room.js';
import type { Dialect, Session } from '../core/session.js';
import { EncodedFrame } from './encoded-frame.js';
import type { Link } from './link.js';
import { BAD_INPUT_COST, costOf } from './command-cost.js';
import { PlainDialect } from './plain-dialect.js';
import type { SecurityPolicy } from './security/security-options.js';
import { TokenBucket } from './security/token-bucket.js';

/**
 * Input lines read but not yet handled, past which the connection stops reading (the socket is
 * paused, so the kernel's buffers and then the peer's writes fill up). Reading resumes below half.
 * The lines of one chunk already read are kept (at most one read, 64 KiB, of bytes).
 */
const INBOX_PAUSE_LINES = 32;
/** While output is queued beyond this share of the send-queue bound, no more input is handled. */
const OUTPUT_SOFT_SHARE = 4;
/** How often a connection waiting for its peer to read its output looks again. */
const OUTPUT_POLL_MS = 5;

/** One client command, ready to run once the connection's budget allows. */
export interface Work {
  /** Flood budget (tokens) it costs; see command-cost.ts. */
  cost: number;
  run(): void;
  ref?: string;
}

/**
 * A line dialect other than NDJSON (plain text, IRC): turns input lines into commands and frames
 * into output bytes for one connection.
 */
export interface LineDialect {
  /** Shows the first prompt (plain text); absent: the client speaks first. */
  start?(): void;
  interpret(line: Buffer): Work | null;
  render(encoded: EncodedFrame): Buffer;
  /** True while an answer of the dialect's own is pending: the connection reads no further command until `resume()`. */
  readonly holding?: boolean;
}

export interface ConnectionHost {
  readonly core: ChatCore<Connection>;
  /** Output queued for one client before it is cut off as a slow consumer. */
  readonly maxSendQueueBytes: number;
  /** Flood control, timeouts and heartbeats; absent: none of them (unit tests). */
  readonly security?: SecurityPolicy;
  /** False while the server shuts down: input is ignored, output still flows. */
  readonly accepting: boolean;
  log(line: string): void;
  nextId(): number;
  /** A new connection exists. */
  adopt(connection: Connection): void;
  /** The connection is closed and fully accounted for. */
  forget(connection: Connection): void;
  /** A command of this connection has to wait for flood budget (once per waiting command). */
  floodDelayed?(connection: Connection): void;
  /** A listener refused a connection from `ip`: over the per-address `limit` (TC_ERR_TOO_MANY_CONNECTIONS). */
  connectionRefused?(ip: string, limit: number): void;
}

const EMPTY = Buffer.alloc(0);

export class Connection implements Session {
  nick: string | null = null;
  key: string | null = null;
  owner: string | null = null;
  /** Set by the IRC dialect (USER): what ban masks match. */
  userhost?: string;
  readonly rooms = new Set<Room>();
  readonly #host: ConnectionHost;
  readonly #link: Link;
  readonly #plain: LineDialect | null;
  #closing = false;
  #closed = false;
  #checkScheduled = false;
  #authFailures = 0;
  readonly #bucket: TokenBucket | null;
  /** Lines read and not yet handled, in order (raw: decoding happens when their turn comes). */
  #inbox: Buffer[] = [];
  #inboxHead = 0;
  /** The next command, decoded, waiting for flood budget. */
  #next: Work | null = null;
  #inputPaused = false;
  #pumping = false;
  #pumpTimer: NodeJS.Timeout | null = null;
  #registrationTimer: NodeJS.Timeout | null = null;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #lastInput = performance.now();
  #pingSentAt: number | null = null;

  readonly id: number;

  constructor(
    readonly dialect: Dialect,
    readonly remote: string,
    link: Link,
    host: ConnectionHost,
    /**
     * `prompted`: the transport already showed the plain-text nick prompt. `lineDialect`: the
     * dialect of a listener that speaks only one (IRC); else plain text for `plain`, NDJSON for `json`.
     */
    options: {
      prompted?: boolean;
      lineDialect?: (connection: Connection, core: ChatCore<Connection>) => LineDialect;
    } = {},
  ) {
    this.id = host.nextId();
    this.#link = link;
    this.#host = host;
    host.adopt(this);
    const security = host.security;
    this.#bucket = security?.flood
      ? new TokenBucket({ burst: security.flood.burst, ratePerSecond: security.flood.ratePerSecond })
      : null;
    this.#plain = options.lineDialect
      ? options.lineDialect(this, host.core)
      : dialect === 'plain'
        ? new PlainDialect(this, host.core)
        : null;
    host.core.connect(this);
    if (security && security.registrationTimeoutMs > 0) {
      this.#registrationTimer = setTimeout(this.#registrationExpired, security.registrationTimeoutMs);
      this.#registrationTimer.unref();
    }
    // Plain-text users get TCP keepalive instead (set by the TCP listener): nc cannot answer pings.
    if (security?.heartbeat && dialect !== 'plain') this.#armHeartbeat(security.heartbeat.idleMs);
    if (!options.prompted) this.#plain?.start?.();
  }

  /** Counts a wrong password (or room key) of this connection; returns the count so far. */
  noteAuthFailure(): number {
    return ++this.#authFailures;
  }

  /** The peer answered a transport-level ping (WebSocket pong). */
  noteAlive(): void {
    this.#lastInput = performance.now();
    this.#pingSentAt = null;
  }

  /** The core finished a command that was waiting for the database or a password check. */
  resume(): void {
    this.#pump();
  }

  /** The peer's IP address (without the port): per-address limits count by it. */
  get address(): string {
    const colon = this.remote.lastIndexOf(':');
    return colon > 0 ? this.remote.slice(0, colon) : this.remote;
  }

  /** Resolves once this connection's queued output is under its soft limit (or it is closed). */
  whenWritable(): Promise<void> {
    if (!this.isOpen || this.#link.buffered <= this.#outputSoftLimit) return Promise.resolve();
    return new Promise((resolve) => {
      const look = () => {
        if (!this.isOpen || this.#link.buffered <= this.#outputSoftLimit) resolve();
        else setTimeout(look, OUTPUT_POLL_MS);
      };
      setTimeout(look, OUTPUT_POLL_MS);
    });
  }

  /** Output queued beyond which this connection's input waits (its own answers first). */
  get #outputSoftLimit(): number {
    return this.#host.maxSendQueueBytes / OUTPUT_SOFT_SHARE;
  }

  /**
   * Handles a command now, outside the inbox and the flood budget: for follow-ups of a command
   * already paid for (the plain-text dialect leaving its previous room after a join).
   */
  dispatch(frame: ClientFrame): void {
    if (this.isOpen) this.#run({ cost: 0, run: () => this.#host.core.handle(this, frame), ref: frame.ref });
  }

  /**
   * Handles the inbox in order, one command at a time, while the connection may go on: its
   * flood budget covers the next command (a token bucket: every command has a cost), no command
   * of its own is waiting for the database or a password check, and the peer has read its output
   * down to the soft limit. Otherwise it waits (a timer for the budget, `resume` for the core, a
   * short poll for the peer). Other connections are never delayed by it.
   */
  #pump(): void {
    if (this.#pumping) return; // re-entered from a command's own effects: the loop below goes on
    this.#pumping = true;
    try {
      while (this.isOpen && (this.#next !== null || this.#inboxHead < this.#inbox.length)) {
        if (this.#host.core.isBusy(this) || this.#plain?.holding) return; // resume() calls back
        if (this.#link.buffered > this.#outputSoftLimit) return this.#wait(OUTPUT_POLL_MS);
        if (this.#next === null) {
          const line = this.#inbox[this.#inboxHead];
          this.#inbox[this.#inboxHead++] = EMPTY;
          this.#next = this.#interpret(line);
          if (this.#next === null) continue;
        }
        const work = this.#next;
        if (this.#bucket !== null && work.cost > 0 && !this.#bucket.take(work.cost)) {
          if (this.#pumpTimer === null) this.#host.floodDelayed?.(this); // not yet waiting: a newly delayed command
          return this.#wait(this.#bucket.msUntilNext(work.cost));
        }
        this.#next = null;
        this.#run(work);
      }
    } finally {
      this.#pumping = false;
      this.#compactInbox();
    }
  }

  #wait(ms: number): void {
    if (this.#pumpTimer) return;
    this.#pumpTimer = setTimeout(
      () => {
        this.#pumpTimer = null;
        this.#pump();
      },
      Math.max(1, ms),
    );
  }

  #compactInbox(): void {
    if (this.#inboxHead === this.#inbox.length) {
      this.#inbox = [];
      this.#inboxHead = 0;
    } else if (this.#inboxHead > 1024) {
      this.#inbox = this.#inbox.slice(this.#inboxHead);
      this.#inboxHead = 0;
    }
    if (this.#inputPaused && this.#inbox.length - this.#inboxHead < INBOX_PAUSE_LINES / 2) {
      this.#inputPaused = false;
      this.#link.resumeInput();
    }
  }

  /** One line becomes a command with its cost (a coded error is a command too: it has a cost). */
  #interpret(line: Buffer): Work | null {
    if (this.#plain) return this.#plain.interpret(line);
    if (line.length === 0) return null;
    const decoded = decodeClientFrame(line);
    if (!decoded.ok) {
      const { error, ref } = decoded;
      return { cost: BAD_INPUT_COST, run: () => this.sendError(error, ref), ref };
    }
    const frame = decoded.frame;
    return { cost: costOf(frame), run: () => this.#host.core.handle(this, frame), ref: frame.ref };
  }

  #run(work: Work): void {
    try {
      work.run();
    } catch (err) {
      // Supervision: a bug triggered by this client's input answers this client only.
      this.#host.log(
        `error: while handling input from ${this.nick ?? this.remote}: ${(err as Error).stack ?? String(err)}`,
      );
      this.sendError(codedError('TC_ERR_INTERNAL'), work.ref);
    }
  }

  readonly #registrationExpired = (): void => {
    this.#registrationTimer = null;
    if (this.key !== null || !this.isOpen || this.#host.core.isBusy(this)) return;
    this.#host.log(`closing ${this.remote}: TC_ERR_REGISTRATION_TIMEOUT`);
    this.close({
      type: 'bye',
      code: 'TC_ERR_REGISTRATION_TIMEOUT',
      reason: ERRORS.TC_ERR_REGISTRATION_TIMEOUT.message,
    });
  };

  #armHeartbeat(ms: number): void {
    this.#heartbeatTimer = setTimeout(this.#beat, Math.max(1, ms));
    this.#heartbeatTimer.unref();
  }

  /** Pings after `idleMs` without input; drops the connection `timeoutMs` after an unanswered ping. */
  readonly #beat = (): void => {
    this.#heartbeatTimer = null;
    const heartbeat = this.#host.security?.heartbeat;
    if (!heartbeat || !this.isOpen) return;
    const now = performance.now();
    if (this.#pingSentAt !== null) {
      const waited = now - this.#pingSentAt;
      if (waited < heartbeat.timeoutMs) return this.#armHeartbeat(heartbeat.timeoutMs - waited);
      this.#host.log(`closing ${this.nick ?? this.remote}: TC_ERR_PING_TIMEOUT`);
      this.close({ type: 'bye', code: 'TC_ERR_PING_TIMEOUT', reason: ERRORS.TC_ERR_PING_TIMEOUT.message });
      // A half-open peer never acknowledges the goodbye: do not wait for it.
      this.#link.destroy();
      return;
    }
    const idle = now - this.#lastInput;
    if (idle < heartbeat.idleMs) return this.#armHeartbeat(heartbeat.idleMs - idle);
    this.#pingSentAt = now;
    if (this.#link.ping) this.#link.ping();
    else this.send({ type: 'ping', ts: Date.now() });
    this.#armHeartbeat(heartbeat.timeoutMs);
  };

  #stopTimers(): void {
    if (this.#pumpTimer) clearTimeout(this.#pumpTimer);
    if (this.#registrationTimer) clearTimeout(this.#registrationTimer);
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    this.#pumpTimer = this.#registrationTimer = this.#heartbeatTimer = null;
    this.#inbox = [];
    this.#inboxHead = 0;
    this.#next = null;
  }

  get isOpen(): boolean {
    return !this.#closing && !this.#closed;
  }

  /**
   * One line (TCP) or message (WebSocket) from the client, without its newline. It waits in the
   * inbox for its turn; past INBOX_PAUSE_LINES waiting, the link stops reading.
   */
  receive(line: Buffer): void {
    if (!this.isOpen || !this.#host.accepting) return;
    this.noteAlive();
    this.#inbox.push(Buffer.from(line)); // the framer's buffer is only valid during this call
    if (!this.#inputPaused && this.#inbox.length - this.#inboxHead >= INBOX_PAUSE_LINES) {
      this.#inputPaused = true;
      this.#link.pauseInput();
    }
    this.#pump();
  }

  /** A framing error from the transport (line too long, input overflow). */
  receiveError(code: ErrorCode): void {
    if (!this.isOpen) return;
    if (ERRORS[code].fatal) {
      this.#host.log(`closing ${this.nick ?? this.remote}: ${code}`);
      this.close({ type: 'bye', code, reason: ERRORS[code].message });
    } else {
      this.sendError(codedError(code));
    }
  }

  /** Queues a frame already encoded for a broadcast. */
  deliver(encoded: EncodedFrame): void {
    if (!this.isOpen) return;
    const bytes = this.#plain ? this.#plain.render(encoded) : encoded.json();
    if (bytes.length > 0) this.#write(bytes);
  }

  send(frame: ServerFrame): void {
    this.deliver(new EncodedFrame(frame));
  }

  sendError(error: CodedError, ref?: string): void {
    this.send({ type: 'error', code: error.code, message: error.message, ...(ref ? { ref } : {}) });
  }

  /** Writes raw text (plain-text prompts). */
  writeText(text: string): void {
    if (this.isOpen) this.#write(Buffer.from(text));
  }

  /** Says goodbye, flushes and closes. */
  close(bye: ByeFrame): void {
    if (!this.isOpen) return;
    this.send(bye);
    this.#closing = true;
    this.#stopTimers();
    this.#link.end();
  }

  /** The link is gone (closed by either side): leave the chat, once. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTimers();
    this.#host.core.disconnect(this);
    this.#host.forget(this);
  }

  #write(bytes: Buffer): void {
    this.#link.write(bytes);
    if (!this.#checkScheduled) {
      this.#checkScheduled = true;
      // After the link has flushed this tick's writes to the kernel (its uncork runs first).
      process.nextTick(this.#checkQueue);
    }
  }

  /**
   * What the peer has not taken once the kernel had its chance is this client's queue. Past the
   * bound, it alone is cut off: nobody else waits for it and server memory stays bounded.
   */
  readonly #checkQueue = (): void => {
    this.#checkScheduled = false;
    if (this.#closed || this.#link.buffered <= this.#host.maxSendQueueBytes) return;
    this.#host.log(`closing ${this.nick ?? this.remote}: TC_ERR_SLOW_CONSUMER (${this.#link.buffered} bytes queued)`);
    this.#closing = true;
    this.#link.destroy();
    this.closed();
  };
}
