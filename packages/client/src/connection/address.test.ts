import { describe, expect, it } from 'vitest';
import { checkAddress, checkAddresses, formatAddress, parseAddress } from './address.js';

describe('parseAddress', () => {
  it('accepts host:port, host, port and rejects bad ports', () => {
    expect(parseAddress('chat.example:7000')).toEqual({ host: 'chat.example', port: 7000 });
    expect(parseAddress('chat.example')).toEqual({ host: 'chat.example', port: 5555 });
    expect(parseAddress('6000')).toEqual({ host: 'localhost', port: 6000 });
    expect(parseAddress(':6000')).toEqual({ host: 'localhost', port: 6000 });
    expect(parseAddress(undefined)).toEqual({ host: 'localhost', port: 5555 });
    expect(parseAddress('host:99999')).toBeNull();
  });

  it('accepts IPv6 addresses, bare or in brackets with a port', () => {
    expect(parseAddress('[::1]:7000')).toEqual({ host: '::1', port: 7000 });
    expect(parseAddress('::1')).toEqual({ host: '::1', port: 5555 });
    expect(parseAddress('[::1]')).toEqual({ host: '::1', port: 5555 });
  });

  it('accepts container names with underscores and a trailing dot', () => {
    expect(parseAddress('teamchat_server_1:5555')).toEqual({ host: 'teamchat_server_1', port: 5555 });
    expect(parseAddress('chat.example.:5555')).toEqual({ host: 'chat.example.', port: 5555 });
  });
});

describe('checkAddress', () => {
  it('says what is wrong with a bad address', () => {
    expect(checkAddress('http://127.0.0.1:1')).toEqual({
      ok: false,
      reason: expect.stringMatching(/drop the "http:\/\/"/),
    });
    expect(checkAddress('host:notaport')).toEqual({
      ok: false,
      reason: expect.stringMatching(/"notaport" is not a port number/),
    });
    expect(checkAddress('host:99999')).toEqual({
      ok: false,
      reason: expect.stringMatching(/port 99999 is out of range/),
    });
    expect(checkAddress('host:0')).toEqual({ ok: false, reason: expect.stringMatching(/out of range/) });
    expect(checkAddress('a:b:c')).toEqual({ ok: false, reason: expect.stringMatching(/expected host:port/) });
    expect(checkAddress('chat example:5555')).toEqual({ ok: false, reason: expect.stringMatching(/not a host name/) });
    expect(checkAddress('user@host:5555')).toEqual({ ok: false, reason: expect.stringMatching(/not a host name/) });
    expect(checkAddress('[nope]:5555')).toEqual({ ok: false, reason: expect.stringMatching(/not an IPv6 address/) });
  });
});

describe('formatAddress', () => {
  it('lower-cases the host and brackets IPv6', () => {
    expect(formatAddress('Chat.Example', 5555)).toBe('chat.example:5555');
    expect(formatAddress('::1', 7000)).toBe('[::1]:7000');
  });
});

describe('checkAddresses', () => {
  it('takes one address, or several separated by commas, in order', () => {
    expect(checkAddresses('chat.example:7000')).toEqual({
      ok: true,
      addresses: [{ host: 'chat.example', port: 7000 }],
    });
    expect(checkAddresses('a:5555, b:5556,[::1]:5557,6000')).toEqual({
      ok: true,
      addresses: [
        { host: 'a', port: 5555 },
        { host: 'b', port: 5556 },
        { host: '::1', port: 5557 },
        { host: 'localhost', port: 6000 },
      ],
    });
    expect(checkAddresses(undefined)).toEqual({ ok: true, addresses: [{ host: 'localhost', port: 5555 }] });
  });

  it('counts the same server once', () => {
    expect(checkAddresses('A:5555,a:5555,a')).toEqual({ ok: true, addresses: [{ host: 'A', port: 5555 }] });
  });

  it('names the bad address of a list, and refuses empty entries', () => {
    expect(checkAddresses('a:5555,b:99999')).toEqual({
      ok: false,
      reason: '"b:99999": port 99999 is out of range (1-65535)',
    });
    expect(checkAddresses('a:5555,,b:5555')).toEqual({ ok: false, reason: expect.stringMatching(/empty address/) });
    expect(checkAddresses('a:5555,')).toEqual({ ok: false, reason: expect.stringMatching(/empty address/) });
    // One bad address alone reads as before.
    expect(checkAddresses('http://127.0.0.1:1')).toEqual({
      ok: false,
      reason: expect.stringMatching(/^drop the "http:\/\/"/),
    });
  });
});
