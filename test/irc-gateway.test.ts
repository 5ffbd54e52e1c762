/**
 * The IRC gateway across real processes: the TLS port; accounts made with `teamchat account
 * register` and used over SASL (a wrong password or an unknown account is refused without side
 * effects); and the core semantics IRC and NDJSON users share: operators and kicks, part reasons,
 * notices, and team features (edits, deletes, reactions) shown to IRC clients.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import { ircPortOf, ircTlsPortOf, RawIrcClient } from './helpers/irc.js';
import { makeSelfSignedCert, type SelfSignedCert } from './helpers/security-fixtures.js';
import { runTeamchat, spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

const open: { close(): void }[] = [];
const track = <T extends { close(): void }>(c: T): T => (open.push(c), c);
const plain = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`).toString('base64');

/** SASL PLAIN after `CAP REQ :sasl`: the server's 903 or 904 is for the caller to wait for. */
async function authenticate(irc: RawIrcClient, account: string, password: string): Promise<void> {
  irc.send('AUTHENTICATE PLAIN');
  await irc.next((l) => l === 'AUTHENTICATE +', 'AUTHENTICATE +');
  irc.send(`AUTHENTICATE ${plain(account, password)}`);
}

describe('the IRC TLS port', () => {
  let server: SpawnedServer;
  let dir: string;
  let cert: SelfSignedCert;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'teamchat-irc-tls-'));
    cert = makeSelfSignedCert(dir);
    server = await spawnServer({
      args: [
        '--irc-port',
        '0',
        '--irc-tls-port',
        '0',
        '--tls-cert',
        cert.certFile,
        '--tls-key',
        cert.keyFile,
        '--server-name',
        'irc.teamchat.test',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await server?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('speaks IRC over TLS on --irc-tls-port, trusting the configured certificate', async () => {
    const irc = track(await RawIrcClient.connect(ircTlsPortOf(server), cert.certPem));
    await irc.register('tlsuser');
    irc.send('JOIN #secure');
    await irc.next((l) => l.startsWith(':tlsuser!') && l.endsWith(' JOIN #secure'), 'its JOIN');
    expect(await irc.next((l) => / 353 /.test(l), 'NAMES')).toContain('@tlsuser');
    // The plain port still speaks plain IRC beside it.
    const clear = track(await RawIrcClient.connect(ircPortOf(server)));
    await clear.register('clearuser');
  });
});

describe('the IRC gateway', () => {
  let server: SpawnedServer;

  beforeAll(async () => {
    server = await spawnServer({
      args: [
        '--irc-port',
        '0',
        '--server-name',
        'irc.teamchat.test',
        '--min-password-length',
        '4',
        '--auth-failure-delay',
        '0',
        '--guest-room-modes',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    for (const c of open) c.close();
    await server?.cleanup();
  });

  it('registers an account with `teamchat account register` through the TCP port, and SASL logs in to it', async () => {
    const run = await runTeamchat([
      'account',
      'register',
      'carla',
      'hunter22',
      '--server',
      `127.0.0.1:${server.tcpPort}`,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('account carla is registered');
    const short = await runTeamchat(['account', 'register', 'dora', 'abc', '--server', `127.0.0.1:${server.tcpPort}`]);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('TC_ERR_WEAK_PASSWORD');
    const usage = await runTeamchat([
      'account',
      'register',
      '9bad',
      'whatever1',
      '--server',
      `127.0.0.1:${server.tcpPort}`,
    ]);
    expect(usage.code).toBe(2);

    const irc = track(await RawIrcClient.connect(ircPortOf(server)));
    irc.send('CAP REQ :sasl');
    await irc.next((l) => / CAP \S+ ACK /.test(l), 'CAP ACK');
    await authenticate(irc, 'carla', 'wrong-one');
    await irc.next((l) => / 904 /.test(l), '904 for a wrong password');
    await authenticate(irc, 'nobody', 'whatever');
    await irc.next((l) => / 904 /.test(l), '904 for an unknown account');
    // Neither refusal logged anyone in: the unknown name is still free for someone else.
    const other = track(await RawIrcClient.connect(ircPortOf(server)));
    await other.register('nobody');
    await authenticate(irc, 'carla', 'hunter22');
    await irc.next((l) => / 903 /.test(l), '903 SASL success');
    irc.send('NICK carla');
    irc.send('USER carla 0 * :Carla');
    irc.send('CAP END');
    await irc.next((l) => / 001 /.test(l), 'the welcome');
  });

  it('lets the creator operate its room: +o, +t, and a kick that NDJSON and IRC users both see', async () => {
    const op = track(await RawIrcClient.connect(ircPortOf(server)));
    await op.register('opal', ['multi-prefix']);
    op.send('JOIN #den');
    await op.next((l) => / 366 /.test(l), 'end of NAMES');
    const bob = track(await JsonClient.connect(server.tcpPort));
    await bob.hello('bobby');
    await bob.join('den');
    const eve = track(await JsonClient.connect(server.tcpPort));
    await eve.hello('evelyn');
    await eve.join('den');

    op.send('MODE #den +t');
    await op.next((l) => l.endsWith('MODE #den +t'), 'the +t echo');
    bob.send({ type: 'topic', room: 'den', topic: 'mine', ref: 't' });
    expect(await bob.next('error', (e) => e.ref === 't')).toMatchObject({ code: 'TC_ERR_NOT_OPERATOR' });

    op.send('MODE #den +o bobby');
    await op.next((l) => l.endsWith('MODE #den +o bobby'), 'the +o echo');
    expect(await bob.next('mode', (m) => m.changes?.some((c) => c.mode === 'o') === true)).toMatchObject({
      by: 'opal',
    });
    op.send('NAMES #den');
    expect(await op.next((l) => / 353 /.test(l), 'NAMES')).toMatch(/@bobby/);

    bob.send({ type: 'kick', room: 'den', nick: 'evelyn', reason: 'off topic', ref: 'k' });
    expect(await eve.next('parted')).toMatchObject({ room: 'den', by: 'bobby', reason: 'off topic' });
    expect(await op.next((l) => / KICK /.test(l), 'the KICK')).toMatch(/^:bobby!\S+ KICK #den evelyn :off topic$/);
    expect(await bob.next('presence', (p) => p.ref === 'k')).toMatchObject({ event: 'kick', nick: 'evelyn' });

    op.send('KICK #den bobby :enough');
    expect(await bob.next('parted')).toMatchObject({ by: 'opal', reason: 'enough' });
  });

  it('carries part reasons and notices, and shows edits, deletions and reactions of NDJSON users to IRC', async () => {
    const irc = track(await RawIrcClient.connect(ircPortOf(server)));
    await irc.register('iris', ['message-tags', 'draft/message-redaction']);
    irc.send('JOIN #lounge');
    await irc.next((l) => / 366 /.test(l), 'end of NAMES');
    const sam = track(await JsonClient.connect(server.tcpPort));
    await sam.hello('samuel');
    await sam.join('lounge');

    irc.send('NOTICE #lounge :heads up');
    expect(await sam.next('message', (m) => m.text === 'heads up')).toMatchObject({ notice: true, nick: 'iris' });
    sam.send({ type: 'msg', room: 'lounge', text: 'a notice back', notice: true });
    await irc.next((l) => / NOTICE #lounge :a notice back$/.test(l), 'the NOTICE');

    sam.send({ type: 'msg', room: 'lounge', text: 'typo here', ref: 'm' });
    const { id } = await sam.next('ack', (a) => a.ref === 'm');
    sam.send({ type: 'edit', id, text: 'no typo here' });
    await irc.next(
      (l) => l.includes(`+draft/reply=${id}`) && l.endsWith('PRIVMSG #lounge :(edited) no typo here'),
      'the edit as a new message',
    );
    sam.send({ type: 'react', id, emoji: '👍' });
    await irc.next((l) => l.includes('+draft/react=👍') && l.includes(' TAGMSG #lounge'), 'the reaction as TAGMSG');
    sam.send({ type: 'delete', id });
    await irc.next((l) => l.endsWith(`REDACT #lounge ${id}`), 'the deletion as REDACT');

    irc.send('PART #lounge :gone fishing');
    expect(await sam.next('presence', (p) => p.event === 'part')).toMatchObject({
      nick: 'iris',
      reason: 'gone fishing',
    });
  });

  it('tells an IRC client of the same account where a teamchat client read up to (MARKREAD)', async () => {
    const phone = track(await JsonClient.connect(server.tcpPort));
    await phone.hello('mira', { register: true, password: 'mira password 1' });
    await phone.join('reading');
    // One nick per person at a time: the phone takes another, and the IRC client logs in as mira.
    phone.send({ type: 'nick', nick: 'mira_phone', ref: 'n' });
    await phone.next('nick', (f) => f.ref === 'n');
    const irc = track(await RawIrcClient.connect(ircPortOf(server)));
    irc.send('CAP REQ :sasl draft/read-marker');
    await irc.next((l) => / CAP \S+ ACK /.test(l), 'CAP ACK');
    await authenticate(irc, 'mira', 'mira password 1');
    await irc.next((l) => / 903 /.test(l), '903 SASL success');
    irc.send('NICK mira');
    irc.send('USER mira 0 * :Mira');
    irc.send('CAP END');
    await irc.next((l) => / 001 /.test(l), 'the welcome');
    irc.send('JOIN #reading');
    await irc.next((l) => / 366 /.test(l), 'end of NAMES');

    const ted = track(await JsonClient.connect(server.tcpPort));
    await ted.hello('teddy');
    await ted.join('reading');
    ted.send({ type: 'msg', room: 'reading', text: 'read me', ref: 'r' });
    const { id } = await ted.next('ack', (a) => a.ref === 'r');
    const sent = await phone.next('message', (m) => m.id === id);
    phone.send({ type: 'mark', room: 'reading', id });
    const line = await irc.next((l) => / MARKREAD #reading /.test(l), 'the MARKREAD');
    expect(line).toMatch(
      new RegExp(`MARKREAD #reading timestamp=${new Date(sent.ts).toISOString().replace(/\./g, '\\.')}$`),
    );
  });

  it('gives each IRC client a room message with the tags its capabilities ask for (rendered once per set)', async () => {
    const port = ircPortOf(server);
    const tagged = [track(await RawIrcClient.connect(port)), track(await RawIrcClient.connect(port))];
    const bare = track(await RawIrcClient.connect(port));
    const timed = track(await RawIrcClient.connect(port));
    await tagged[0].register('tagA', ['message-tags', 'server-time']);
    await tagged[1].register('tagB', ['message-tags', 'server-time']);
    await bare.register('bare');
    await timed.register('timed', ['server-time']);
    for (const c of [...tagged, bare, timed]) {
      c.send('JOIN #profiles');
      await c.next((l) => / 366 /.test(l), 'the join');
    }
    const sam = track(await JsonClient.connect(server.tcpPort));
    await sam.hello('samp');
    await sam.join('profiles');
    sam.send({ type: 'msg', room: 'profiles', text: 'one line, four readers' });
    const heard = async (c: RawIrcClient) => c.next((l) => l.includes('PRIVMSG #profiles :one line'), 'the message');
    const [a, b] = await Promise.all(tagged.map(heard));
    expect(a).toMatch(/^@[^ ]*msgid=\d+/);
    expect(a).toMatch(/^@[^ ]*time=\d{4}-/);
    expect(b).toBe(a);
    expect(await heard(bare)).toBe(':samp!samp@teamchat PRIVMSG #profiles :one line, four readers');
    const t = await heard(timed);
    expect(t).toMatch(/^@time=\d{4}-[^ ;]* :samp!samp@teamchat PRIVMSG/);
  });
});
