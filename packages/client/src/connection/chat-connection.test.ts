import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NICK_PROMPT, type ClientFrame } from '@teamchat/protocol';
import { ChatConnection, parseAddress, type ConnectionEvent } from './chat-connection.js';

/** A scripted in-process server: `onFrame` answers each decoded client frame. */
function fakeServer(onConnect: (socket: net.Socket, index: number) => void, onFrame: (socket: net.Socket, frame: ClientFrame) => void) {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = '';
    socket.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line) onFrame(socket, JSON.parse(line) as ClientFrame);
      }
    });
    onConnect(socket, count++);
  });
  return {
    server,
    sockets,
    listen: () => new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port))),
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

const send = (s: net.Socket, frame: object) => s.write(JSON.stringify(frame) + '\n');
const welcome = (nick: string, rooms: string[]) => ({ type: 'welcome', v: 1, nick, server: 'fake', rooms, limits: { maxLineBytes: 8192, historyDefault: 50, historyMax: 500 } });

function waitEvent(conn: ChatConnection, match: (e: ConnectionEvent) => boolean): Promise<ConnectionEvent> {
  return new Promise((resolve) => {
    const off = conn.on((e) => {
      if (match(e)) {
        off();
        resolve(e);
      }
    });
  });
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('ChatConnection', () => {
  it('starts over on a new connection when the server took it for a plain-text user', async () => {
    const hellos: number[] = [];
    const fake = fakeServer(
      (socket, i) => {
        if (i === 0) socket.write(NICK_PROMPT);
      },
      (socket, frame) => {
        if (frame.type !== 'hello') return;
        hellos.push(1);
        if (hellos.length === 1) return; // the first connection is "plain text": never answers
        send(socket, welcome(frame.nick, []));
      },
    );
    const port = await fake.listen();
    const conn = new ChatConnection({ host: '127.0.0.1', port, nick: 'alice', backoff: { initialMs: 10 } });
    cleanup.push(() => conn.destroy(), fake.close);
    const ready = waitEvent(conn, (e) => e.kind === 'ready');
    conn.start();
    await ready;
    expect(hellos.length).toBe(2);
  });

  it('fills a resume gap with history pages and passes each message on once', async () => {
    const fake = fakeServer(
      () => {},
      (socket, frame) => {
        if (frame.type === 'hello') {
          send(socket, welcome(frame.nick, ['general']));
          const after = frame.rooms?.general ?? null;
          if (frame.pmAfter !== undefined) send(socket, { type: 'pm-history', messages: [], more: false });
          if (after === null) {
            send(socket, { type: 'joined', room: 'general', topic: null, users: [frame.nick], history: [{ id: 10, ts: 1, room: 'general', nick: 'bob', text: 'ten' }], more: false });
          } else {
            // Resumed after 10, but only the latest page (40, 41) fits: ids 11..39 are a gap.
            send(socket, { type: 'joined', room: 'general', topic: null, users: [frame.nick], history: [40, 41].map((id) => ({ id, ts: 1, room: 'general', nick: 'bob', text: `m${id}` })), more: true });
          }
        } else if (frame.type === 'history') {
          expect(frame).toMatchObject({ room: 'general', after: 10, before: 40 });
          send(socket, { type: 'history', room: 'general', messages: [11, 12].map((id) => ({ id, ts: 1, room: 'general', nick: 'bob', text: `m${id}` })), more: false, ref: frame.ref });
        }
      },
    );
    const port = await fake.listen();
    const conn = new ChatConnection({ host: '127.0.0.1', port, nick: 'alice', rooms: ['general'], backoff: { initialMs: 10 } });
    cleanup.push(() => conn.destroy(), fake.close);
    const joined: number[][] = [];
    conn.on((e) => e.kind === 'frame' && e.frame.type === 'joined' && joined.push(e.frame.history.map((m) => m.id)));
    let ready = waitEvent(conn, (e) => e.kind === 'ready');
    conn.start();
    await ready;
    ready = waitEvent(conn, (e) => e.kind === 'ready');
    for (const s of fake.sockets) s.destroy();
    await ready;
    expect(joined).toEqual([[10], [11, 12, 40, 41]]);
  });
});

describe('parseAddress', () => {
  it('accepts host:port, host, port and rejects bad ports', () => {
    expect(parseAddress('chat.example:7000')).toEqual({ host: 'chat.example', port: 7000 });
    expect(parseAddress('chat.example')).toEqual({ host: 'chat.example', port: 5555 });
    expect(parseAddress('6000')).toEqual({ host: 'localhost', port: 6000 });
    expect(parseAddress(undefined)).toEqual({ host: 'localhost', port: 5555 });
    expect(parseAddress('host:99999')).toBeNull();
  });
});
