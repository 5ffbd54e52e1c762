import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeServerFrame } from './decode.js';
import { encodeFrame } from './encode-frame.js';
import type { ClientFrame, ServerFrame } from './frames.js';
import { LineFramer } from './line-framer.js';

describe('encodeFrame', () => {
  it('writes a server frame as one line that decodes back to the same frame', () => {
    const frame: ServerFrame = { type: 'message', id: 3, ts: 10, room: 'general', nick: 'bob', text: 'yo' };
    const line = encodeFrame(frame);
    expect(line.endsWith('\n')).toBe(true);
    expect(decodeServerFrame(line.slice(0, -1))).toEqual({ ok: true, frame });
  });

  it('writes client frames the server decodes as they were built', () => {
    const frames: ClientFrame[] = [
      { type: 'hello', v: 1, nick: 'alice', client: 'test', rooms: { general: null, dev: 41 }, token: 't', ref: 'h' },
      { type: 'msg', room: 'general', text: 'hi', cid: 'c-1', replyTo: 7, ref: 'r1' },
      { type: 'pm', to: 'bob', text: 'psst', action: true },
      { type: 'part', room: 'general' },
      { type: 'quit', reason: 'bye' },
    ];
    for (const frame of frames) expect(decodeClientFrame(encodeFrame(frame).slice(0, -1))).toEqual({ ok: true, frame });
  });

  it('keeps a frame on one line whatever its text holds (newlines, separators, quotes)', () => {
    const text = 'one\ntwo\r\nthree\u2028four\u2029"five"\\six\u0000';
    const frames: ClientFrame[] = [
      { type: 'msg', room: 'general', text },
      { type: 'pm', to: 'bob', text },
    ];
    const lines: Buffer[] = [];
    new LineFramer().push(
      Buffer.from(frames.map(encodeFrame).join('')),
      (line) => lines.push(Buffer.from(line)),
      (code) => expect.fail(code),
    );
    expect(lines.map((l) => decodeClientFrame(l))).toEqual(frames.map((frame) => ({ ok: true, frame })));
  });
});
