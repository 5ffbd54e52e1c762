/**
 * The IRC gateway with a real IRC client: Debian's irssi, driven in tmux, chats with a teamchat
 * NDJSON client in the same room (messages both ways, a private message each way, a topic change,
 * a nick change), reaches "synced" after its join (its MODE and WHO queries answered), and quits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import { hasCommand, ircPortOf } from './helpers/irc.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';
import { TmuxSession } from './helpers/tmux.js';

const runnable = hasCommand('irssi') && hasCommand('tmux');

describe.skipIf(!runnable)('irssi on the IRC gateway', () => {
  let server: SpawnedServer;
  let home: string;
  let irssi: TmuxSession;
  let bob: JsonClient;

  beforeAll(async () => {
    server = await spawnServer({
      args: ['--irc-port', '0', '--server-name', 'irc.teamchat.test', '--irc-history', '10'],
    });
    home = mkdtempSync(path.join(tmpdir(), 'teamchat-irssi-'));
    bob = await JsonClient.connect(server.tcpPort);
    await bob.hello('bob');
    await bob.join('general');
    bob.send({ type: 'msg', room: 'general', text: 'said before anyone from IRC came', ref: 'm0' });
    await bob.next('ack', (a) => a.ref === 'm0');
  }, 60_000);

  afterAll(async () => {
    await irssi?.kill();
    bob?.close();
    await server?.cleanup();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('joins a room, chats with a teamchat client both ways, and quits cleanly', async () => {
    const port = ircPortOf(server);
    irssi = await TmuxSession.start(`irssi --home=${home} -n alice -c 127.0.0.1 -p ${port}`, {
      width: 160,
      height: 45,
      env: { TERM: 'xterm', LANG: 'C.UTF-8' },
    });
    await irssi.waitFor((s) => s.includes('Welcome to the teamchat IRC gateway'), 'the 001 welcome');
    await irssi.type('/join #general');
    await irssi.sendKeys('Enter');
    // irssi waits for the answers to its MODE and WHO queries before it calls a join synced.
    await irssi.waitFor((s) => /Join to #general was synced/.test(s), 'the join to be synced');
    let screen = await irssi.capture();
    expect(screen).toContain('said before anyone from IRC came');

    // IRC -> teamchat
    await irssi.type('hello from irssi');
    await irssi.sendKeys('Enter');
    const heard = await bob.next('message', (m) => m.text === 'hello from irssi');
    expect(heard.nick).toBe('alice');
    expect(heard.room).toBe('general');

    // teamchat -> IRC
    bob.send({ type: 'msg', room: 'general', text: 'hi alice, from teamchat', ref: 'm1' });
    await irssi.waitFor((s) => s.includes('hi alice, from teamchat'), 'the message from bob');

    // private messages both ways
    await irssi.type('/msg bob psst bob');
    await irssi.sendKeys('Enter');
    const pm = await bob.next('pm', (m) => m.text === 'psst bob');
    expect(pm.from).toBe('alice');
    await irssi.type('/query bob');
    await irssi.sendKeys('Enter');
    bob.send({ type: 'pm', to: 'alice', text: 'psst alice', ref: 'p1' });
    await irssi.waitFor((s) => s.includes('psst alice'), 'the private message from bob');

    // a topic change and a nick change by the teamchat user
    bob.send({ type: 'topic', room: 'general', topic: 'release on friday', ref: 't1' });
    await irssi.type('/window goto #general');
    await irssi.sendKeys('Enter');
    await irssi.waitFor((s) => s.includes('release on friday'), 'the topic change');
    bob.send({ type: 'nick', nick: 'robert', ref: 'n1' });
    await irssi.waitFor((s) => /bob is now known as robert/.test(s), 'the nick change');

    // quit: teamchat sees the IRC user leave with its reason
    await irssi.type('/quit see you');
    await irssi.sendKeys('Enter');
    const left = await bob.next('presence', (p) => p.nick === 'alice' && p.event !== 'join');
    expect(left.event).toBe('quit');
    expect(left.reason).toContain('see you');
    screen = await irssi.capture().catch(() => '');
    expect(screen).not.toContain('Unknown command');
  }, 90_000);
});
