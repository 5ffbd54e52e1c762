/**
 * The team features in the real Ink UI, in tmux, against a real `teamchat serve`: search and a
 * jump to the result in context, an edit and a reaction by someone else shown live, a mention
 * that rings the bell and marks the hotlist, and unread counts cleared by another device of the
 * same account; after a jump, a read marker that goes no further than the screen and a gap filled
 * as PgDn reaches it; `/history` in a thread window; unread private conversations at connect and
 * highlight words kept on the server. `bin/teamchat` runs the build (vitest's global setup builds first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import { REPO_ROOT, spawnServer, TEAMCHAT_BIN, type SpawnedServer } from './helpers/spawn-server.js';
import { TmuxSession, tmuxInstalled } from './helpers/tmux.js';

const hasTmux = tmuxInstalled();

describe.skipIf(!hasTmux)('teamchat connect: team features in a terminal (tmux)', () => {
  let server: SpawnedServer;
  let tmux: TmuxSession | undefined;
  const clients: JsonClient[] = [];
  let home: string;

  async function client(nick: string, extra: Record<string, unknown> = {}): Promise<JsonClient> {
    const c = await JsonClient.connect(server.tcpPort);
    clients.push(c);
    await c.hello(nick, extra);
    return c;
  }

  let refs = 0;
  async function say(c: JsonClient, room: string, text: string): Promise<number> {
    const ref = `s${++refs}`;
    c.send({ type: 'msg', room, text, ref });
    return (await c.seen('ack', (a) => a.ref === ref)).id;
  }

  beforeAll(async () => {
    home = mkdtempSync(path.join(tmpdir(), 'teamchat-tui-team-home-'));
    server = await spawnServer();
  });

  afterEach(async () => {
    await tmux?.kill();
    tmux = undefined;
    for (const c of clients.splice(0)) c.close();
  });

  afterAll(async () => {
    await server?.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it('searches and jumps to a result, shows edits, reactions and mentions live, and drops unread counts read on another device', async () => {
    const password = 'alice password';
    // Alice's phone: registers the account, then goes by another nick so the terminal can be "alice".
    const phone = await client('alice', { register: true, password });
    await phone.join('general');
    await phone.join('random');
    phone.send({ type: 'nick', nick: 'alice_phone', ref: 'n' });
    await phone.seen('nick', (n) => n.ref === 'n');

    const bob = await client('bob');
    await bob.join('general');
    await bob.join('random');
    const target = await say(bob, 'general', 'the deploy-2026 rollout is at noon');
    // Enough later messages that the target is not among those a join brings.
    for (let i = 0; i < 60; i++) await say(bob, 'general', `filler ${i}`);

    const t = await startTui(`127.0.0.1:${server.tcpPort} --nick alice --room general --room random`, {
      TEAMCHAT_PASSWORD: password,
    });
    await t.waitFor(
      (s) => s.includes('[connected]') && s.includes('[#general]') && s.includes('filler 59'),
      'connected in #general',
    );
    expect((await t.capture()).includes('deploy-2026')).toBe(false);

    // Search opens a results window; Enter on the (selected) first result jumps to it in #general.
    await t.type('/search deploy-2026');
    await t.sendKeys('Enter');
    await t.waitFor(
      (s) => /\[1\] #general \d\d:\d\d <bob> the deploy-2026 rollout/.test(s) && s.includes('[?search]'),
      'the search results',
    );
    await t.sendKeys('Enter');
    await t.waitFor(
      (s) => s.includes('[#general]') && /<bob> the deploy-2026 rollout is at noon/.test(s),
      'the message in its room',
    );

    // Bob edits it and reacts to it: both show live, where it is.
    bob.send({ type: 'edit', id: target, text: 'the deploy-2026 rollout is at one', ref: 'e' });
    await t.waitFor((s) => /<bob> the deploy-2026 rollout is at one \(edited\)/.test(s), 'the edit with (edited)');
    bob.send({ type: 'react', id: target, emoji: '🎉', ref: 'r' });
    await t.waitFor((s) => /🎉 1/.test(s), 'the reaction under the message');

    // A mention in another room: the hotlist marks it, the bell rings.
    const bellBefore = await bellFlag(t);
    expect(bellBefore).toBe('0');
    await say(bob, 'random', 'news for everyone');
    const mention = await say(bob, 'random', 'alice: can you look?');
    await t.waitFor((s) => /#random\s+2!/.test(s), 'an unread count with a mention mark on #random');
    expect(await bellFlag(t)).toBe('1');

    // Alice reads #random on her phone: the terminal's count goes away.
    phone.send({ type: 'mark', room: 'random', id: mention, ref: 'mk' });
    await phone.seen('marker', (m) => m.ref === 'mk');
    await t.waitFor((s) => !/#random\s+\d/.test(s) && /#random/.test(s), 'no unread count on #random');
  });

  it('edits and deletes your own last message, and shows a reply with its quoted parent', async () => {
    const bob = await client('bob2');
    await bob.join('team');
    const t = await startTui(`127.0.0.1:${server.tcpPort} --nick carol --room team --no-bell`);
    await t.waitFor((s) => s.includes('[connected]') && s.includes('[#team]'), 'connected in #team');
    await t.type('first draft');
    await t.sendKeys('Enter');
    const mine = await bob.next('message', (m) => m.nick === 'carol');
    // `last` is the newest message of ours the window shows: wait until it shows it.
    await t.waitFor((s) => /<carol> first draft/.test(s), 'our message in the window');
    await t.type('/edit last final text');
    await t.sendKeys('Enter');
    await t.waitFor((s) => /<carol> final text \(edited\)/.test(s), 'our edit');
    bob.send({ type: 'msg', room: 'team', text: 'agreed', replyTo: mine.id, ref: 'rp' });
    await t.waitFor(
      (s) => /↳ carol: final text/.test(s) && /<bob2> agreed/.test(s),
      'the reply under its quoted parent',
    );
    await t.type('/delete last');
    await t.sendKeys('Enter');
    await t.waitFor(
      (s) => /<carol> \(message deleted\)/.test(s) && /↳ carol: \(message deleted\)/.test(s),
      'the tombstone',
    );
    await t.type('/ids');
    await t.sendKeys('Enter');
    await t.waitFor((s) => new RegExp(`#${mine.id} <carol>`).test(s), 'message ids in the pane');

    // The thread window: /history there pages back through its replies, or says there is nothing older.
    await t.type(`/thread ${mine.id}`);
    await t.sendKeys('Enter');
    await t.waitFor((s) => s.includes(`[~thread ${mine.id}]`) && /<bob2> agreed/.test(s), 'the thread window');
    await t.type('/history');
    await t.sendKeys('Enter');
    await t.waitFor(
      (s) => s.includes('Nothing older in this thread: this is the start of its history'),
      'the answer to /history in the thread',
    );
  });

  it('after a jump, marks read only what was on screen, and PgDn fills the gap up to the newest messages', async () => {
    const password = 'dana password';
    const phone = await client('dana', { register: true, password });
    await phone.join('atrium');
    await phone.join('vault');
    phone.send({ type: 'nick', nick: 'dana_phone', ref: 'n' });
    await phone.seen('nick', (n) => n.ref === 'n');
    const bob = await client('bob3');
    await bob.join('vault');
    const target = await say(bob, 'vault', 'the needle-7731 is in the vault');
    // More than a join brings (50) plus the page after the message (25): a gap between them.
    const hay: number[] = [];
    for (let i = 0; i < 90; i++) hay.push(await say(bob, 'vault', `hay ${i}`));

    const t = await startTui(`127.0.0.1:${server.tcpPort} --nick dana --room atrium --no-bell`, {
      TEAMCHAT_PASSWORD: password,
    });
    await t.waitFor(
      (s) => s.includes('[connected]') && s.includes('[#atrium]') && /#vault/.test(s),
      'connected in #atrium',
    );
    await t.type('/search in:vault needle-7731');
    await t.sendKeys('Enter');
    await t.waitFor((s) => /\[1\] #vault .*needle-7731/.test(s), 'the search result');
    await t.sendKeys('Enter');
    let screen = await t.waitFor(
      (s) => s.includes('[#vault]') && /<bob3> the needle-7731 is in the vault/.test(s) && /more lines? below/.test(s),
      'the message in context',
    );

    // The read marker goes as far as the screen shows, not to the newest message of the room.
    const mark = await phone.seen('marker', (m) => m.room === 'vault');
    expect(mark.id).toBeGreaterThanOrEqual(target);
    expect(mark.id).toBeLessThan(hay[25]);

    // PgDn reads on: the gap is filled as it is reached, every message comes, in order, up to the newest.
    const shown = new Set<number>();
    const hayOn = (s: string) => [...s.matchAll(/<bob3> hay (\d+)/g)].map((m) => Number(m[1]));
    for (let i = 0; i < 15 && /more lines? below/.test(screen); i++) {
      hayOn(screen).forEach((n) => shown.add(n));
      const top = Math.max(-1, ...hayOn(screen));
      await t.sendKeys('PageDown');
      screen = await t.waitFor(
        (s) =>
          !s.includes('loading missing messages') && (Math.max(-1, ...hayOn(s)) > top || !/more lines? below/.test(s)),
        'the next page',
      );
    }
    hayOn(screen).forEach((n) => shown.add(n));
    expect(screen).toMatch(/<bob3> hay 89/);
    expect(screen).not.toMatch(/not loaded here/);
    expect([...shown].sort((a, b) => a - b)).toEqual(hay.map((_, i) => i));
    // Back at the newest: read up to it.
    await phone.seen('marker', (m) => m.room === 'vault' && m.id === hay[89]);
  });

  it('shows unread private conversations from the server at connect, and keeps highlight words on the server', async () => {
    const password = 'erin password';
    const phone = await client('erin', { register: true, password });
    await phone.join('lobby');
    await phone.join('ops');
    phone.send({ type: 'highlights', words: ['hotfix'], ref: 'h' });
    await phone.seen('highlights', (h) => h.ref === 'h');
    const gus = await client('gus');
    await gus.join('ops');
    for (const text of ['are you around?', 'the rollout needs you']) {
      const ref = `p${++refs}`;
      gus.send({ type: 'pm', to: 'erin', text, ref });
      await gus.seen('ack', (a) => a.ref === ref);
    }
    phone.send({ type: 'nick', nick: 'erin_phone', ref: 'n' });
    await phone.seen('nick', (n) => n.ref === 'n');

    // A fresh terminal: the conversation with gus is in the sidebar with the server's count.
    const t = await startTui(`127.0.0.1:${server.tcpPort} --nick erin --room lobby --no-bell --highlight release`, {
      TEAMCHAT_PASSWORD: password,
    });
    await t.waitFor((s) => s.includes('[connected]') && /@gus\s+2!/.test(s), 'the conversation with gus, 2 unread');
    // --highlight's word joins the server's list: the phone hears of it.
    expect(await phone.seen('highlights', (h) => h.ref === undefined)).toEqual({
      type: 'highlights',
      words: ['hotfix', 'release'],
    });
    // A server-side word set on the phone marks a mention here.
    await say(gus, 'ops', 'the hotfix is deployed');
    await t.waitFor((s) => /#ops\s+1!/.test(s), 'a mention mark on #ops');

    await t.type('/highlight remove hotfix');
    await t.sendKeys('Enter');
    await t.waitFor((s) => s.includes('Highlight words: release'), 'the new list');
    expect(await phone.seen('highlights', (h) => h.words.join() === 'release')).toEqual({
      type: 'highlights',
      words: ['release'],
    });

    // Opening the conversation shows its messages, fetched from the server.
    await t.type('/switch gus');
    await t.sendKeys('Enter');
    await t.waitFor((s) => s.includes('[@gus]') && s.includes('the rollout needs you'), 'the conversation');
  });

  async function startTui(args: string, env: Record<string, string> = {}): Promise<TmuxSession> {
    const cmd = `env -u CI -u CONTINUOUS_INTEGRATION ${process.execPath} ${TEAMCHAT_BIN} connect ${args}; echo "EXIT=$?"; sleep 60`;
    tmux = await TmuxSession.start(cmd, {
      width: 120,
      height: 40,
      cwd: REPO_ROOT,
      env: { TERM: 'xterm-256color', TEAMCHAT_HOME: home, USER: 'nobody-in-particular', ...env },
    });
    return tmux;
  }

  /** 1 once the program in the session rang the terminal bell. */
  async function bellFlag(t: TmuxSession): Promise<string> {
    return (await t.tmux('display-message', '-p', '-t', t.name, '#{window_bell_flag}')).trim();
  }
});
