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

export interface ConnectionHost {
  readonly core: ChatCore<Connection>;
  /** Output queued for one client before it is cut off as a slow consumer. */
  readonly maxSendQueueBytes: number;
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

  readonly id: number;

  constructor(
    readonly dialect: Dialect,
    readonly remote: string,
    link: Link,
    host: ConnectionHost,
  ) {
    this.id = host.nextId();
    this.#link = link;
    this.#host = host;
    host.adopt(this);
    this.#plain = dialect === 'plain' ? new PlainDialect(this, host.core) : null;
    host.core.connect(this);
    this.#plain?.start();
  }

  get isOpen(): boolean {
    return !this.#closing && !this.#closed;
  }

  /** One line (TCP) or message (WebSocket) from the client, without its newline. */
  receive(line: Buffer): void {
    if (!this.isOpen || !this.#host.accepting) return;
    try {
      if (this.#plain) return this.#plain.receive(line);
      if (line.length === 0) return;
      const decoded = decodeClientFrame(line);
      if (!decoded.ok) return this.sendError(decoded.error, decoded.ref);
      this.#host.core.handle(this, decoded.frame);
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
    this.#link.end();
  }

  /** The link is gone (closed by either side): leave the chat, once. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
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
