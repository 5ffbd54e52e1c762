/**
 * Framing edge cases on a real socket: every case ends with the connection answered with a coded
 * error or closed with a reason, and the server still serving everyone else.
 *
 * Frames are written by hand here on purpose (`sendRaw`): the exact bytes (split packets, CR, NUL,
 * oversized lines) are the input under test, not a client's output; well-formed traffic goes
 * through the typed `send`.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient, PlainClient } from './helpers/chat-clients.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';
import { pace } from './helpers/waits.js';

let server: SpawnedServer;
let watcher: JsonClient;
const open: { close(): void }[] = [];
let seq = 0;

beforeAll(async () => {
  server = await spawnServer();
  watcher = await JsonClient.connect(server.tcpPort);
  await watcher.hello('watcher');
  await watcher.join('edge');
});
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  const text = `still serving ${seq++}`;
  watcher.send({ type: 'msg', room: 'edge', text });
  await watcher.seen('message', (m) => m.text === text);
});
afterAll(async () => {
  watcher?.close();
  await server?.cleanup();
});

async function client(nick: string): Promise<JsonClient> {
  const c = await JsonClient.connect(server.tcpPort);
  open.push(c);
  await c.hello(nick);
  await c.join('edge');
  return c;
}

describe('teamchat serve: framing edge cases', () => {
  it('reassembles a frame sent byte by byte', async () => {
    const c = await client('bytewise');
    for (const b of Buffer.from('{"type":"msg","room":"edge","text":"one byte at a time"}\n')) {
      c.sendRaw(Buffer.from([b]));
      await pace(2, 'one byte per packet: the server reads the frame in as many pieces');
    }
    expect(await c.next('message')).toMatchObject({ text: 'one byte at a time' });
  });

  it('reassembles a multi-byte UTF-8 character split across packets', async () => {
    const c = await client('splitutf8');
    const bytes = Buffer.from('{"type":"msg","room":"edge","text":"naïve ✓ 😀"}\n');
    const cut = bytes.indexOf(Buffer.from('😀')) + 2;
    c.sendRaw(bytes.subarray(0, cut));
    await pace(50, 'the two halves of the character in separate packets, so the server reads them apart');
    c.sendRaw(bytes.subarray(cut));
    expect(await c.next('message')).toMatchObject({ text: 'naïve ✓ 😀' });
  });

  it('rejects a line whose multi-byte character straddles the line limit, and keeps the connection', async () => {
    const c = await client('straddle');
    const head = '{"type":"msg","room":"edge","text":"';
    const pad = 'a'.repeat(8192 - Buffer.byteLength(head) - 1);
    c.sendRaw(Buffer.concat([Buffer.from(head + pad), Buffer.from('😀'), Buffer.from('"}\n')]));
    expect(await c.next('error')).toMatchObject({ code: 'TC_ERR_LINE_TOO_LONG' });
    c.send({ type: 'msg', room: 'edge', text: 'after straddle' });
    await c.next('message', (m) => m.text === 'after straddle');
  });

  it('accepts CRLF and bare LF, ignores empty lines, and answers a bare CR inside a line as bad JSON', async () => {
    const c = await client('endings');
    c.sendRaw('{"type":"msg","room":"edge","text":"crlf"}\r\n\n\r\n{"type":"msg","room":"edge","text":"lf"}\n');
    await c.next('message', (m) => m.text === 'crlf');
    await c.next('message', (m) => m.text === 'lf');
    c.sendRaw('{"type":"msg","room":"edge","text":"a"}\r{"type":"ping"}\n');
    expect(await c.next('error')).toMatchObject({ code: 'TC_ERR_BAD_JSON' });
  });

  it('turns a bare CR in plain-text input into a space rather than a line break', async () => {
    const nc = await PlainClient.connect(server.tcpPort);
    open.push(nc);
    await nc.login('crplain', 'edge');
    nc.sendRaw('first\rsecond\n');
    await nc.expect('crplain: first second');
  });

  it('answers a 16 KiB line without newline with TC_ERR_LINE_TOO_LONG and recovers at the next newline', async () => {
    const c = await client('sixteen');
    c.sendRaw('x'.repeat(16 * 1024));
    expect(await c.next('error')).toMatchObject({ code: 'TC_ERR_LINE_TOO_LONG' });
    c.sendRaw('\n{"type":"ping","ref":"p16"}\n');
    await c.next('pong', (p) => p.ref === 'p16');
  });

  it('survives a 1 MiB burst of newlines', async () => {
    const c = await client('newlines');
    c.sendRaw(Buffer.alloc(1024 * 1024, 0x0a));
    c.send({ type: 'ping', ref: 'after-burst' });
    await c.next('pong', (p) => p.ref === 'after-burst');
    expect(c.frames.filter((f) => f.type === 'error')).toEqual([]);
  });

  it('handles NUL bytes: raw ones are bad JSON, escaped ones are relayed as spaces', async () => {
    const c = await client('nul');
    c.sendRaw(
      Buffer.concat([Buffer.from('{"type":"msg","room":"edge","text":"a'), Buffer.from([0]), Buffer.from('b"}\n')]),
    );
    expect(await c.next('error')).toMatchObject({ code: 'TC_ERR_BAD_JSON' });
    c.sendRaw('{"type":"msg","room":"edge","text":"x\\u0000y"}\n');
    expect(await c.next('message')).toMatchObject({ text: 'x y' });
    const nc = await PlainClient.connect(server.tcpPort);
    open.push(nc);
    await nc.login('nulplain', 'edge');
    nc.sendRaw(Buffer.concat([Buffer.from('p'), Buffer.from([0]), Buffer.from('q\n')]));
    await nc.expect('nulplain: p q');
  });

  it('closes a raw socket that sends 64 KiB with no newline, with a reason', async () => {
    const socket = net.connect({ port: server.tcpPort, host: '127.0.0.1' });
    open.push({ close: () => socket.destroy() });
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('{' + 'y'.repeat(70 * 1024));
    await new Promise<void>((r) => socket.once('close', () => r()));
    expect(received).toContain('TC_ERR_INPUT_OVERFLOW');
  });
});
