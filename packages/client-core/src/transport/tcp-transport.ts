/**
 * NDJSON over TCP, or over TLS with `tls`. Framing is bounded (protocol `LineFramer`).
 *
 * The server sniffs the dialect from the first line, and prompts a plain-text user for a nick when
 * the first line is slow to come. A busy machine may get that prompt before the server read our
 * `hello`; the server still takes the `hello` as NDJSON, so the prompt, when it opens the stream,
 * is skipped.
 *
 * @example
 * const client = new ChatClient({ addresses, nick, transport: tcpTransport({ tls: {} }) });
 */
import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { encodeFrame, LineFramer, NICK_PROMPT } from '@teamchat/protocol';
import type { ServerAddress } from '../server-address.js';
import {
  MAX_SERVER_LINE_BYTES,
  type TlsOptions,
  type Transport,
  type TransportEvents,
  type TransportFactory,
} from './transport.js';

export interface TcpTransportOptions {
  /** Connect over TLS. */
  tls?: TlsOptions;
  /** TCP keep-alive probe delay; default 10 s. */
  keepAliveMs?: number;
}

export function tcpTransport(options: TcpTransportOptions = {}): TransportFactory {
  return (address: ServerAddress, events: TransportEvents): Transport => {
    const { host, port } = address;
    const tls = options.tls;
    const socket: Socket = tls
      ? tlsConnect({
          host,
          port,
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(tls.servername ? { servername: tls.servername } : isIP(host) ? {} : { servername: host }),
        })
      : connect({ host, port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, options.keepAliveMs ?? 10_000);
    const framer = new LineFramer({
      maxLineBytes: MAX_SERVER_LINE_BYTES,
      maxUnterminatedBytes: 2 * MAX_SERVER_LINE_BYTES,
    });
    /** How much of the nick prompt opened the stream so far; -1: no longer looking. */
    let prompt = 0;
    let endOfPrompt = false;
    let open = false;
    socket.once('lookup', () => events.progress());
    socket.once('connect', () => events.progress());
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      open = true;
      events.open();
    });
    socket.on('data', (data: Buffer) => {
      events.activity();
      let chunk = data;
      if (prompt >= 0) {
        const text = chunk.toString('latin1', 0, Math.min(chunk.length, NICK_PROMPT.length - prompt));
        if (NICK_PROMPT.startsWith(text, prompt) && text.length > 0) {
          prompt += text.length;
          chunk = chunk.subarray(text.length);
          if (prompt === NICK_PROMPT.length) {
            prompt = -1;
            // The server ends the prompt's line once it sees our hello is NDJSON.
            endOfPrompt = true;
          }
          if (chunk.length === 0) return;
        }
        prompt = -1;
      }
      if (endOfPrompt && chunk.length > 0) {
        endOfPrompt = false;
        if (chunk[0] === 0x0a) chunk = chunk.subarray(1);
        if (chunk.length === 0) return;
      }
      framer.push(
        chunk,
        (line) => {
          if (!socket.destroyed) events.line(line);
        },
        (code) => events.overflow(code),
      );
    });
    socket.on('error', (err) => events.error(err));
    socket.on('close', () => events.close());
    return {
      send(frame) {
        if (open && !socket.destroyed) socket.write(encodeFrame(frame));
      },
      destroy() {
        socket.destroy();
      },
    };
  };
}
