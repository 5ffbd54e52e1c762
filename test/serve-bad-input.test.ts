/**
 * End to end: bad input gets a coded error, the connection stays usable when it can, and nobody
 * else notices anything.
 */
import net from 'node:net';
import { encodeFrame, PROTOCOL_VERSION } from '@teamchat/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient, PlainClient, WsClient } from './helpers/chat-clients.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

let server: SpawnedServer;
let bystander: JsonClient;
const open: { close(): void }[] = [];
const json = async (nick?: string) => {
  const c = await JsonClient.connect(server.tcpPort);
  open.push(c);
  if (nick) await c.hello(nick);
  return c;
};

beforeAll(async () => {
  server = await spawnServer({ args: ['--max-send-queue', '262144'] });
  bystander = await JsonClient.connect(server.tcpPort);
  await bystander.hello('bystander');
  await bystander.join('calm');
});
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  // Whatever happened, everybody else is still served.
  bystander.send({ type: 'msg', room: 'calm', text: 'still here?' });
  expect(await bystander.next('message', (m) => m.text === 'still here?')).toMatchObject({ nick: 'bystander' });
});
afterAll(async () => {
  bystander?.close();
  await server?.cleanup();
});

async function expectError(client: JsonClient | WsClient, code: string) {
  expect(await client.next('error')).toMatchObject({ code });
}

/** Proves the connection still works after an error. */
async function expectUsable(client: JsonClient | WsClient) {
  client.send({ type: 'ping', ref: 'alive' });
  await client.next('pong', (p) => p.ref === 'alive');
}

