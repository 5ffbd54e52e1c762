/**
 * The IRC gateway with WeeChat (Debian's weechat-headless): it connects, joins #general, sends a
 * message and a private message to a teamchat NDJSON client, logs what it receives (its logger
 * plugin writes each buffer to a file), sees a topic change, and quits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';
import { hasCommand, ircPortOf } from './helpers/irc.js';

async function until<T>(check: () => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!hasCommand('weechat-headless'))('WeeChat on the IRC gateway', () => {
  let server: SpawnedServer;
  let dir: string;
  let weechat: ChildProcess | undefined;
  let bob: JsonClient;

  afterAll(async () => {
    weechat?.kill('SIGKILL');
    bob?.close();
    await server?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('chats with a teamchat client in the same room', async () => {
    server = await spawnServer({ args: ['--irc-port', '0', '--server-name', 'irc.teamchat.test'] });
    dir = mkdtempSync(path.join(tmpdir(), 'teamchat-weechat-'));
    bob = await JsonClient.connect(server.tcpPort);
    await bob.hello('bob');
    await bob.join('general');
    const port = ircPortOf(server);
    const commands = [
      `/server add tc 127.0.0.1/${port} -notls -nicks=wee -username=wee -realname=WeeChat`,
      '/set irc.server.tc.autojoin "#general"',
      '/set logger.file.flush_delay 0',
      '/connect tc',
    ].join(';');
    weechat = spawn('weechat-headless', ['--dir', dir, '--stdout', '-r', commands], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await bob.next('presence', (p) => p.nick === 'wee' && p.event === 'join', 20_000);

    bob.send({ type: 'msg', room: 'general', text: 'hello weechat', ref: 'm1' });
    bob.send({ type: 'topic', room: 'general', topic: 'weekly sync', ref: 't1' });
    const logs = path.join(dir, 'logs');
    const channelLog = () => {
      if (!existsSync(logs)) return '';
      const file = readdirSync(logs).find((f) => f.includes('#general'));
      return file ? readFileSync(path.join(logs, file), 'utf8') : '';
    };
    await until(() => /bob\s+hello weechat/.test(channelLog()), "the message in weechat's log of #general");
    await until(() => channelLog().includes('weekly sync'), "the topic change in weechat's log");

    // WeeChat -> teamchat, through its FIFO pipe (the headless client's remote control).
    const fifo = await until(() => readdirSync(dir).find((f) => f.startsWith('weechat_fifo')), "weechat's fifo");
    appendFileSync(
      path.join(dir, fifo),
      'irc.server.tc */msg #general hello from weechat\n*/msg bob psst from weechat\n',
    );
    const heard = await bob.next('message', (m) => m.text === 'hello from weechat');
    expect(heard.nick).toBe('wee');
    const pm = await bob.next('pm', (m) => m.text === 'psst from weechat');
    expect(pm.from).toBe('wee');
    appendFileSync(path.join(dir, fifo), 'irc.server.tc */quit bye now\n');
    const left = await bob.next('presence', (p) => p.nick === 'wee' && p.event === 'quit');
    expect(left.reason).toContain('bye now');
  }, 60_000);
});
