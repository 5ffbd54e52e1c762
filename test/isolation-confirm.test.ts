/**
 * Confirm after commit: `registered`, `mode`, `topic` and `invite` reach the client only once the
 * change is stored, so a `kill -9` right after the confirmation loses nothing (before the change,
 * 9 runs out of 9 lost a +k confirmed one millisecond earlier). A real `teamchat serve`, killed the
 * moment each confirmation arrives, then started again on the same data.
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

beforeAll(async () => {
  server = await spawnServer();
});

afterAll(async () => {
  for (const c of open) c.close();
  await server?.cleanup();
});

describe('confirmations come after the commit: kill -9 right after each one loses nothing', () => {
  it('registered', async () => {
    const { c } = await client('reggie');
    c.send({ type: 'register', password: 'reggies-password', ref: 'r' });
    await c.seen('registered', (f) => f.ref === 'r');
    await server.kill();
    await server.restart();
    const { c: other } = await client2('reggie');
    expect(await other.seen('error')).toMatchObject({ code: 'TC_ERR_AUTH_REQUIRED' });
    const { welcome } = await client('reggie', { password: 'reggies-password' });
    expect(welcome.account).toBe(true);
  });

  it('mode +k, topic and invite', async () => {
    const { c: owner } = await client('keeper', { password: 'keepers-password', register: true });
    const { c: guest } = await client('guest', { password: 'guests-password', register: true });
    await owner.join('vault');
    owner.send({ type: 'topic', room: 'vault', topic: 'stored before confirmed', ref: 't' });
    await owner.seen('topic', (f) => f.ref === 't');
    owner.send({ type: 'invite', nick: 'guest', room: 'vault', ref: 'i' });
    await owner.seen('invite', (f) => f.ref === 'i');
    owner.send({ type: 'mode', room: 'vault', key: 'k3y', inviteOnly: true, ref: 'k' });
    await owner.seen('mode', (f) => f.ref === 'k');
    await server.kill();
    void guest;
    await server.restart();

    const { c: stranger } = await client('stranger');
    stranger.send({ type: 'join', room: 'vault', ref: 'j' });
    expect(await stranger.seen('error', (e) => e.ref === 'j')).toMatchObject({ code: 'TC_ERR_INVITE_ONLY' });
    stranger.send({ type: 'mode', room: 'vault', ref: 'm' });
    expect(await stranger.seen('mode', (f) => f.ref === 'm')).toMatchObject({
      key: true,
      inviteOnly: true,
      creator: 'keeper',
    });
    const { c: invited } = await client('guest', { password: 'guests-password' });
    const joined = await invited.join('vault');
    expect(joined.topic).toBe('stored before confirmed');
  });
});

/** A connection whose hello is refused (the nick is registered): returns the client only. */
async function client2(nick: string) {
  const c = await JsonClient.connect(server.tcpPort);
  open.push(c);
  c.send({ type: 'hello', v: 1, nick });
  return { c };
}
