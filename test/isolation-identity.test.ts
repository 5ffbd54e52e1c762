/**
 * Access belongs to a person, not to a string. Each case is an attack that worked before the
 * change (issue: isolation, finding 5), run against a real `teamchat serve` over TCP: taking a
 * nick that someone used, or registering it later, must not hand over their keyed rooms, their
 * invitations, their rooms' modes or their private messages. The person who comes back with
 * their account or their resume token gets everything back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

let server: SpawnedServer;
const open: JsonClient[] = [];

async function client(nick: string, extra: Record<string, unknown> = {}) {
  const c = await JsonClient.connect(server.tcpPort);
  open.push(c);
  const welcome = await c.hello(nick, extra);
  return { c, welcome };
}

async function leave(c: JsonClient): Promise<void> {
  c.send({ type: 'quit' });
  await c.waitClosed();
}

beforeAll(async () => {
  server = await spawnServer();
});

afterAll(async () => {
  for (const c of open) c.close();
  await server?.cleanup();
});

describe('identity: what a person owns does not pass to whoever takes the nick', () => {
  it('a registered user renames and leaves: a stranger taking the new nick is not put back in the keyed room', async () => {
    const { c: dave } = await client('dave');
    dave.send({ type: 'register', password: 'daves-password', ref: 'r' });
    await dave.seen('registered', (f) => f.ref === 'r');
    await dave.join('daves-den');
    dave.send({ type: 'msg', room: 'daves-den', text: 'the plan', ref: 'm' });
    await dave.seen('ack', (a) => a.ref === 'm');
    dave.send({ type: 'mode', room: 'daves-den', key: 's3cret', ref: 'k' });
    await dave.seen('mode', (f) => f.ref === 'k');
    dave.send({ type: 'nick', nick: 'dave_away', ref: 'n' });
    await dave.seen('nick', (f) => f.ref === 'n');
    await leave(dave);

    const { c: stranger, welcome } = await client('dave_away');
    expect(welcome.rooms).toEqual([]);
    stranger.send({ type: 'join', room: 'daves-den', ref: 'j' });
    expect(await stranger.seen('error', (e) => e.ref === 'j')).toMatchObject({ code: 'TC_ERR_BAD_KEY' });
    expect(JSON.stringify(stranger.frames)).not.toContain('the plan');
    await leave(stranger);

    // Dave himself, by his account, is back in his room (whatever nick he uses).
    const { welcome: back } = await client('dave', { password: 'daves-password' });
    expect(back.rooms).toEqual(['daves-den']);
  });

  it("a stranger who takes and registers an unregistered creator's nick gets no control of the room", async () => {
    const { c: carol } = await client('carol');
    await carol.join('carols-room');
    await leave(carol);

    const { c: stranger } = await client('carol');
    stranger.send({ type: 'register', password: 'not-carols', ref: 'r' });
    await stranger.seen('registered', (f) => f.ref === 'r');
    await stranger.join('carols-room');
    stranger.send({ type: 'mode', room: 'carols-room', key: 'mine', ref: 'k' });
    expect(await stranger.seen('error', (e) => e.ref === 'k')).toMatchObject({ code: 'TC_ERR_NOT_ROOM_CREATOR' });
    stranger.send({ type: 'mode', room: 'carols-room', inviteOnly: true, ref: 'i' });
    expect(await stranger.seen('error', (e) => e.ref === 'i')).toMatchObject({ code: 'TC_ERR_NOT_ROOM_CREATOR' });
  });

  it('an invitation goes to a person: an offline nick without an account cannot be invited, and an invite does not pass to the next holder of the nick', async () => {
    const { c: owner } = await client('clubowner', { password: 'owner-password', register: true });
    await owner.join('club');
    owner.send({ type: 'mode', room: 'club', inviteOnly: true, ref: 'i' });
    await owner.seen('mode', (f) => f.ref === 'i');
    owner.send({ type: 'invite', nick: 'frank', room: 'club', ref: 'offline' });
    expect(await owner.seen('error', (e) => e.ref === 'offline')).toMatchObject({ code: 'TC_ERR_NO_SUCH_USER' });

    const { c: frank, welcome } = await client('frank');
    owner.send({ type: 'invite', nick: 'frank', room: 'club', ref: 'online' });
    await owner.seen('invite', (f) => f.ref === 'online');
    await frank.seen('invite');
    await leave(frank);

    const { c: otherFrank } = await client('frank');
    otherFrank.send({ type: 'join', room: 'club', ref: 'j' });
    expect(await otherFrank.seen('error', (e) => e.ref === 'j')).toMatchObject({ code: 'TC_ERR_INVITE_ONLY' });
    await leave(otherFrank);

    // The invited Frank, with his resume token, walks in.
    const { c: realFrank } = await client('frank', { token: welcome.token });
    const joined = await realFrank.join('club');
    expect(joined.users).toContain('frank');
  });

  it('a stranger taking the nick of someone online under another nick does not read their private messages', async () => {
    const { c: alice, welcome } = await client('Alice');
    const { c: bob } = await client('bob');
    bob.send({ type: 'pm', to: 'Alice', text: 'the secret handshake', ref: 'p' });
    await bob.seen('ack', (a) => a.ref === 'p');
    await alice.seen('pm');
    alice.send({ type: 'nick', nick: 'alice_afk', ref: 'n' });
    await alice.seen('nick', (f) => f.ref === 'n');

    const { c: stranger } = await client('Alice', { pmAfter: 0 });
    stranger.send({ type: 'pm-history', ref: 'h' });
    const history = await stranger.seen('pm-history', (f) => f.ref === 'h');
    expect(history.messages).toEqual([]);
    expect(JSON.stringify(stranger.frames)).not.toContain('secret handshake');

    // Alice still has them, under any nick, and so does her next connection with her token.
    alice.send({ type: 'pm-history', ref: 'mine' });
    expect((await alice.seen('pm-history', (f) => f.ref === 'mine')).messages.map((m) => m.text)).toEqual([
      'the secret handshake',
    ]);
    await leave(alice);
    const { c: again } = await client('alice_back', { token: welcome.token });
    again.send({ type: 'pm-history', ref: 'again' });
    expect((await again.seen('pm-history', (f) => f.ref === 'again')).messages.map((m) => m.text)).toEqual([
      'the secret handshake',
    ]);
  });

  it('gives every client without an account a token, and a wrong token a fresh identity', async () => {
    const { c: eve, welcome } = await client('eve');
    expect(welcome.token).toMatch(/^[0-9a-f]{16}\.[A-Za-z0-9_-]+$/);
    await eve.join('eves-room');
    await leave(eve);
    const forged = welcome.token!.replace(/\.[A-Za-z0-9_-]+$/, '.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    const { welcome: impostor } = await client('eve', { token: forged });
    expect(impostor.rooms).toEqual([]);
    expect(impostor.token).not.toBe(welcome.token);
  });
});
