/**
 * Where a server listens. A client may be given several (the nodes of a cluster): it uses one at
 * a time and moves to the next when a connection is lost.
 *
 * @example
 * formatAddress({ host: 'Chat.Example', port: 5555 }) // 'chat.example:5555'
 * formatAddress({ host: '::1', port: 5555 }) // '[::1]:5555'
 */
import { isIP } from 'node:net';

export interface ServerAddress {
  host: string;
  port: number;
}

/**
 * The canonical `host:port` of a server (host lower-cased, IPv6 in brackets): how it is shown and
 * the key its resume tokens are kept under.
 */
export function formatAddress(address: ServerAddress): string {
  const h = address.host.toLowerCase();
  return isIP(h) === 6 ? `[${h}]:${address.port}` : `${h}:${address.port}`;
}
