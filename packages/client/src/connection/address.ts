/**
 * Server addresses as typed on the command line: `host:port`, `host`, `:port`, `port`,
 * `[v6]:port` (defaults: localhost, 5555), or several of them separated by commas (the nodes of
 * a cluster: `a:5555,b:5555,c:5555`). A bad address is refused with a reason, before any
 * connection is tried.
 *
 * @example
 * checkAddress('chat.example:7000') // { ok: true, host: 'chat.example', port: 7000 }
 * checkAddress('http://chat.example:7000') // { ok: false, reason: 'drop the "http://": ...' }
 * checkAddresses('a:5555,b:5555') // { ok: true, addresses: [{ host: 'a', port: 5555 }, { host: 'b', port: 5555 }] }
 */
import { isIP } from 'node:net';
import { formatAddress as formatServerAddress, type ServerAddress } from '@teamchat/client-core';

export const DEFAULT_HOST = 'localhost';
export const DEFAULT_PORT = 5555;

export type AddressCheck = { ok: true; host: string; port: number } | { ok: false; reason: string };

/** A DNS name: dot-separated labels of letters, digits, `-` and `_` (container names), at most 253 characters. */
const HOSTNAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** Parses an address and says what is wrong with a bad one. */
export function checkAddress(input: string | undefined): AddressCheck {
  const text = (input ?? '').trim();
  if (text === '') return { ok: true, host: DEFAULT_HOST, port: DEFAULT_PORT };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (scheme)
    return {
      ok: false,
      reason: `drop the "${scheme[1]}://": teamchat connect takes host:port (the TCP port, 5555 by default)`,
    };
  let host = text;
  let portText = '';
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2] ?? '';
    if (isIP(host) !== 6) return { ok: false, reason: `${JSON.stringify(host)} is not an IPv6 address` };
  } else if (/^\d+$/.test(text)) {
    host = DEFAULT_HOST;
    portText = text;
  } else if (mayBeIPv6(text) && isIP(text) === 6) {
    return { ok: true, host: text, port: DEFAULT_PORT };
  } else {
    const parts = text.split(':');
    if (parts.length > 2)
      return { ok: false, reason: 'expected host:port (an IPv6 address with a port goes in brackets: [::1]:5555)' };
    host = parts[0]!;
    portText = parts[1] ?? '';
  }
  if (host === '') host = DEFAULT_HOST;
  if (!HOSTNAME.test(host) && isIP(host) === 0)
    return { ok: false, reason: `${JSON.stringify(host)} is not a host name or IP address` };
  if (portText === '') return { ok: true, host, port: DEFAULT_PORT };
  if (!/^\d+$/.test(portText))
    return { ok: false, reason: `${JSON.stringify(portText)} is not a port number (1-65535)` };
  const port = Number(portText);
  if (port < 1 || port > 65535) return { ok: false, reason: `port ${portText} is out of range (1-65535)` };
  return { ok: true, host, port };
}

/**
 * An IPv6 address has at least two colons. Checked before `isIP`, whose first IPv6 test compiles a
 * large regular expression: ~10 ms of the client's start-up for every `host:port` (issue #10).
 */
function mayBeIPv6(text: string): boolean {
  return text.indexOf(':') !== text.lastIndexOf(':');
}

/** Parses `host:port`, `host`, `:port` or `port` (defaults: localhost, 5555); null when it is not an address. */
export function parseAddress(input: string | undefined): { host: string; port: number } | null {
  const r = checkAddress(input);
  return r.ok ? { host: r.host, port: r.port } : null;
}

export type AddressListCheck = { ok: true; addresses: ServerAddress[] } | { ok: false; reason: string };

/**
 * Parses a comma-separated list of addresses (one address is a list of one); an empty list is
 * the default server. The same server twice counts once.
 */
export function checkAddresses(input: string | undefined): AddressListCheck {
  const text = (input ?? '').trim();
  if (text === '') return { ok: true, addresses: [{ host: DEFAULT_HOST, port: DEFAULT_PORT }] };
  const addresses: ServerAddress[] = [];
  const seen = new Set<string>();
  const parts = text.split(',').map((p) => p.trim());
  for (const part of parts) {
    if (part === '')
      return {
        ok: false,
        reason: 'an empty address in the list (separate addresses with single commas: a:5555,b:5555)',
      };
    const r = checkAddress(part);
    if (!r.ok) return parts.length > 1 ? { ok: false, reason: `${JSON.stringify(part)}: ${r.reason}` } : r;
    const key = formatAddress(r.host, r.port);
    if (seen.has(key)) continue;
    seen.add(key);
    addresses.push({ host: r.host, port: r.port });
  }
  return { ok: true, addresses };
}

/**
 * The canonical `host:port` of a server (host lower-cased, IPv6 in brackets): how it is shown and
 * the key its resume tokens are kept under.
 *
 * @example formatAddress('Chat.Example', 5555) // 'chat.example:5555'
 */
export function formatAddress(host: string, port: number): string {
  return formatServerAddress({ host, port });
}
