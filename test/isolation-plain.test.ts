/**
 * The plain-text dialect under flood control: two `/join` lines that both wait behind the budget
 * used to leave the nc user in a "ghost" room whose messages appeared without a room name, as if
 * said in the current one. Now the user ends in the last room asked for, and is out of the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient, PlainClient } from './helpers/chat-clients.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

let server: SpawnedServer;
const open: { close(): void }[] = [];

beforeAll(async () => {
  server = await spawnServer({ productionLimits: true });
});

afterAll(async () => {
  for (const c of open) c.close();
  await server?.cleanup();
});

describe('plain text behind flood control', () => {
  it('two waiting /join lines leave the user in the last room only, with no ghost room', async () => {
    const watcher = await JsonClient.connect(server.tcpPort);
    open.push(watcher);
    await watcher.hello('watcher');
    await watcher.join('first');

    const nc = await PlainClient.connect(server.tcpPort);
    open.push(nc);
    await nc.login('switcher', 'lobby');
    // Spend the burst on /help (0.25 each), so both joins wait behind the budget.
    nc.sendRaw('/help\n'.repeat(20) + '/join first\n/join second\n');
    await nc.expect('* Now talking in second', 20_000);
    await watcher.next('presence', (p) => p.nick === 'switcher' && p.event === 'join');
    await watcher.next('presence', (p) => p.nick === 'switcher' && p.event === 'part');

    watcher.send({ type: 'msg', room: 'first', text: 'said in first', ref: 'w' });
    await watcher.next('ack', (a) => a.ref === 'w');
    nc.line('said by switcher');
    const back = await JsonClient.connect(server.tcpPort);
    open.push(back);
    await back.hello('checker');
    const second = await back.join('second');
    expect(second.users).toEqual(['checker', 'switcher']);
    await back.next('message', (m) => m.nick === 'switcher' && m.text === 'said by switcher');
    expect(nc.text).not.toContain('said in first');
    nc.line('/users first');
    await nc.expect(/Users in first \(1\): watcher\r?\n/);
  });
});
