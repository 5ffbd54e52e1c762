/**
 * A server frame with its serializations memoized: a broadcast is encoded once per dialect and the
 * same Buffer is queued to every recipient.
 */
import { formatPlain, PLAIN_EOL, type ServerFrame } from '@teamchat/protocol';

const EMPTY = Buffer.alloc(0);

export class EncodedFrame {
  #json: Buffer | undefined;
  #plain: Buffer | undefined;

  constructor(readonly frame: ServerFrame) {}

  /** NDJSON line, newline included. */
  json(): Buffer {
    return (this.#json ??= Buffer.from(JSON.stringify(this.frame) + '\n'));
  }

  /** Plain-text lines for the user `self` (empty when the frame has no plain rendering). */
  plain(self: string): Buffer {
    if (this.#plain) return this.#plain;
    const lines = formatPlain(this.frame, self);
    const bytes = lines.length === 0 ? EMPTY : Buffer.from(lines.join(PLAIN_EOL) + PLAIN_EOL);
    // Private messages and own-nick confirmations read differently per user; everything else is shared.
    const shared = this.frame.type !== 'pm' && !(this.frame.type === 'nick' && this.frame.room === undefined);
    if (shared) this.#plain = bytes;
    return bytes;
  }
}
