/**
 * Minimal real clients for end-to-end tests: NDJSON over TCP, NDJSON over WebSocket, and a
 * plain-text (nc-like) client. They record everything received and let a test wait for a frame
 * or line matching a predicate.
 *
 * Unlike client-core's ChatClient they add nothing of their own (no automatic hello, resume,
 * dedupe or reconnect): a test of the server sees exactly what it sends and what the server
 * answers. Frames still go out through the protocol's encoder (`encodeFrame`) and come in through
 * its line framer; bytes a test means to be malformed go through `sendRaw`.
 */
import net from 'node:net';
import tls from 'node:tls';
import {
  encodeFrame,
  LineFramer,
  PROTOCOL_VERSION,
  type ClientFrame,
  type RoomMessage,
  type ServerFrame,
} from '@teamchat/protocol';
import WebSocket from 'ws';
import { wsText } from './ws-text.js';

const DEFAULT_WAIT_MS = 15_000;
/** Bounds what one server line may buffer here; far above any answer the server writes (it pages them). */
const MAX_SERVER_LINE_BYTES = 16 * 1024 * 1024;

/** Waits until `find` returns something, checking whenever `subscribe` signals new input. */
class Waiters {
  #wake: (() => void)[] = [];
  notify(): void {
    for (const w of this.#wake.splice(0)) w();
  }
  async until<T>(find: () => T | undefined, what: string, timeoutMs: number, describe: () => string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; received so far:\n${describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

abstract class FrameClient {
  readonly frames: ServerFrame[] = [];
  #cursor = 0;
  protected readonly waiters = new Waiters();
  closed = false;

  protected receive(line: string): void {
    if (line.trim() === '') return;
    // The plain-text prompt a busy server sends before it has seen our first line (the dialect is
    // told by the first line, or 250 ms of silence): real clients skip it too (client-core does).
    if (!line.startsWith('{')) return;
    this.frames.push(JSON.parse(line) as ServerFrame);
    this.waiters.notify();
  }

  /** Sends one frame, encoded by the protocol's encoder. */
  abstract send(frame: ClientFrame): void;
  abstract sendRaw(data: string | Buffer): void;
  abstract close(): void;

  /**
   * Waits for the next frame (after those already consumed by `next`) that matches; frames that
   * do not match are skipped over but stay in `frames`.
   */
  async next<T extends ServerFrame['type']>(
    type: T,
    match: (f: Extract<ServerFrame, { type: T }>) => boolean = () => true,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    return this.waiters.until(
      () => {
        for (let i = this.#cursor; i < this.frames.length; i++) {
          const f = this.frames[i];
          if (f.type === type && match(f as Extract<ServerFrame, { type: T }>)) {
            this.#cursor = i + 1;
            return f as Extract<ServerFrame, { type: T }>;
          }
        }
        return undefined;
      },
      `a "${type}" frame`,
      timeoutMs,
      () => this.frames.map((f) => JSON.stringify(f)).join('\n'),
    );
  }

  /** Waits until a matching frame has been received at any point (ignores the `next` cursor). */
  async seen<T extends ServerFrame['type']>(
    type: T,
    match: (f: Extract<ServerFrame, { type: T }>) => boolean = () => true,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    return this.waiters.until(
      () =>
        this.frames.find((f) => f.type === type && match(f as Extract<ServerFrame, { type: T }>)) as
          Extract<ServerFrame, { type: T }> | undefined,
      `a "${type}" frame`,
      timeoutMs,
      () =>
        this.frames
          .slice(-20)
          .map((f) => JSON.stringify(f).slice(0, 200))
          .join('\n'),
    );
  }

  /** Waits until the connection is closed by the server. */
  async waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await this.waiters.until(
      () => (this.closed ? true : undefined),
      'the connection to close',
      timeoutMs,
      () => '',
    );
  }

  /** Sends hello and waits for welcome. */
  async hello(
    nick: string,
    extra: Partial<Extract<ClientFrame, { type: 'hello' }>> = {},
  ): Promise<Extract<ServerFrame, { type: 'welcome' }>> {
    this.send({ type: 'hello', v: PROTOCOL_VERSION, nick, ...extra });
    return this.next('welcome');
  }

  /** Every stored message of a room, oldest first, paged back by id with `history`. */
  async allHistory(room: string): Promise<RoomMessage[]> {
    const out: RoomMessage[] = [];
    let before: number | undefined;
    for (let page = 0; ; page++) {
      const ref = `all-history:${room}:${page}`;
      this.send({ type: 'history', room, limit: 500, ref, ...(before !== undefined ? { before } : {}) });
      const reply = await this.seen('history', (h) => h.ref === ref);
      out.unshift(...reply.messages);
      if (!reply.more || reply.messages.length === 0) return out;
      before = reply.messages[0].id;
    }
  }

  /** Joins a room and waits for `joined`. */
  async join(room: string, after?: number): Promise<Extract<ServerFrame, { type: 'joined' }>> {
    this.send({ type: 'join', room, ...(after !== undefined ? { after } : {}) });
    return this.next('joined', (f) => f.room === room);
  }
}

/** NDJSON over TCP. */
export class JsonClient extends FrameClient {
  readonly #framer = new LineFramer({
    maxLineBytes: MAX_SERVER_LINE_BYTES,
    maxUnterminatedBytes: 2 * MAX_SERVER_LINE_BYTES,
  });
  private constructor(readonly socket: net.Socket) {
    super();
    socket.on('data', (chunk: Buffer) =>
      this.#framer.push(
        chunk,
        (line) => this.receive(line.toString('utf8')),
        (code) => {
          // No server line is that long: fail the test run loudly rather than wait for a frame that was dropped.
          throw new Error(`JsonClient: the server sent an oversized line (${code})`);
        },
      ),
    );
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.waiters.notify();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<JsonClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host }, () => resolve(new JsonClient(socket)));
      socket.once('error', reject);
    });
  }

  /**
   * NDJSON over TCP to 127.0.0.1 from the loopback address `localAddress` (any of 127.0.0.0/8):
   * a test of a per-address limit connects from an address of its own, so the connections other
   * tests left open (or are still closing) never count against it.
   */
  static connectFrom(port: number, localAddress: string): Promise<JsonClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(new JsonClient(socket)));
      socket.once('error', reject);
    });
  }

  /** NDJSON over TLS, trusting the certificate `ca` (PEM) for the name `localhost`. */
  static connectTls(port: number, ca: string, host = '127.0.0.1'): Promise<JsonClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ port, host, ca, servername: 'localhost' }, () => resolve(new JsonClient(socket)));
      socket.once('error', reject);
    });
  }

  send(frame: ClientFrame): void {
    this.socket.write(encodeFrame(frame));
  }

  sendRaw(data: string | Buffer): void {
    this.socket.write(data);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** NDJSON over WebSocket (`/ws` on the HTTP port). */
export class WsClient extends FrameClient {
  private constructor(readonly ws: WebSocket) {
    super();
    // One frame per message; split anyway, as client-core's WebSocket transport does.
    ws.on('message', (data) => {
      for (const line of wsText(data).split('\n')) this.receive(line);
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      this.closed = true;
      this.waiters.notify();
    });
  }

  static connect(httpPort: number, host = '127.0.0.1'): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${host}:${httpPort}/ws`);
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('error', reject);
    });
  }

  /** Like `connect`, from the loopback address `localAddress` (see `JsonClient.connectFrom`). */
  static connectFrom(httpPort: number, localAddress: string): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`, { localAddress });
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('error', reject);
    });
  }

  send(frame: ClientFrame): void {
    // A WebSocket message is one frame, without the line's newline.
    this.ws.send(encodeFrame(frame).slice(0, -1));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** A human with `nc`: raw text in, lines out. */
export class PlainClient {
  #text = '';
  #cursor = 0;
  readonly #waiters = new Waiters();
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#text += chunk;
      this.#waiters.notify();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.#waiters.notify();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<PlainClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host }, () => resolve(new PlainClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Like `connect`, from the loopback address `localAddress` (see `JsonClient.connectFrom`). */
  static connectFrom(port: number, localAddress: string): Promise<PlainClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(new PlainClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Everything received so far. */
  get text(): string {
    return this.#text;
  }

  /** Complete lines received so far (CRLF or LF separated). */
  get lines(): string[] {
    return this.#text.split(/\r?\n/).slice(0, -1);
  }

  line(text: string): void {
    this.socket.write(text + '\n');
  }

  sendRaw(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits for text matching `pattern` after the previous match; returns the match. */
  async expect(pattern: RegExp | string, timeoutMs = DEFAULT_WAIT_MS): Promise<string> {
    return this.#waiters.until(
      () => {
        const rest = this.#text.slice(this.#cursor);
        const idx = typeof pattern === 'string' ? rest.indexOf(pattern) : rest.search(pattern);
        if (idx === -1) return undefined;
        const matched = typeof pattern === 'string' ? pattern : rest.slice(idx).match(pattern)![0];
        this.#cursor += idx + matched.length;
        return matched;
      },
      JSON.stringify(String(pattern)),
      timeoutMs,
      () => this.#text,
    );
  }

  /** Logs in through the prompts: nickname, then room. */
  async login(nick: string, room: string): Promise<void> {
    await this.expect('Enter nickname: ');
    this.line(nick);
    await this.expect('Enter room: ');
    this.line(room);
    await this.expect(`* Now talking in ${room}`);
  }

  async waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await this.#waiters.until(
      () => (this.closed ? true : undefined),
      'the connection to close',
      timeoutMs,
      () => '',
    );
  }

  close(): void {
    this.socket.destroy();
  }
}
