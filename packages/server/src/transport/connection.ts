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
  type ClientFrameType,
  type CodedError,
  type ErrorCode,
  type ServerFrame,
} from '@teamchat/protocol';
import type { ChatCore } from '../core/chat-core.js';
import type { Room } from '../core/room.js';
import type { Dialect, Session } from '../core/session.js';
import { EncodedFrame } from './encoded-frame.js';
import type { Link } from './link.js';
import { PlainDialect } from './plain-dialect.js';
import type { SecurityPolicy } from './security/security-options.js';
import { TokenBucket } from './security/token-bucket.js';

/** Commands that cost the flood budget: everything that stores, fans out or reads the database. */
const LIMITED = new Set<ClientFrameType>(['msg', 'pm', 'join', 'nick', 'topic', 'history', 'pm-history', 'register', 'mode', 'invite']);
/** Commands held in all (limited or not) while waiting, before further ones are refused. */
const MAX_HELD = 64;

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
}

export class Connection implements Session {
  nick: string | null = null;
  key: string | null = null;
  readonly rooms = new Set<Room>();
  readonly #host: ConnectionHost;
  readonly #link: Link;
  readonly #plain: PlainDialect | null;
  #closing = false;
  #closed = false;
  #checkScheduled = false;
  #authFailures = 0;
  readonly #bucket: TokenBucket | null;
  /** Commands held back, in order: waiting for flood budget or for the hello's password check. */
  readonly #held: ClientFrame[] = [];
  #heldLimited = 0;
  #drainTimer: NodeJS.Timeout | null = null;
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
    /** `prompted`: the transport already showed the plain-text nick prompt. */
    options: { prompted?: boolean } = {},
  ) {
    this.id = host.nextId();
    this.#link = link;
    this.#host = host;
    host.adopt(this);
    const security = host.security;
    this.#bucket = security?.flood ? new TokenBucket({ burst: security.flood.burst, ratePerSecond: security.flood.ratePerSecond }) : null;
    this.#plain = dialect === 'plain' ? new PlainDialect(this, host.core) : null;
    host.core.connect(this);
    if (security && security.registrationTimeoutMs > 0) {
      this.#registrationTimer = setTimeout(this.#registrationExpired, security.registrationTimeoutMs);
      this.#registrationTimer.unref();
    }
    // Plain-text users get TCP keepalive instead (set by the TCP listener): nc cannot answer pings.
    if (security?.heartbeat && dialect === 'json') this.#armHeartbeat(security.heartbeat.idleMs);
    if (!options.prompted) this.#plain?.start();
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

  /** The core finished checking this connection's password: release the input held meanwhile. */
  loginSettled(): void {
    if (!this.#drainTimer) this.#drain();
  }

  /**
   * Hands one command to the core, or holds it: behind the flood budget (a token bucket per
   * connection), or while a password check is running. Held commands run in order; past the
   * bound, new ones are refused with TC_ERR_RATE_LIMITED. Other connections are never delayed.
   */
  dispatch(frame: ClientFrame): void {
    if (!this.isOpen) return;
    if (frame.type === 'quit' || frame.type === 'ping' || frame.type === 'pong') return this.#handleNow(frame);
    const limited = this.#bucket !== null && LIMITED.has(frame.type);
    const waiting = this.#held.length > 0 || this.#host.core.isAuthenticating(this);
    if (!waiting && (!limited || this.#bucket!.take())) return this.#handleNow(frame);
    const maxQueued = this.#host.security?.flood?.maxQueued ?? 0;
    if (limited ? this.#heldLimited >= maxQueued : this.#held.length >= MAX_HELD) {
      return this.sendError(codedError('TC_ERR_RATE_LIMITED', `${this.#held.length} commands are already waiting`), frame.ref);
    }
    this.#held.push(frame);
    if (limited) this.#heldLimited++;
    if (!this.#drainTimer) this.#drain();
  }

  #drain(): void {
    while (this.#held.length > 0 && this.isOpen) {
      if (this.#host.core.isAuthenticating(this)) return; // loginSettled() resumes
      const frame = this.#held[0]!;
      const limited = this.#bucket !== null && LIMITED.has(frame.type);
      if (limited && !this.#bucket!.take()) {
        this.#drainTimer = setTimeout(() => {
          this.#drainTimer = null;
          this.#drain();
        }, this.#bucket!.msUntilNext());
        return;
      }
      this.#held.shift();
      if (limited) this.#heldLimited--;
      this.#handleNow(frame);
    }
  }

  #handleNow(frame: ClientFrame): void {
    try {
      this.#host.core.handle(this, frame);
    } catch (err) {
      // Supervision: a bug triggered by this client's input answers this client only.
      this.#host.log(`error: while handling input from ${this.nick ?? this.remote}: ${(err as Error).stack ?? err}`);
      this.sendError(codedError('TC_ERR_INTERNAL'), frame.ref);
    }
  }

  readonly #registrationExpired = (): void => {
    this.#registrationTimer = null;
    if (this.key !== null || !this.isOpen || this.#host.core.isAuthenticating(this)) return;
    this.#host.log(`closing ${this.remote}: TC_ERR_REGISTRATION_TIMEOUT`);
    this.close({ type: 'bye', code: 'TC_ERR_REGISTRATION_TIMEOUT', reason: ERRORS.TC_ERR_REGISTRATION_TIMEOUT.message });
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
    if (this.#drainTimer) clearTimeout(this.#drainTimer);
    if (this.#registrationTimer) clearTimeout(this.#registrationTimer);
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    this.#drainTimer = this.#registrationTimer = this.#heartbeatTimer = null;
    this.#held.length = 0;
    this.#heldLimited = 0;
  }

  get isOpen(): boolean {
    return !this.#closing && !this.#closed;
  }

  /** One line (TCP) or message (WebSocket) from the client, without its newline. */
  receive(line: Buffer): void {
    if (!this.isOpen || !this.#host.accepting) return;
    this.noteAlive();
    try {
      if (this.#plain) return this.#plain.receive(line);
      if (line.length === 0) return;
      const decoded = decodeClientFrame(line);
      if (!decoded.ok) return this.sendError(decoded.error, decoded.ref);
      this.dispatch(decoded.frame);
    } catch (err) {
      // Supervision: a bug triggered by this client's input answers this client only.
      this.#host.log(`error: while handling input from ${this.nick ?? this.remote}: ${(err as Error).stack ?? err}`);
      this.sendError(codedError('TC_ERR_INTERNAL'));
    }
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
