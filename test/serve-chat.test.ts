/**
 * End to end: `teamchat serve` as a real child process, driven over real TCP (both dialects) and
 * WebSocket connections.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient, PlainClient, WsClient } from './helpers/chat-clients.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

let server: SpawnedServer;
const open: { close(): void }[] = [];
const json = async () => {
  const c = await JsonClient.connect(server.tcpPort);
  open.push(c);
  return c;
};
const plain = async () => {
  const c = await PlainClient.connect(server.tcpPort);
  open.push(c);
  return c;
};
const ws = async () => {
  const c = await WsClient.connect(server.httpPort);
  open.push(c);
  return c;
};

beforeAll(async () => {
  server = await spawnServer();
});
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});
afterAll(async () => {
  await server?.cleanup();
});

describe('teamchat serve: chatting', () => {
  it('lets two NDJSON users chat in a room, the sender included, with ids and server timestamps', async () => {
    const alice = await json();
    const bob = await json();
    await alice.hello('alice1');
    await bob.hello('bob1');
    await alice.join('chat1');
    const joined = await bob.join('chat1');
    expect(joined.users).toEqual(['alice1', 'bob1']);
    await alice.next('presence', (p) => p.nick === 'bob1' && p.event === 'join');

    const before = Date.now();
    alice.send({ type: 'msg', room: 'chat1', text: 'hello bob', ref: 'm1' });
    const atAlice = await alice.next('message');
    const ack = await alice.next('ack', (a) => a.ref === 'm1');
    const atBob = await bob.next('message');
    expect(atBob).toEqual(atAlice);
    expect(atBob).toMatchObject({ room: 'chat1', nick: 'alice1', text: 'hello bob', id: ack.id });
    expect(atBob.ts).toBeGreaterThanOrEqual(before - 1000);
  });

  it('lets nc users chat with the prompts and formats of the original design', async () => {
    const carol = await plain();
    await carol.login('carol2', 'chat2');
    const dave = await plain();
    await dave.login('dave2', 'chat2');
    await carol.expect('* dave2 has joined chat2');
    dave.line('hi carol');
    await carol.expect('dave2: hi carol');
    await dave.expect('dave2: hi carol');
    carol.line('/me waves');
    await dave.expect('* carol2 waves');
    carol.line('/quit off to lunch');
    await dave.expect('* carol2 has quit (off to lunch)');
    await carol.waitClosed();
  });

  it('carries the same frames over WebSocket, and WebSocket and TCP users share rooms', async () => {
    const web = await ws();
    const tcp = await json();
    const nc = await plain();
    await web.hello('web3');
    await tcp.hello('tcp3');
    await web.join('chat3');
    await tcp.join('chat3');
    await nc.login('nc3', 'chat3');
    web.send({ type: 'msg', room: 'chat3', text: 'from the browser' });
    expect(await tcp.next('message')).toMatchObject({ nick: 'web3', text: 'from the browser' });
    await nc.expect('web3: from the browser');
    tcp.send({ type: 'msg', room: 'chat3', text: 'from the terminal' });
    expect(await web.next('message', (m) => m.nick === 'tcp3')).toMatchObject({
      room: 'chat3',
      text: 'from the terminal',
    });
  });

  it('keeps NDJSON users in several rooms at once, naming the room in every frame', async () => {
    const a = await json();
    const b = await json();
    await a.hello('multi_a');
    await b.hello('multi_b');
    for (const room of ['m4a', 'm4b']) {
      await a.join(room);
      await b.join(room);
    }
    a.send({ type: 'msg', room: 'm4b', text: 'in b' });
    a.send({ type: 'msg', room: 'm4a', text: 'in a' });
    const first = await b.next('message');
    const second = await b.next('message');
    expect([first.room, first.text, second.room, second.text]).toEqual(['m4b', 'in b', 'm4a', 'in a']);
    expect(second.id).toBeGreaterThan(first.id);
  });

  it('switches the room of an nc user with /join, showing the new room its history', async () => {
    const writer = await json();
    await writer.hello('writer5');
    await writer.join('hist5');
    for (let i = 1; i <= 3; i++) writer.send({ type: 'msg', room: 'hist5', text: `older ${i}`, ref: `h${i}` });
    await writer.next('ack', (a) => a.ref === 'h3');
    const nc = await plain();
    await nc.login('reader5', 'lobby5');
    nc.line('/join hist5');
    await nc.expect('* Now talking in hist5');
    await nc.expect('writer5: older 1');
    await nc.expect('writer5: older 3');
    await writer.next('presence', (p) => p.event === 'join' && p.nick === 'reader5');
    nc.line('now here');
    expect(await writer.next('message', (m) => m.nick === 'reader5')).toMatchObject({
      room: 'hist5',
      text: 'now here',
    });
    nc.line('/rooms');
    // Rooms with nobody in them are not listed (they leave memory after a while).
    const listed = await nc.expect(/hist5 \(2 users\)[^]*?\r?\n(?!\S+ \(\d+ users?\))/);
    expect(listed).not.toMatch(/lobby5/);
  });

  it('pages older history by id with /history and the history frame', async () => {
    const a = await json();
    await a.hello('pager6');
    await a.join('hist6');
    for (let i = 1; i <= 60; i++) a.send({ type: 'msg', room: 'hist6', text: `n${i}`, ref: `p${i}` });
    await a.next('ack', (x) => x.ref === 'p60');
    const b = await json();
    await b.hello('late6');
    const joined = await b.join('hist6');
    expect(joined.history.map((m) => m.text)).toEqual(Array.from({ length: 50 }, (_, i) => `n${i + 11}`));
    expect(joined.more).toBe(true);
    b.send({ type: 'history', room: 'hist6', before: joined.history[0].id, limit: 20, ref: 'older' });
    const page = await b.next('history', (h) => h.ref === 'older');
    expect(page.messages.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `n${i + 1}`));
    expect(page.more).toBe(false);

    const nc = await plain();
    await nc.login('ncpager6', 'hist6');
    nc.line('/history 5');
    await nc.expect('* --- 5 older messages ---');
    await nc.expect('pager6: n6');
    await nc.expect('pager6: n10');
  });

  it('lists users with /users and rooms with their member counts with /rooms', async () => {
    const a = await json();
    const b = await json();
    await a.hello('lister7');
    await b.hello('other7');
    await a.join('list7');
    await b.join('list7');
    await b.join('list7b');
    a.send({ type: 'users', room: 'list7' });
    expect((await a.next('users')).users).toEqual(['lister7', 'other7']);
    a.send({ type: 'rooms' });
    const rooms = (await a.next('rooms')).rooms;
    expect(rooms).toContainEqual({ name: 'list7', members: 2, topic: null });
    expect(rooms).toContainEqual({ name: 'list7b', members: 1, topic: null });
    const nc = await plain();
    await nc.login('nc7', 'list7');
    nc.line('/users');
    await nc.expect('* Users in list7 (3): lister7, nc7, other7');
  });

  it('delivers a private message to its recipient only: a third user sees nothing', async () => {
    const alice = await json();
    const bob = await plain();
    const eve = await json();
    await alice.hello('alice8');
    await eve.hello('eve8');
    await alice.join('pm8');
    await eve.join('pm8');
    await bob.login('bob8', 'elsewhere8');
    alice.send({ type: 'pm', to: 'bob8', text: 'the secret is 42', ref: 's' });
    await alice.next('ack', (a) => a.ref === 's');
    await bob.expect('[PM] alice8: the secret is 42');
    bob.line('/pm alice8 got it');
    expect(await alice.next('pm', (p) => p.from === 'bob8')).toMatchObject({ to: 'alice8', text: 'got it' });
    // Eve is in a room with Alice and was online the whole time; she asks for PM history too.
    eve.send({ type: 'pm-history', ref: 'ph' });
    expect((await eve.next('pm-history', (h) => h.ref === 'ph')).messages).toEqual([]);
    eve.send({ type: 'ping', ref: 'sync' });
    await eve.next('pong', (p) => p.ref === 'sync');
    expect(eve.frames.filter((f) => f.type === 'pm' || JSON.stringify(f).includes('secret'))).toEqual([]);
  });

  it('announces a nick change to the rooms and frees the old nick', async () => {
    const a = await json();
    const b = await plain();
    await a.hello('before9');
    await a.join('nick9');
    await b.login('watcher9', 'nick9');
    a.send({ type: 'nick', nick: 'after9' });
    expect(await a.next('nick', (n) => n.room === undefined)).toMatchObject({ old: 'before9', new: 'after9' });
    await b.expect('* before9 is now known as after9');
    const c = await json();
    await c.hello('before9');
    b.line('/nick watcher9b');
    await b.expect('* You are now known as watcher9b');
  });

  it('announces a disconnect as leaving, like /quit', async () => {
    const a = await json();
    const b = await json();
    await a.hello('stay10');
    await b.hello('drop10');
    await a.join('bye10');
    await b.join('bye10');
    b.close();
    expect(await a.next('presence', (p) => p.nick === 'drop10' && p.event !== 'join')).toMatchObject({
      event: 'disconnect',
      room: 'bye10',
    });
  });

  it('shows and sets the topic', async () => {
    const nc = await plain();
    await nc.login('topic11', 'topic11');
    nc.line('/topic');
    await nc.expect('* No topic is set for topic11');
    nc.line('/topic Release on Friday');
    await nc.expect('* topic11 set the topic to: Release on Friday');
    const a = await json();
    await a.hello('reader11');
    expect((await a.join('topic11')).topic).toBe('Release on Friday');
  });
});
