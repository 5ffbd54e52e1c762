import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeServerFrame, isValidCid } from './decode.js';

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
    ['{"type":"kick","room":"r"}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"kick","room":"r","nick":"b","reason":5}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"part","room":"r","reason":false}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"msg","room":"r","text":"x","notice":"yes"}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"mode","room":"r","limit":-1}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"mode","room":"r","members":{"nick":"b"}}', 'TC_ERR_BAD_FIELD'],
    ['{"type":"history","room":"r","beforeTs":"yesterday"}', 'TC_ERR_BAD_FIELD'],
  ])('answers %s with %s', (line, code) => {
    const r = decodeClientFrame(Buffer.from(line));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(code);
  });

  it('decodes kicks, part reasons, notices, time-bounded history and the wider room modes', () => {
    for (const line of [
      '{"type":"kick","room":"r","nick":"b","reason":"spam"}',
      '{"type":"part","room":"r","reason":"lunch"}',
      '{"type":"msg","room":"r","text":"x","notice":true}',
      '{"type":"pm","to":"b","text":"x","notice":true}',
      '{"type":"history","room":"r","beforeTs":1795489343146,"afterTs":1795489300000}',
      '{"type":"mode","room":"r","topicLock":true,"limit":null,"members":[{"nick":"b","role":"op","add":true}],"lists":[{"list":"ban","mask":"x!*@*","add":true}]}',
    ]) {
      expect(decodeClientFrame(Buffer.from(line)).ok).toBe(true);
    }
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
    ])
      expect(decodeClientFrame(line), line).toMatchObject({ ok: true });
    expect(decodeServerFrame('{"type":"ping","ts":1}')).toMatchObject({ ok: true });
    expect(
      decodeServerFrame('{"type":"mode","room":"r","key":true,"inviteOnly":false,"creator":null,"ts":1}'),
    ).toMatchObject({ ok: true });
  });

  it('echoes the ref of a frame it rejects, so the client can match the error', () => {
    const r = decodeClientFrame('{"type":"msg","room":"general","ref":"abc"}');
    expect(r).toMatchObject({ ok: false, ref: 'abc', error: { code: 'TC_ERR_BAD_FIELD' } });
  });

  it('rejects invalid UTF-8 with its own code', () => {
    const r = decodeClientFrame(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    expect(r).toMatchObject({ ok: false, error: { code: 'TC_ERR_BAD_UTF8' } });
  });

  describe('unpaired surrogates', () => {
    it('rejects a frame whose text is an unpaired surrogate, echoing its ref', () => {
      const r = decodeClientFrame(Buffer.from('{"type":"msg","room":"general","text":"a\\ud800b","ref":"r1"}'));
      expect(r).toMatchObject({
        ok: false,
        ref: 'r1',
        error: { code: 'TC_ERR_BAD_TEXT', message: expect.stringContaining('"text"') },
      });
    });

    it.each([
      ['a lone low surrogate', '{"type":"topic","room":"g","topic":"\\udc00","ref":"x"}'],
      ['a high surrogate at the end', '{"type":"quit","reason":"bye \\uD83D","ref":"x"}'],
      ['a reversed pair', '{"type":"pm","to":"bob","text":"\\ude00\\ud83d","ref":"x"}'],
      ['a key of hello rooms', '{"type":"hello","v":1,"nick":"a","rooms":{"ok":null,"\\ud800":3},"ref":"x"}'],
      ['the client name of hello', '{"type":"hello","v":1,"nick":"a","client":"tc\\udbff","ref":"x"}'],
      ['a field the frame does not define, deep down', '{"type":"ping","extra":[{"deep":["\\udfff"]}],"ref":"x"}'],
      ['a field name', '{"type":"ping","\\ud800":1,"ref":"x"}'],
    ])('rejects %s with TC_ERR_BAD_TEXT', (_what, line) => {
      expect(decodeClientFrame(Buffer.from(line))).toMatchObject({
        ok: false,
        ref: 'x',
        error: { code: 'TC_ERR_BAD_TEXT' },
      });
    });

    it('does not echo a ref that is itself not well-formed', () => {
      const r = decodeClientFrame('{"type":"ping","ref":"\\ud800"}');
      expect(r).toMatchObject({ ok: false, error: { code: 'TC_ERR_BAD_TEXT' } });
      expect(r).not.toHaveProperty('ref');
    });

    it('rejects a raw unpaired surrogate in a string line', () => {
      expect(decodeClientFrame('{"type":"msg","room":"g","text":"\ud800","ref":"s"}')).toMatchObject({
        ok: false,
        ref: 's',
        error: { code: 'TC_ERR_BAD_TEXT' },
      });
    });

    it('accepts escaped surrogate pairs and text that merely looks like an escape', () => {
      expect(decodeClientFrame(Buffer.from('{"type":"msg","room":"g","text":"\\ud83d\\ude00 \\\\ud800"}'))).toEqual({
        ok: true,
        frame: { type: 'msg', room: 'g', text: '😀 \\ud800' },
      });
      expect(decodeClientFrame(Buffer.from('{"type":"msg","room":"g","text":"😀 ok"}'))).toMatchObject({ ok: true });
    });

    it('refuses surrogates encoded as UTF-8 bytes as invalid UTF-8, so plain text can never carry one', () => {
      const cesu = Buffer.from([0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]); // U+D83D U+DE00 encoded one by one
      expect(
        decodeClientFrame(Buffer.concat([Buffer.from('{"type":"msg","room":"g","text":"'), cesu, Buffer.from('"}')])),
      ).toMatchObject({
        ok: false,
        error: { code: 'TC_ERR_BAD_UTF8' },
      });
      expect(isUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(false);
      expect(Buffer.from([0xf0, 0x9f, 0x98, 0x80]).toString('utf8')).toBe('😀');
    });

    it('walks a deeply nested frame without overflowing the stack', () => {
      const deep = '['.repeat(3000) + '"\\ud800"' + ']'.repeat(3000);
      expect(decodeClientFrame(Buffer.from(`{"type":"ping","x":${deep},"ref":"d"}`))).toMatchObject({
        ok: false,
        ref: 'd',
        error: { code: 'TC_ERR_BAD_TEXT' },
      });
    });

    it('leaves server frames alone (the server never sends one)', () => {
      expect(decodeServerFrame('{"type":"pong","ts":1,"note":"\\ud800"}')).toMatchObject({ ok: true });
    });
  });

  describe('client message ids (cid)', () => {
    it('accepts a msg and a pm carrying a cid', () => {
      expect(decodeClientFrame('{"type":"msg","room":"g","text":"hi","cid":"aZ09_-xYz123","ref":"r"}')).toEqual({
        ok: true,
        frame: { type: 'msg', room: 'g', text: 'hi', cid: 'aZ09_-xYz123', ref: 'r' },
      });
      expect(decodeClientFrame('{"type":"pm","to":"bob","text":"psst","cid":"x"}')).toMatchObject({
        ok: true,
        frame: { cid: 'x' },
      });
      expect(decodeClientFrame(`{"type":"msg","room":"g","text":"hi","cid":"${'a'.repeat(64)}"}`)).toMatchObject({
        ok: true,
      });
    });

    it('still accepts a msg without one', () => {
      expect(decodeClientFrame('{"type":"msg","room":"g","text":"hi"}')).toMatchObject({ ok: true });
    });

    it.each([
      ['empty', '""'],
      ['too long', `"${'a'.repeat(65)}"`],
      ['a space', '"a b"'],
      ['a dot', '"a.b"'],
      ['base64 padding', '"abc="'],
      ['a slash', '"a/b"'],
      ['non-ASCII', '"é"'],
      ['a number', '7'],
      ['null', 'null'],
    ])('refuses a cid that is %s, echoing the ref', (_what, cid) => {
      for (const line of [
        `{"type":"msg","room":"g","text":"hi","cid":${cid},"ref":"r1"}`,
        `{"type":"pm","to":"bob","text":"hi","cid":${cid},"ref":"r1"}`,
      ]) {
        expect(decodeClientFrame(line), line).toMatchObject({
          ok: false,
          ref: 'r1',
          error: { code: 'TC_ERR_BAD_FIELD', message: expect.stringContaining('"cid"') },
        });
      }
    });

    it('checks ids with isValidCid', () => {
      expect(isValidCid('Ab3_-')).toBe(true);
      expect(isValidCid('')).toBe(false);
      expect(isValidCid('a'.repeat(65))).toBe(false);
      expect(isValidCid(12)).toBe(false);
    });

    it('decodes an ack that echoes the cid, and one without it', () => {
      expect(decodeServerFrame('{"type":"ack","ref":"r","id":5,"ts":1,"cid":"abc"}')).toEqual({
        ok: true,
        frame: { type: 'ack', ref: 'r', id: 5, ts: 1, cid: 'abc' },
      });
      expect(decodeServerFrame('{"type":"ack","ref":"r","id":5,"ts":1}')).toMatchObject({ ok: true });
      expect(decodeServerFrame('{"type":"ack","ref":"r","id":5,"ts":1,"cid":5}')).toMatchObject({
        ok: false,
        error: { code: 'TC_ERR_BAD_FIELD' },
      });
    });
  });

  it('rejects a line over the limit', () => {
    const r = decodeClientFrame(Buffer.alloc(9000, 0x20));
    expect(r).toMatchObject({ ok: false, error: { code: 'TC_ERR_LINE_TOO_LONG' } });
  });

  describe('highlight words', () => {
    it('decodes a question (no words) and a new list, an empty one included', () => {
      expect(decodeClientFrame('{"type":"highlights","ref":"h"}')).toEqual({
        ok: true,
        frame: { type: 'highlights', ref: 'h' },
      });
      expect(decodeClientFrame('{"type":"highlights","words":["deploy","on-call"]}')).toEqual({
        ok: true,
        frame: { type: 'highlights', words: ['deploy', 'on-call'] },
      });
      expect(decodeClientFrame('{"type":"highlights","words":[]}')).toMatchObject({ ok: true });
    });

    it.each([
      ['{"type":"highlights","words":"deploy","ref":"h1"}', '"words" of "highlights" must be string[]'],
      ['{"type":"highlights","words":[1,2],"ref":"h1"}', '"words" of "highlights" must be string[]'],
      ['{"type":"highlights","words":[["deploy"]],"ref":"h1"}', '"words" of "highlights" must be string[]'],
      ['{"type":"highlights","words":{"0":"deploy"},"ref":"h1"}', '"words" of "highlights" must be string[]'],
      ['{"type":"highlights","words":null,"ref":"h1"}', '"words" of "highlights" must be string[]'],
    ])('refuses %s with TC_ERR_BAD_FIELD, echoing the ref', (line, message) => {
      const r = decodeClientFrame(line);
      expect(r).toMatchObject({ ok: false, ref: 'h1', error: { code: 'TC_ERR_BAD_FIELD' } });
      if (!r.ok) expect(r.error.message).toContain(message);
    });

    it('refuses a word holding an unpaired surrogate with TC_ERR_BAD_TEXT', () => {
      expect(decodeClientFrame('{"type":"highlights","words":["ok","\\ud800"],"ref":"h2"}')).toMatchObject({
        ok: false,
        ref: 'h2',
        error: { code: 'TC_ERR_BAD_TEXT' },
      });
    });

    it("decodes the server's list and unread counts with private conversations", () => {
      expect(decodeServerFrame('{"type":"highlights","words":["deploy"]}')).toMatchObject({ ok: true });
      expect(decodeServerFrame('{"type":"highlights"}')).toMatchObject({ ok: false });
      expect(
        decodeServerFrame('{"type":"unread","rooms":{},"pms":{"Bob":{"unread":2,"mentions":2,"marker":0}}}'),
      ).toMatchObject({ ok: true, frame: { pms: { Bob: { unread: 2 } } } });
      expect(decodeServerFrame('{"type":"unread","rooms":{}}')).toMatchObject({ ok: true });
      expect(decodeServerFrame('{"type":"unread","rooms":{},"pms":[]}')).toMatchObject({ ok: false });
    });
  });
});
