/**
 * The text of a WebSocket message as `ws` hands it over: a Buffer, or a list of Buffers for a
 * fragmented message (or an ArrayBuffer when a socket's binaryType says so).
 *
 * @example
 * ws.on('message', (data) => frames.push(wsText(data)));
 */
import type { RawData } from 'ws';

export function wsText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}
