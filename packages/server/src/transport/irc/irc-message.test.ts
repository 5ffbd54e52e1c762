import { describe, expect, it } from 'vitest';
import { escapeTagValue, formatIrcLine, parseIrcLine, truncateUtf8, unescapeTagValue } from './irc-message.js';

describe('parseIrcLine', () => {
  it('reads tags, source, command and a trailing parameter', () => {
    const m = parseIrcLine('@label=a1;+draft/reply=42;flag :alice!a@h privmsg #general :hello there');
    expect(m.tags).toEqual(
      new Map([
        ['label', 'a1'],
        ['+draft/reply', '42'],
        ['flag', ''],
      ]),
    );
    expect(m.source).toBe('alice!a@h');
    expect(m.command).toBe('PRIVMSG');
    expect(m.params).toEqual(['#general', 'hello there']);
  });

  it('keeps an empty trailing parameter and collapses repeated spaces between middle ones', () => {
    expect(parseIrcLine('USER u  0 * :').params).toEqual(['u', '0', '*', '']);
  });

  it('unescapes tag values', () => {
    expect(parseIrcLine('@k=a\\sb\\:c\\\\d TAGMSG #x').tags.get('k')).toBe('a b;c\\d');
  });

  it('gives an empty command for a line with nothing but spaces', () => {
    expect(parseIrcLine('   ').command).toBe('');
  });
});

describe('formatIrcLine', () => {
  it('adds a colon to a last parameter with spaces, an empty one, or one starting with a colon', () => {
    expect(formatIrcLine({ source: 's', command: '001', params: ['bob', 'Welcome home'] })).toBe(
      ':s 001 bob :Welcome home',
    );
    expect(formatIrcLine({ command: 'TOPIC', params: ['#a', ''] })).toBe('TOPIC #a :');
    expect(formatIrcLine({ command: 'PRIVMSG', params: ['#a', ':)'] })).toBe('PRIVMSG #a ::)');
    expect(formatIrcLine({ command: 'PRIVMSG', params: ['#a', 'hi'] })).toBe('PRIVMSG #a hi');
  });

  it('escapes tag values and leaves out absent tags', () => {
    expect(
      formatIrcLine({ tags: { time: '2024-01-01T00:00:00.000Z', label: 'a b;c', none: undefined }, command: 'ACK' }),
    ).toBe('@time=2024-01-01T00:00:00.000Z;label=a\\sb\\:c ACK');
  });

  it('round-trips escaped values', () => {
    const value = 'semi;colon space\\back\r\n';
    expect(unescapeTagValue(escapeTagValue(value))).toBe(value);
  });
});

describe('truncateUtf8', () => {
  it('cuts to a byte count without splitting a character', () => {
    expect(truncateUtf8('héllo', 2)).toBe('h');
    expect(truncateUtf8('héllo', 3)).toBe('hé');
    expect(truncateUtf8('short', 100)).toBe('short');
  });
});