describe('teamchat serve: bad input', () => {
  it('answers malformed JSON, unknown types and wrong fields with coded errors and keeps the connection', async () => {
    const c = await json('badjson');
    // Hand-written lines on purpose: each is bad input the encoder could not produce.
    c.sendRaw('{"type":"msg",\n');
    await expectError(c, 'TC_ERR_BAD_JSON');
    c.sendRaw('{"type":"teleport"}\n');
    await expectError(c, 'TC_ERR_BAD_FRAME');
    c.sendRaw('{"type":"msg","room":"calm","text":42,"ref":"w"}\n');
    expect(await c.next('error')).toMatchObject({ code: 'TC_ERR_BAD_FIELD', ref: 'w' });
    c.sendRaw('{"type":"join"}\n');
    await expectError(c, 'TC_ERR_BAD_FIELD');
    await expectUsable(c);
  });

  it('rejects invalid UTF-8 with a coded error', async () => {
    const c = await json('badutf8');
    // Raw bytes on purpose: a frame whose text is not UTF-8 (the encoder only writes valid UTF-8).
    c.sendRaw(
      Buffer.concat([
        Buffer.from('{"type":"msg","room":"calm","text":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}\n'),
      ]),
    );
    await expectError(c, 'TC_ERR_BAD_UTF8');
    await expectUsable(c);
    const nc = await PlainClient.connect(server.tcpPort);
    open.push(nc);
    await nc.login('ncutf8', 'calm');
    nc.sendRaw(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('\n')]));
    await nc.expect(/! [A-Z].* \[TC_ERR_BAD_UTF8\]\r\n/);
  });

  it('discards a line over 8 KiB with a coded error and keeps the connection', async () => {
    const c = await json('longline');
    // A well-formed frame whose only fault is its length.
    c.send({ type: 'msg', room: 'calm', text: 'x'.repeat(9000) });
    await expectError(c, 'TC_ERR_LINE_TOO_LONG');
    await expectUsable(c);
  });

  it('disconnects a client that keeps sending without a newline, with a reason', async () => {
    const c = await json('nonewline');
    c.sendRaw('x'.repeat(70 * 1024));
    expect(await c.next('bye')).toMatchObject({ code: 'TC_ERR_INPUT_OVERFLOW' });
    await c.waitClosed();
  });

  it('refuses a nick in use, an invalid nick and commands before a nick, letting the client retry', async () => {
    const c = await json();
    c.send({ type: 'join', room: 'calm' });
    await expectError(c, 'TC_ERR_NOT_REGISTERED');
    c.send({ type: 'hello', v: 1, nick: 'Bystander' });
    await expectError(c, 'TC_ERR_NICK_IN_USE');
    c.send({ type: 'hello', v: 1, nick: 'no spaces allowed' });
    await expectError(c, 'TC_ERR_BAD_NICK');
    c.send({ type: 'hello', v: 1, nick: 'retried' });
    await c.next('welcome');
    c.send({ type: 'join', room: 'bad room!' });
    await expectError(c, 'TC_ERR_BAD_ROOM');
    c.send({ type: 'msg', room: 'somewhere', text: 'x' });
    await expectError(c, 'TC_ERR_NOT_IN_ROOM');
    c.send({ type: 'pm', to: 'nobody_here', text: 'x' });
    await expectError(c, 'TC_ERR_NO_SUCH_USER');
    await expectUsable(c);
  });

  it('re-prompts an nc user for a nick in use or an invalid room name', async () => {
    const nc = await PlainClient.connect(server.tcpPort);
    open.push(nc);
    await nc.expect('Enter nickname: ');
    nc.line('bystander');
    await nc.expect(/! [A-Z].* \[TC_ERR_NICK_IN_USE\]\r\n/);
    await nc.expect('Enter nickname: ');
    nc.line('ncretry');
    await nc.expect('Enter room: ');
    nc.line('bad!room');
    await nc.expect(/! [A-Z].* \[TC_ERR_BAD_ROOM\]\r\n/);
    await nc.expect('Enter room: ');
    nc.line('calm');
    await nc.expect('* Now talking in calm');
    nc.line('/dance');
    await nc.expect(/! [A-Z].* \[TC_ERR_UNKNOWN_COMMAND\]\r\n/);
  });

  it('takes an NDJSON hello that comes after the nick prompt, and answers it on a line of its own', async () => {
    const socket = net.connect({ port: server.tcpPort, host: '127.0.0.1' });
    open.push({ close: () => socket.destroy() });
    let received = '';
    const arrived = (what: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (what.test(received)) {
            socket.off('data', onData);
            resolve();
          }
        };
        const onData = (d: Buffer) => {
          received += d.toString('utf8');
          check();
        };
        socket.on('data', onData);
        check();
      });
    // A busy client: its hello comes only once the server has prompted (a person with nc would type a nick).
    await arrived(/Enter nickname: $/);
    socket.write(encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: 'latecomer' }));
    await arrived(/"type":"welcome"/);
    const lines = received.split('\n');
    expect(lines[0]).toBe('Enter nickname: ');
    expect(JSON.parse(lines[1])).toMatchObject({ type: 'welcome', nick: 'latecomer' });
  });

  it('answers bad frames over WebSocket the same way', async () => {
    const w = await WsClient.connect(server.httpPort);
    open.push(w);
    w.sendRaw('not json');
    await expectError(w, 'TC_ERR_BAD_JSON');
    w.send({ type: 'hello', v: 1, nick: 'wsbad' });
    await w.next('welcome');
    await expectUsable(w);
  });

  it('cuts off a client that stops reading once its queue is full, and only that client', async () => {
    const talker = await json('talker');
    await talker.join('flood');
    // A raw socket that says hello, joins, and then never reads again.
    const sleeper = net.connect({ port: server.tcpPort, host: '127.0.0.1' });
    await new Promise<void>((r) => sleeper.once('connect', () => r()));
    sleeper.write(
      encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: 'sleeper' }) +
        encodeFrame({ type: 'join', room: 'flood' }),
    );
    await talker.next('presence', (p) => p.nick === 'sleeper');
    sleeper.pause();
    let sleeperClosed = false;
    sleeper.on('close', () => (sleeperClosed = true));
    sleeper.on('error', () => {});

    const text = 'z'.repeat(4000);
    let sent = 0;
    while (!server.stderr().includes('TC_ERR_SLOW_CONSUMER') && sent < 20_000) {
      for (let i = 0; i < 200; i++) talker.send({ type: 'msg', room: 'flood', text, ref: `f${sent++}` });
      await talker
        .next('ack', (a) => a.ref === `f${sent - 1}`, 15_000)
        .catch((e: Error) => {
          throw new Error(`${e.message.slice(0, 300)}\nserver log:\n${server.stderr().slice(-3000)}`);
        });
    }
    expect(server.stderr()).toMatch(/closing sleeper: TC_ERR_SLOW_CONSUMER/);
    await talker.seen('presence', (p) => p.nick === 'sleeper' && p.event === 'disconnect');
    sleeper.resume();
    await new Promise<void>((r) => (sleeperClosed ? r() : sleeper.once('close', () => r())));
    // The talker got every one of its own messages.
    expect(talker.frames.filter((f) => f.type === 'message' && f.room === 'flood')).toHaveLength(sent);
  });
});
