/**
 * Room modes end to end: a key (+k) or invite-only (+i) set by the room's registered creator;
 * users, topic and history of such a room are for members only; modes and invitations survive a
 * restart. NDJSON and plain-text clients against a real `teamchat serve`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient, PlainClient } from './helpers/chat-clients.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

const ALICE_PASSWORD = 'alice-long-password';
let server: SpawnedServer;
const open: { close(): void }[] = [];
/** The resume token each nick's latest welcome gave (clients without an account keep it). */
const tokens = new Map<string, string>();

async function user(nick: string, password?: string): Promise<JsonClient> {
  const c = await JsonClient.connect(server.tcpPort);
  open.push(c);
  c.send({ type: 'hello', v: 1, nick, ...(password ? { password } : {}) });
  const welcome = await c.next('welcome');
  if (welcome.token) tokens.set(nick, welcome.token);
  return c;
}

beforeAll(async () => {
  server = await spawnServer({ args: ['--no-flood-control', '--auth-failure-delay', '0'] });
});

afterAll(async () => {
  for (const c of open) c.close();
  await server?.cleanup();
});

describe('room modes', () => {
  it('let only the registered creator set a key, and hide the room from non-members', async () => {
    const alice = await user('alice');
    await alice.join('vault');
    alice.send({ type: 'topic', room: 'vault', topic: 'launch codes' });
    alice.send({ type: 'msg', room: 'vault', text: 'members only text', ref: 'm' });
    await alice.next('ack', (f) => f.ref === 'm');
    alice.send({ type: 'mode', room: 'vault', key: 'sesame', ref: 'k0' });
    expect(await alice.next('error', (f) => f.ref === 'k0')).toMatchObject({ code: 'TC_ERR_NOT_REGISTERED_NICK' });
    alice.send({ type: 'register', password: ALICE_PASSWORD, ref: 'r' });
    await alice.next('registered', (f) => f.ref === 'r');
    alice.send({ type: 'mode', room: 'vault', key: 'sesame', ref: 'k1' });
    expect(await alice.next('mode', (f) => f.ref === 'k1')).toMatchObject({
      room: 'vault',
      key: true,
      inviteOnly: false,
      creator: 'alice',
      by: 'alice',
    });

    const bob = await user('bob');
    bob.send({ type: 'mode', room: 'vault', key: null, ref: 'nope' });
    expect(await bob.next('error', (f) => f.ref === 'nope')).toMatchObject({ code: 'TC_ERR_NOT_ROOM_CREATOR' });
    bob.send({ type: 'users', room: 'vault', ref: 'u' });
    expect(await bob.next('error', (f) => f.ref === 'u')).toMatchObject({ code: 'TC_ERR_NOT_IN_ROOM' });
    bob.send({ type: 'history', room: 'vault', ref: 'h' });
    expect(await bob.next('error', (f) => f.ref === 'h')).toMatchObject({ code: 'TC_ERR_NOT_IN_ROOM' });
    bob.send({ type: 'topic', room: 'vault', ref: 't' });
    expect(await bob.next('error', (f) => f.ref === 't')).toMatchObject({ code: 'TC_ERR_NOT_IN_ROOM' });
    bob.send({ type: 'rooms', ref: 'l' });
    const list = await bob.next('rooms', (f) => f.ref === 'l');
    expect(list.rooms.find((r) => r.name === 'vault')).toMatchObject({ topic: null });
    bob.send({ type: 'mode', room: 'vault', ref: 'q' });
    expect(await bob.next('mode', (f) => f.ref === 'q')).toMatchObject({ key: true, inviteOnly: false });

    bob.send({ type: 'join', room: 'vault', ref: 'j1' });
    expect(await bob.next('error', (f) => f.ref === 'j1')).toMatchObject({ code: 'TC_ERR_BAD_KEY' });
    bob.send({ type: 'join', room: 'vault', key: 'wrong', ref: 'j2' });
    expect(await bob.next('error', (f) => f.ref === 'j2')).toMatchObject({ code: 'TC_ERR_BAD_KEY' });
    expect(JSON.stringify(bob.frames)).not.toContain('members only text');
    expect(JSON.stringify(bob.frames)).not.toContain('launch codes');
    bob.send({ type: 'join', room: 'vault', key: 'sesame', ref: 'j3' });
    const joined = await bob.next('joined', (f) => f.ref === 'j3');
    expect(joined.history.map((m) => m.text)).toContain('members only text');
    expect(joined.topic).toBe('launch codes');
    alice.send({ type: 'quit' });
    await alice.waitClosed();
  });

  it('make an invite-only room open to invited nicks only', async () => {
    const alice = await user('alice', ALICE_PASSWORD);
    await alice.join('inner');
    alice.send({ type: 'mode', room: 'inner', inviteOnly: true, ref: 'i' });
    await alice.next('mode', (f) => f.ref === 'i');

    const carol = await user('carol');
    carol.send({ type: 'join', room: 'inner', ref: 'j1' });
    expect(await carol.next('error', (f) => f.ref === 'j1')).toMatchObject({ code: 'TC_ERR_INVITE_ONLY' });
    carol.send({ type: 'invite', nick: 'carol', room: 'inner', ref: 'self' });
    expect(await carol.next('error', (f) => f.ref === 'self')).toMatchObject({ code: 'TC_ERR_NOT_IN_ROOM' });

    alice.send({ type: 'invite', nick: 'carol', room: 'inner', ref: 'inv' });
    expect(await alice.next('invite', (f) => f.ref === 'inv')).toMatchObject({
      room: 'inner',
      nick: 'carol',
      by: 'alice',
    });
    expect(await carol.next('invite')).toMatchObject({ room: 'inner', nick: 'carol', by: 'alice' });
    carol.send({ type: 'join', room: 'inner', ref: 'j2' });
    expect(await carol.next('joined', (f) => f.ref === 'j2')).toMatchObject({ users: ['alice', 'carol'] });
  });

  it('work for plain-text users: /mode, /invite and /join <room> <key>', async () => {
    const p = await PlainClient.connect(server.tcpPort);
    open.push(p);
    await p.login('dave', 'lounge');
    p.line('/mode vault');
    await p.expect('* Modes of vault: +k');
    p.line('/join vault');
    await p.expect('[TC_ERR_BAD_KEY]');
    p.line('/users');
    await p.expect('* Users in lounge'); // still in the room it had
    p.line('/join vault sesame');
    await p.expect('* Now talking in vault');
    p.line('/mode vault -k');
    await p.expect('[TC_ERR_NOT_ROOM_CREATOR]');
    p.line('/invite zed');
    await p.expect('[TC_ERR_NO_SUCH_USER]'); // offline and without an account: nobody in particular
    p.line('/invite alice');
    await p.expect('* You invited alice to vault');
    p.line('/help');
    await p.expect('/mode <room> [+k key|-k|+i|-i]');
  });

  it('keep modes, creators, memberships and invitations across a restart', async () => {
    for (const c of open.splice(0)) c.close();
    await server.restart();
    // bob joined with the key before: the same person (his resume token) comes back without it.
    const bob = await JsonClient.connect(server.tcpPort);
    open.push(bob);
    bob.send({ type: 'hello', v: 1, nick: 'bob', token: tokens.get('bob')! });
    await bob.next('welcome');
    expect(await bob.next('joined', (f) => f.room === 'vault')).toMatchObject({ room: 'vault' });

    const eve = await user('eve');
    eve.send({ type: 'join', room: 'vault', ref: 'j' });
    expect(await eve.next('error', (f) => f.ref === 'j')).toMatchObject({ code: 'TC_ERR_BAD_KEY' });
    eve.send({ type: 'join', room: 'inner', ref: 'i' });
    expect(await eve.next('error', (f) => f.ref === 'i')).toMatchObject({ code: 'TC_ERR_INVITE_ONLY' });

    const alice = await user('alice', ALICE_PASSWORD);
    alice.send({ type: 'mode', room: 'vault', key: null, ref: 'off' });
    expect(await alice.next('mode', (f) => f.ref === 'off')).toMatchObject({ key: false, creator: 'alice' });
    eve.send({ type: 'join', room: 'vault', ref: 'j2' });
    expect(await eve.next('joined', (f) => f.ref === 'j2')).toMatchObject({ room: 'vault' });
  });
});
