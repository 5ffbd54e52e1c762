import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeServerFrame, encodeFrame } from './decode.js';

describe('decodeClientFrame', () => {
  it('decodes a valid frame into a typed frame', () => {
    const r = decodeClientFrame(Buffer.from('{"type":"msg","room":"general","text":"hi","ref":"a1"}'));
    expect(r).toEqual({ ok: true, frame: { type: 'msg', room: 'general', text: 'hi', ref: 'a1' } });
  });

  it.each([
    ['{"type":"msg"', 'TC_ERR_BAD_JSON'],
    ['[1,2]', 'TC_ERR_BAD_FRAME'],
    ['"text"', 'TC_ERR_BAD_FRAME'],
    ['{"type":"dance"}', 'TC_ERR_BAD_FRAME'],
    ['{"room":"x"}', 'TC_ERR_BAD_FRAME'],
    ['{"type":"msg","room":"general"}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"msg","room":5,"text":"x"}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"history","room":"g","limit":0}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"history","room":"g","before":-1}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"hello","v":1,"nick":"a","rooms":{"g":"x"}}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"ping","ref":7}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"hello","v":1,"nick":"a","password":5}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"hello","v":1,"nick":"a","register":"yes"}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"join","room":"r","key":1}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"register"}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"mode","room":"r","key":1}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"mode","room":"r","inviteOnly":"on"}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"invite","nick":"b"}', 'TC_ERR_BAD_FIELD'],
  ])('answers %s with %s', (line, code) => {
    const r = decodeClientFrame(Buffer.from(line));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(code);
  });

  it('decodes the account, room-mode and heartbeat frames', () => {
    for (const line of [
      '{"type":"hello","v":1,"nick":"a","password":"pw","register":true}',
      '{"type":"join","room":"r","key":"k"}',
      '{"type":"register","password":"long enough"}',
      '{"type":"mode","room":"r","key":null}',
      '{"type":"mode","room":"r","key":"k","inviteOnly":true}',
      '{"type":"invite","nick":"b","room":"r"}',
      '{"type":"pong","ts":5}',
    ]) expect(decodeClientFrame(line), line).toMatchObject({ ok: true });
    expect(decodeServerFrame('{"type":"ping","ts":1}')).toMatchObject({ ok: true });
    expect(decodeServerFrame('{"type":"mode","room":"r","key":true,"inviteOnly":false,"creator":null,"ts":1}')).toMatchObject({ ok: true });
  });

  it('echoes the ref of a frame it rejects, so the client can match the error', () => {
    const r = decodeClientFrame('{"type":"msg","room":"general","ref":"abc"}');
    expect(r).toMatchObject({ ok: false, ref: 'abc', error: { code: 'TC_ERR_BAD_FIELD' } });
  });

  it('rejects invalid UTF-8 with its own code', () => {
    const r = decodeClientFrame(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    expect(r).toMatchObject({ ok: false, error: { code: 'TC_ERR_BAD_UTF8' } });
  });

  it('rejects a line over the limit', () => {
    const r = decodeClientFrame(Buffer.alloc(9000, 0x20));
    expect(r).toMatchObject({ ok: false, error: { code: 'TC_ERR_LINE_TOO_LONG' } });
  });
});

describe('decodeServerFrame', () => {
  it('round-trips what encodeFrame writes', () => {
    const frame = { type: 'message' as const, id: 3, ts: 10, room: 'general', nick: 'bob', text: 'yo' };
    const line = encodeFrame(frame);
    expect(line.endsWith('\n')).toBe(true);
    expect(decodeServerFrame(line.trimEnd())).toEqual({ ok: true, frame });
  });
});
