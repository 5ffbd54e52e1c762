/**
 * Accounts end to end: a registered nick needs its password (NDJSON hello, the plain-text prompt,
 * a PASS first line), wrong passwords are refused and slowed, and --require-accounts makes every
 * nick register. Real `teamchat serve` processes over real TCP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient, PlainClient } from './helpers/chat-clients.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

const PASSWORD = 'correct-horse-battery';

describe('teamchat serve: accounts', () => {
  let server: SpawnedServer;
  const clients: { close(): void }[] = [];
  const json = async () => {
    const c = await JsonClient.connect(server.tcpPort);
    clients.push(c);
    return c;
  };
  const plain = async () => {
    const c = await PlainClient.connect(server.tcpPort);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await spawnServer({ args: ['--auth-failure-delay', '100ms', '--no-flood-control'] });
    // alice registers her nick and leaves.
    const alice = await json();
    await alice.hello('alice');
    alice.send({ type: 'register', password: PASSWORD, ref: 'reg' });
    await alice.next('registered', (f) => f.ref === 'reg');
    alice.close();
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.cleanup();
  });

  it('asks for the password of a registered nick and keeps the connection open for another try', async () => {
    const c = await json();
    c.send({ type: 'hello', v: 1, nick: 'alice', ref: 'h1' });
    expect(await c.next('error', (f) => f.ref === 'h1')).toMatchObject({ code: 'TC_ERR_AUTH_REQUIRED' });
    c.send({ type: 'hello', v: 1, nick: 'ALICE', password: 'not-the-password', ref: 'h2' });
    expect(await c.next('error', (f) => f.ref === 'h2')).toMatchObject({ code: 'TC_ERR_BAD_PASSWORD' });
    c.send({ type: 'hello', v: 1, nick: 'alice', password: PASSWORD, ref: 'h3' });
    expect(await c.next('welcome')).toMatchObject({ nick: 'alice', account: true, ref: 'h3' });
    c.close();
  });

  it('logs in and runs the commands pipelined behind the hello in one round trip', async () => {
    const c = await json();
    c.send({ type: 'hello', v: 1, nick: 'alice', password: PASSWORD });
    c.send({ type: 'join', room: 'pipelined', ref: 'j' });
    c.send({ type: 'msg', room: 'pipelined', text: 'right after hello', ref: 'm' });
    await c.next('welcome');
    expect(await c.next('joined', (f) => f.ref === 'j')).toMatchObject({ room: 'pipelined' });
    expect(await c.next('ack', (f) => f.ref === 'm')).toMatchObject({ ref: 'm' });
    expect(c.frames.some((f) => f.type === 'error')).toBe(false);
    c.close();
  });

  it('asks a plain-text user for the password after the nickname', async () => {
    const p = await plain();
    await p.expect('Enter nickname: ');
    p.line('alice');
    await p.expect('Password: ');
    p.line('wrong-password!');
    await p.expect('[TC_ERR_BAD_PASSWORD]');
    await p.expect('Password: ');
    p.line(PASSWORD);
    await p.expect('Welcome to teamchat, alice!');
    await p.expect('Enter room: ');
    p.close();
  });

  it('accepts a PASS first line from plain-text scripts', async () => {
    const p = await plain();
    p.line(`PASS ${PASSWORD}`);
    p.line('alice');
    p.line('scripted');
    await p.expect('Welcome to teamchat, alice!');
    await p.expect('* Now talking in scripted');
    expect(p.text).not.toContain('Password: ');
    p.close();
  });

  it('refuses /nick to a registered nick and lets unregistered nicks work as before', async () => {
    const bob = await json();
    expect(await bob.hello('bob')).not.toHaveProperty('account');
    bob.send({ type: 'nick', nick: 'Alice', ref: 'n' });
    expect(await bob.next('error', (f) => f.ref === 'n')).toMatchObject({ code: 'TC_ERR_AUTH_REQUIRED' });
    bob.send({ type: 'register', password: 'short', ref: 'weak' });
    expect(await bob.next('error', (f) => f.ref === 'weak')).toMatchObject({ code: 'TC_ERR_WEAK_PASSWORD' });
    bob.close();
  });

  it('closes a connection after five wrong passwords, each answered after a growing delay', async () => {
    const c = await json();
    for (let i = 1; i <= 4; i++) {
      c.send({ type: 'hello', v: 1, nick: 'alice', password: `guess-number-${i}`, ref: `g${i}` });
      expect(await c.next('error', (f) => f.ref === `g${i}`)).toMatchObject({ code: 'TC_ERR_BAD_PASSWORD' });
    }
    c.send({ type: 'hello', v: 1, nick: 'alice', password: 'guess-number-5', ref: 'g5' });
    expect(await c.next('bye')).toMatchObject({ code: 'TC_ERR_TOO_MANY_FAILURES' });
    await c.waitClosed();
  });

  it('keeps the password hash across a restart and never prints a password', async () => {
    const before = server.stdout() + server.stderr();
    await server.restart();
    const c = await json();
    c.send({ type: 'hello', v: 1, nick: 'alice', password: 'not-the-password', ref: 'x' });
    expect(await c.next('error', (f) => f.ref === 'x')).toMatchObject({ code: 'TC_ERR_BAD_PASSWORD' });
    c.send({ type: 'hello', v: 1, nick: 'alice', password: PASSWORD, ref: 'y' });
    expect(await c.next('welcome')).toMatchObject({ account: true });
    const logs = before + server.stdout() + server.stderr();
    expect(logs).toContain('account registered: alice');
    for (const secret of [PASSWORD, 'not-the-password', 'wrong-password!', 'guess-number-'])
      expect(logs).not.toContain(secret);
    c.close();
  });
});

describe('teamchat serve --require-accounts', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnServer({ args: ['--require-accounts', '--no-flood-control'] });
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it('turns away an unregistered nick and registers a new user in one hello', async () => {
    const c = await JsonClient.connect(server.tcpPort);
    c.send({ type: 'hello', v: 1, nick: 'newbie', ref: 'a' });
    const refused = await c.next('error', (f) => f.ref === 'a');
    expect(refused.code).toBe('TC_ERR_AUTH_REQUIRED');
    expect(refused.message).toContain('register');
    c.send({ type: 'hello', v: 1, nick: 'newbie', password: 'x', register: true, ref: 'b' });
    expect(await c.next('error', (f) => f.ref === 'b')).toMatchObject({ code: 'TC_ERR_WEAK_PASSWORD' });
    c.send({ type: 'hello', v: 1, nick: 'newbie', password: PASSWORD, register: true, ref: 'c' });
    expect(await c.next('welcome')).toMatchObject({ nick: 'newbie', account: true });
    c.send({ type: 'nick', nick: 'unregistered', ref: 'n' });
    expect(await c.next('error', (f) => f.ref === 'n')).toMatchObject({ code: 'TC_ERR_AUTH_REQUIRED' });
    c.close();

    const again = await JsonClient.connect(server.tcpPort);
    again.send({ type: 'hello', v: 1, nick: 'newbie', password: PASSWORD, register: true });
    expect(await again.next('welcome')).toMatchObject({ account: true }); // register on a registered nick just logs in
    again.close();
  });

  it('lets a plain-text user choose a password at the prompt', async () => {
    const p = await PlainClient.connect(server.tcpPort);
    await p.expect('Enter nickname: ');
    p.line('typist');
    await p.expect('Choose a password');
    p.line(PASSWORD);
    await p.expect('Welcome to teamchat, typist!');
    p.close();
    const c = await JsonClient.connect(server.tcpPort);
    c.send({ type: 'hello', v: 1, nick: 'typist', ref: 'q' });
    expect(await c.next('error', (f) => f.ref === 'q')).toMatchObject({ code: 'TC_ERR_AUTH_REQUIRED' });
    c.close();
  });
});
