import { describe, expect, it } from 'vitest';
import { LineFramer } from './line-framer.js';

function feed(framer: LineFramer, chunks: (string | Buffer)[]) {
  const lines: string[] = [];
  const errors: string[] = [];
  for (const c of chunks)
    framer.push(
      Buffer.isBuffer(c) ? c : Buffer.from(c),
      (l) => lines.push(l.toString()),
      (e) => errors.push(e),
    );
  return { lines, errors };
}

describe('LineFramer', () => {
  it('splits lines on LF and drops a trailing CR', () => {
    expect(feed(new LineFramer(), ['a\r\nb\nc\r', '\n', '\n']).lines).toEqual(['a', 'b', 'c', '']);
  });

  it('reassembles a line sent byte by byte, including a multi-byte character split across chunks', () => {
    const bytes = Buffer.from('héllo ✓\n');
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    expect(feed(new LineFramer(), chunks).lines).toEqual(['héllo ✓']);
  });

  it('reports an overlong line once, discards it up to its newline and keeps framing', () => {
    const framer = new LineFramer({ maxLineBytes: 10, maxUnterminatedBytes: 100 });
    const r = feed(framer, ['0123456789AB', 'CDEF\nok\n']);
    expect(r.errors).toEqual(['TC_ERR_LINE_TOO_LONG']);
    expect(r.lines).toEqual(['ok']);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('reports an overlong line that arrives whole', () => {
    const r = feed(new LineFramer({ maxLineBytes: 4 }), ['123456\nabc\n']);
    expect(r).toEqual({ lines: ['abc'], errors: ['TC_ERR_LINE_TOO_LONG'] });
  });

  it('gives up on input without any newline past the hard cap, and ignores what follows', () => {
    const framer = new LineFramer({ maxLineBytes: 10, maxUnterminatedBytes: 50 });
    const r = feed(framer, ['x'.repeat(30), 'x'.repeat(30), 'late\n']);
    expect(r.errors).toEqual(['TC_ERR_LINE_TOO_LONG', 'TC_ERR_INPUT_OVERFLOW']);
    expect(r.lines).toEqual([]);
  });

  it('never buffers more than the line limit', () => {
    const framer = new LineFramer({ maxLineBytes: 100, maxUnterminatedBytes: 1_000_000 });
    for (let i = 0; i < 1000; i++)
      framer.push(
        Buffer.from('yyyyyyyyyy'),
        () => {},
        () => {},
      );
    expect(framer.bufferedBytes).toBeLessThanOrEqual(100);
  });
});
