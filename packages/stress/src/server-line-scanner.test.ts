import { encodeFrame, type ServerFrame } from '@teamchat/protocol';
import { describe, expect, it } from 'vitest';
import { stampOf, stampText } from './message-token.js';
import {
  LINE_ACK,
  LINE_MESSAGE,
  LINE_OTHER,
  LINE_PM,
  LINE_PRESENCE,
  roomPattern,
  scanServerLine,
  stampOfDelivery,
} from './server-line-scanner.js';

/** A server line, as the server writes it (without its newline). */
const line = (frame: ServerFrame) => Buffer.from(encodeFrame(frame).slice(0, -1));

describe('scanServerLine', () => {
  it('recognises deliveries, acks and presence without parsing, and leaves the rest to the caller', () => {
    expect(scanServerLine(line({ type: 'message', id: 1, ts: 1, room: 'r', nick: 'a', text: 'x' }))).toBe(LINE_MESSAGE);
    expect(scanServerLine(line({ type: 'pm', id: 1, ts: 1, from: 'a', to: 'b', text: 'x' }))).toBe(LINE_PM);
    expect(scanServerLine(line({ type: 'ack', ref: '1', id: 1, ts: 1 }))).toBe(LINE_ACK);
    expect(scanServerLine(line({ type: 'presence', room: 'r', nick: 'a', event: 'join', ts: 1 }))).toBe(LINE_PRESENCE);
    expect(scanServerLine(line({ type: 'pong' }))).toBe(LINE_OTHER);
    expect(scanServerLine(line({ type: 'joined', room: 'r', topic: null, users: [], history: [], more: false }))).toBe(
      LINE_OTHER,
    );
    // Not what the server writes (it puts `type` first): parsed by the caller, never misread.
    expect(scanServerLine(Buffer.from('{"id":1,"type":"message"}'))).toBe(LINE_OTHER);
  });

  it('reads the send stamp whatever the field order', () => {
    const text = stampText(123_456_789, 'deploy the thing');
    expect(stampOfDelivery(line({ type: 'message', id: 9, ts: 1, room: 'room1', nick: 'a', text }))).toBe(123_456_789);
    expect(stampOfDelivery(line({ type: 'message', text, room: 'room1', nick: 'a', id: 9, ts: 1 }))).toBe(123_456_789);
  });

  it('finds no stamp in a message someone else typed, even one that looks like a stamp inside', () => {
    expect(stampOfDelivery(line({ type: 'message', id: 1, ts: 1, room: 'r', nick: 'a', text: 'hello' }))).toBe(-1);
    expect(
      stampOfDelivery(line({ type: 'message', id: 1, ts: 1, room: 'r', nick: 'a', text: 'a "text":"~12~ trick' })),
    ).toBe(-1);
  });

  it('matches a room exactly, so room1 is not room10', () => {
    const l = line({ type: 'message', id: 1, ts: 1, room: 'room10', nick: 'a', text: 'x' });
    expect(l.indexOf(roomPattern('room1'))).toBe(-1);
    expect(l.indexOf(roomPattern('room10'))).toBeGreaterThan(0);
  });
});

describe('stampText', () => {
  it('round-trips through the text a user would see', () => {
    expect(stampOf(stampText(42, 'hi there'))).toEqual({ sendUs: 42, words: 'hi there' });
    expect(stampOf('no stamp')).toBeNull();
  });
});
