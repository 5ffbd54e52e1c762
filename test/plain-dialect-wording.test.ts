/**
 * The plain-text dialect reads well to an `nc` user ("first contact"): a rename is told once,
 * leaving a room for another is told before the new room, the room prompt answers /rooms and
 * /help, and errors are sentences with their code at the end. A real `teamchat serve`, real sockets.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient, PlainClient } from './helpers/chat-clients.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

let server: SpawnedServer;
const open: { close(): void }[] = [];
const json = async (nick: string, extra: { password?: string; register?: boolean } = {}) => {
  const c = await JsonClient.connect(server.tcpPort);
  open.push(c);
  await c.hello(nick, extra);
  return c;
};
const plain = async () => {
  const c = await PlainClient.connect(server.tcpPort);
  open.push(c);
  return c;
};
/** Lines of a transcript that contain `text`. */
const linesWith = (client: PlainClient, text: string) => client.lines.filter((l) => l.includes(text));

beforeAll(async () => {
  server = await spawnServer({ args: ['--auth-failure-delay', '0'] });
});
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});
afterAll(async () => {
  await server?.cleanup();
});

describe('the plain-text dialect', () => {
  it('tells a renamed user once, and the others in the room once', async () => {
    const watcher = await plain();
    await watcher.login('watcher1', 'rename1');
    const bob = await plain();
    await bob.login('bob1', 'rename1');
    bob.line('/nick robert1');
    await bob.expect('* You are now known as robert1\r\n');
    await watcher.expect('* bob1 is now known as robert1\r\n');
    // Everything the rename sent comes before the answer to a later command.
    bob.line('/users');
    await bob.expect('* Users in rename1 (2): robert1, watcher1');
    watcher.line('/users');
    await watcher.expect('* Users in rename1 (2): robert1, watcher1');
    expect(linesWith(bob, 'known as')).toEqual(['* You are now known as robert1']);
    expect(linesWith(watcher, 'known as')).toEqual(['* bob1 is now known as robert1']);
  });

  it('says "You left" the old room before "Now talking in" the new one, once', async () => {
    const member = await json('member2');
    await member.join('general2');
    const nc = await plain();
    await nc.login('switcher2', 'general2');
    nc.line('/join other2');
    await nc.expect('* Now talking in other2');
    expect(await member.next('presence', (p) => p.nick === 'switcher2' && p.event === 'part')).toMatchObject({
      room: 'general2',
    });
    nc.line('/users');
    await nc.expect('* Users in other2 (1): switcher2');
    const lines = nc.lines;
    const left = lines.indexOf('* You left general2');
    expect(left).toBeGreaterThan(-1);
    expect(left).toBeLessThan(lines.indexOf('* Now talking in other2'));
    expect(linesWith(nc, 'You left')).toEqual(['* You left general2']);
    // An explicit /part is still told.
    nc.line('/part');
    await nc.expect('* You left other2\r\n');
    await nc.expect('* You are in no room now');
  });

  it('answers /rooms and /help at the room prompt, then asks for the room again', async () => {
    const host = await json('host3');
    await host.join('lobby3');
    const nc = await plain();
    await nc.expect('Enter nickname: ');
    nc.line('guest3');
    await nc.expect('Enter room: ');
    nc.line('/rooms');
    await nc.expect(/\* {3}lobby3 \(1 user\)\r\n/);
    await nc.expect('Enter room: ');
    nc.line('/help');
    await nc.expect('*   /join <room> [key]');
    await nc.expect('* Now type the name of a room to enter it');
    await nc.expect('Enter room: ');
    nc.line('/users');
    await nc.expect(/! You are not in a room yet: .*\[TC_ERR_NOT_IN_ROOM\]\r\n/);
    await nc.expect('Enter room: ');
    nc.line('/join lobby3');
    await nc.expect('* Now talking in lobby3');
    await host.next('presence', (p) => p.nick === 'guest3' && p.event === 'join');
  });

  it('asks for the room again when the one typed at the prompt needs a key', async () => {
    const owner = await json('owner4', { password: 'owner4-long-password', register: true });
    await owner.join('vault4');
    owner.send({ type: 'mode', room: 'vault4', key: 'sesame', ref: 'k' });
    await owner.next('mode', (m) => m.ref === 'k');
    const nc = await plain();
    await nc.expect('Enter nickname: ');
    nc.line('guest4');
    await nc.expect('Enter room: ');
    nc.line('vault4');
    await nc.expect('! The room vault4 needs a key: /join vault4 <key> [TC_ERR_BAD_KEY]\r\nEnter room: ');
    nc.line('vault4 sesame');
    await nc.expect('* Now talking in vault4');
  });

  it('words errors as sentences with the code at the end, and says why a room name is not valid', async () => {
    const nc = await plain();
    await nc.expect('Enter nickname: ');
    nc.line('no spaces here');
    await nc.expect(
      '! That is not a valid nick: "no spaces here" (spaces are not allowed; use 1-24 letters, digits, _ or -, starting with a letter) [TC_ERR_BAD_NICK]\r\n',
    );
    await nc.expect('Enter nickname: ');
    nc.line('wording5');
    await nc.expect('Enter room: ');
    nc.line('bad room name!');
    await nc.expect(
      '! That is not a valid room name: "bad room name!" (spaces and "!" are not allowed; use 1-32 letters, digits, _ . or -) [TC_ERR_BAD_ROOM]\r\n',
    );
    await nc.expect('Enter room: ');
    nc.line('words5');
    await nc.expect('* Now talking in words5');
    nc.line('/join bad room name!');
    await nc.expect(
      '! That is not a valid room name: "bad room name!" (spaces and "!" are not allowed; use 1-32 letters, digits, _ . or -) [TC_ERR_BAD_ROOM]\r\n',
    );
    nc.line('/join _hidden');
    await nc.expect(
      '! That is not a valid room name: "_hidden" (it must start with a letter or digit; use 1-32 letters, digits, _ . or -) [TC_ERR_BAD_ROOM]\r\n',
    );
    nc.line('/dance');
    await nc.expect('! There is no command /dance (/help lists them) [TC_ERR_UNKNOWN_COMMAND]\r\n');
    nc.line('/pm');
    await nc.expect('! Usage: /pm <nick> <text> [TC_ERR_BAD_ARGUMENT]\r\n');
    nc.line('/pm nobody5 hello');
    await nc.expect('! Nobody called nobody5 is online [TC_ERR_NO_SUCH_USER]\r\n');
    nc.line('/nick 5five');
    await nc.expect(
      '! That is not a valid nick: "5five" (it must start with a letter; use 1-24 letters, digits, _ or -, starting with a letter) [TC_ERR_BAD_NICK]\r\n',
    );
    nc.line('/login secret-password');
    await nc.expect(
      '! You are already logged in as wording5: /login only answers the password prompt [TC_ERR_ALREADY_REGISTERED]\r\n',
    );
    nc.line('/mode words5 +k sesame');
    await nc.expect('! Room modes need a registered nick: /register <password> first [TC_ERR_NOT_REGISTERED_NICK]\r\n');
    nc.line('/part');
    await nc.expect('* You are in no room now');
    nc.line('hello?');
    await nc.expect('! You are not in a room: /join <room> to enter one [TC_ERR_NOT_IN_ROOM]\r\n');
    // No line puts the code first any more.
    expect(nc.lines.filter((l) => l.startsWith('! ['))).toEqual([]);
  });

  it('counts history in words: "last message" for one', async () => {
    const writer = await json('writer6');
    await writer.join('quiet6');
    writer.send({ type: 'msg', room: 'quiet6', text: 'only one', ref: 'one' });
    await writer.next('ack', (a) => a.ref === 'one');
    const nc = await plain();
    await nc.login('reader6', 'quiet6');
    await nc.expect('* --- last message ---\r\nwriter6: only one\r\n* --- end of history ---');
  });
});
