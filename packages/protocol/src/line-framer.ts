/**
 * Splits a byte stream into lines with bounded buffering. The limit is checked before bytes are
 * buffered: a line longer than `maxLineBytes` is reported once and then discarded up to its newline;
 * `maxUnterminatedBytes` without any newline is fatal.
 *
 * @example
 * const framer = new LineFramer();
 * socket.on('data', (chunk) => framer.push(chunk, onLine, onError));
 */
import type { ErrorCode } from './errors.js';
import { MAX_LINE_BYTES, MAX_UNTERMINATED_BYTES } from './limits.js';

export interface LineFramerOptions {
  maxLineBytes?: number;
  maxUnterminatedBytes?: number;
}

export type FramerError = Extract<ErrorCode, 'TC_ERR_LINE_TOO_LONG' | 'TC_ERR_INPUT_OVERFLOW'>;

const LF = 0x0a;
const CR = 0x0d;

export class LineFramer {
  readonly #maxLine: number;
  readonly #maxUnterminated: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes since the last newline while discarding an overlong line; -1 when not discarding. */
  #discarded = -1;
  #dead = false;

  constructor(options: LineFramerOptions = {}) {
    this.#maxLine = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.#maxUnterminated = options.maxUnterminatedBytes ?? MAX_UNTERMINATED_BYTES;
  }

  /** Bytes currently buffered (always at most maxLineBytes). */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * Feeds a chunk. `onLine` gets each complete line without its LF (and without a trailing CR);
   * the buffer may be a view into `chunk`, valid only during the call. `onError` gets
   * TC_ERR_LINE_TOO_LONG (the line is dropped, framing continues) or TC_ERR_INPUT_OVERFLOW
   * (fatal: the framer ignores all further input).
   */
  push(chunk: Buffer, onLine: (line: Buffer) => void, onError: (code: FramerError) => void): void {
    if (this.#dead) return;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(LF, start);
      if (nl === -1) break;
      if (this.#discarded >= 0) {
        this.#discarded = -1;
      } else if (this.#pendingBytes + (nl - start) > this.#maxLine) {
        this.#reset();
        onError('TC_ERR_LINE_TOO_LONG');
      } else {
        let line = chunk.subarray(start, nl);
        if (this.#pendingBytes > 0) {
          this.#pending.push(line);
          line = Buffer.concat(this.#pending, this.#pendingBytes + line.length);
          this.#reset();
        }
        const end = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
        onLine(end === line.length ? line : line.subarray(0, end));
        if (this.#dead) return;
      }
      start = nl + 1;
    }
    const rest = chunk.length - start;
    if (rest === 0) return;
    if (this.#discarded >= 0) {
      this.#discarded += rest;
    } else if (this.#pendingBytes + rest > this.#maxLine) {
      this.#discarded = this.#pendingBytes + rest;
      this.#reset();
      onError('TC_ERR_LINE_TOO_LONG');
    } else {
      this.#pending.push(Buffer.from(chunk.subarray(start)));
      this.#pendingBytes += rest;
      return;
    }
    if (this.#discarded > this.#maxUnterminated) {
      this.#dead = true;
      onError('TC_ERR_INPUT_OVERFLOW');
    }
  }

  #reset(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}
