/**
 * The real Ink UI in a real terminal: `teamchat connect` runs inside tmux against a real
 * `teamchat serve`; keys go in with send-keys, pastes with paste-buffer, and the screen is read
 * with capture-pane. `bin/teamchat` runs the build: `npm run build` (or `npm test`, which builds
 * first) after changing the sources. The client runs from its esbuild bundle, as installed; the
 * set-up remakes the bundle when the build changed since (scripts/bundle-tui.mjs, a second).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bundleState } from '../packages/cli/src/commands/connect-client.js';
import { JsonClient } from './helpers/chat-clients.js';
import { REPO_ROOT, spawnServer, TEAMCHAT_BIN, type SpawnedServer } from './helpers/spawn-server.js';
import { TmuxSession, tmuxInstalled } from './helpers/tmux.js';
import { timeTuiStart } from './helpers/tui-start.js';

const hasTmux = tmuxInstalled();

/** The client bundle's manifest: see packages/cli/src/commands/connect-client.ts. */
const bundleManifest = pathToFileURL(path.join(REPO_ROOT, 'packages/client/dist/bundle/inputs.json'));

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe.skipIf(!hasTmux)('teamchat connect in a terminal (tmux)', () => {
  let server: SpawnedServer;
  let tmux: TmuxSession | undefined;
  const clients: JsonClient[] = [];
  /** The client's TEAMCHAT_HOME (resume tokens): never the real home folder. */
  let home: string;

  /** Starts the client in a fresh tmux session; `args` follow `connect`. */
  async function startTui(
    args: string,
    options: { width?: number; height?: number; env?: Record<string, string> } = {},
  ): Promise<TmuxSession> {
    // A person's terminal, not CI: with CI set (even to false) Ink renders only a final frame
    // (is-in-ci) and chalk drops every colour and attribute (supports-color).
    const cmd = `env -u CI -u CONTINUOUS_INTEGRATION ${process.execPath} ${TEAMCHAT_BIN} connect ${args}; echo "EXIT=$?"; sleep 60`;
    tmux = await TmuxSession.start(cmd, {
      width: options.width ?? 120,
      height: options.height ?? 40,
      cwd: REPO_ROOT,
      env: { TERM: 'xterm-256color', TEAMCHAT_HOME: home, USER: 'nobody-in-particular', ...options.env },
    });
    return tmux;
  }

  async function client(nick: string, ...rooms: string[]): Promise<JsonClient> {
    const c = await JsonClient.connect(server.tcpPort);
    clients.push(c);
    await c.hello(nick);
    for (const room of rooms) await c.join(room);
    return c;
  }

  /** Ctrl+C, and the exit code. */
  async function quit(t: TmuxSession): Promise<string> {
    await t.sendKeys('C-c');
    const after = await t.waitFor((s) => /EXIT=\d+/.test(s), 'the client to exit');
    return /EXIT=(\d+)/.exec(after)![1];
  }

  beforeAll(async () => {
    if (bundleState(bundleManifest).kind !== 'fresh')
      execFileSync(process.execPath, ['scripts/bundle-tui.mjs'], { cwd: REPO_ROOT, stdio: 'pipe' });
    home = mkdtempSync(path.join(tmpdir(), 'teamchat-tui-home-'));
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

  it('shows the joined rooms in the sidebar and a message from another client', async () => {
    const bob = await client('bob', 'general');
    const t = await startTui(`127.0.0.1:${server.tcpPort} --nick alice --room general --room random`);

    const ready = await t.waitFor(
      (s) => /\[connected\]/.test(s) && /\d #general/.test(s) && /\d #random/.test(s),
      'the sidebar and a connected status bar',
    );
    const sidebar = ready.split('\n').map((row) => row.slice(0, 24));
    expect(sidebar.some((r) => /\d #general/.test(r))).toBe(true);
    expect(sidebar.some((r) => /\d #random/.test(r))).toBe(true);

    bob.send({ type: 'msg', room: 'general', text: 'hello from bob via tcp' });
    await t.waitFor((s) => /<bob> hello from bob via tcp/.test(s), "bob's message in the pane");

    // A message in a room that is not current raises its unread count in the sidebar.
    await bob.join('random');
    bob.send({ type: 'msg', room: 'random', text: 'over here, alice' });
    await t.waitFor((s) => /#random\s+1!/.test(s), 'an unread count with a mention mark on #random');

    await t.type('hi bob, typed in tmux');
    await t.sendKeys('Enter');
    const got = await bob.next('message', (m) => m.nick === 'alice');
    expect(got).toMatchObject({ room: 'general', text: 'hi bob, typed in tmux' });
    await t.waitFor((s) => /<alice> hi bob, typed in tmux/.test(s), 'our own message echoed');

    // Text and Enter in one write to the terminal (one input chunk) are sent too.
    await t.sendKeys('-l', 'and this came with its Enter\r');
    expect(await bob.next('message', (m) => m.nick === 'alice')).toMatchObject({
      text: 'and this came with its Enter',
    });

    // Ctrl+N switches to the next window: #random, where bob's message is.
    await t.sendKeys('C-n');
    await t.waitFor((s) => /<bob> over here, alice/.test(s) && /\[#random\]/.test(s), 'the #random window');

    expect(await quit(t)).toBe('0');
    await bob.next('presence', (p) => p.nick === 'alice' && p.event === 'quit');
    // The full-screen client keeps the server's resume token too, for the next run.
    const tokens = JSON.parse(readFileSync(path.join(home, 'tokens.json'), 'utf8'));
    expect(tokens.servers[`127.0.0.1:${server.tcpPort}`]).toEqual({ alice: expect.any(String) });
  });

  it('measures the time from the command to a connected screen', async () => {
    // Unbundled (no esbuild), the full UI takes about twice as long: say which ran.
    const bundled = bundleState(bundleManifest).kind === 'fresh';
    const {
      connectedMs: connected,
      fullMs: full,
      runs,
    } = await timeTuiStart({
      tcpPort: server.tcpPort,
      home,
      runs: 5,
    });
    console.log(
      `TUI start-up (command typed to screen, median of ${runs.length}, ${bundled ? 'bundled client' : 'unbundled client'}): ` +
        `connected status ${connected} ms, full UI ${full} ms ` +
        `(runs: ${runs.map((f) => `${f.connectedMs}/${f.fullMs}`).join(', ')} ms)`,
    );
    // The target (issue #10) is 0.5 s to the connected status and to the full UI; a loaded 2-core
    // box is slower: fail only on a real regression.
    expect(connected).toBeLessThan(5_000);
    expect(full).toBeLessThan(10_000);
  });

  it('puts the activity list first in the status bar of a narrow terminal', async () => {
    const bob = await client('bob', 'general', 'random', 'ops');
    const t = await startTui(`127.0.0.1:${server.tcpPort} --nick narrow --room general --room random --room ops`, {
      width: 50,
      height: 16,
    });
    await t.waitFor((s) => s.includes('[connected]') && s.includes('[#general]'), 'connected in #general');
    bob.send({ type: 'msg', room: 'random', text: 'news' });
    bob.send({ type: 'msg', room: 'ops', text: 'narrow: look' });
    const screen = await t.waitFor((s) => s.includes('[act: 3,4!]'), 'the activity list');
    const bar = screen.split('\n').find((r) => r.includes('[act:'))!;
    expect(bar.startsWith(' [act: 3,4!] [connected]')).toBe(true);
  });

  it('sends pasted lines one by one, and asks before a paste of more than 5 lines', async () => {
    const bob = await client('bob', 'paste');
    const t = await startTui(`127.0.0.1:${server.tcpPort} --nick paster --room paste`);
    await t.waitFor((s) => s.includes('[connected]') && s.includes('[#paste]'), 'connected in #paste');
    /** The next n messages from the client, in order; a timeout shows the client's screen too. */
    const from = async (n: number) => {
      const out: string[] = [];
      try {
        for (let i = 0; i < n; i++) out.push((await bob.next('message', (m) => m.nick === 'paster')).text);
      } catch (e) {
        throw new Error(`${(e as Error).message}\nthe client's screen:\n${await t.capture()}`);
      }
      return out;
    };

    // A real terminal paste: bracketed, since the client turned the mode on.
    let got = from(3);
    await t.paste('first pasted\nsecond pasted\nthird pasted\n', { bracketed: true });
    expect(await got).toEqual(['first pasted', 'second pasted', 'third pasted']);

    // A terminal without bracketed paste: the lines arrive in one chunk.
    got = from(2);
    await t.paste('plain one\nplain two\n');
    expect(await got).toEqual(['plain one', 'plain two']);

    const many = Array.from({ length: 12 }, (_, i) => `many ${i + 1}`);
    await t.paste(`${many.join('\n')}\n`, { bracketed: true });
    await t.waitFor((s) => s.includes('Paste 12 lines? (y/n)'), 'the paste confirmation');
    got = from(12);
    await t.type('y');
    expect(await got).toEqual(many);
    // Ink throttles its frames: until the prompt is gone from the screen, a check for the next
    // prompt could pass on this one.
    await t.waitFor((s) => !s.includes('Paste 12 lines'), 'the first confirmation gone');

    await t.paste(`${many.join('\n')}\n`, { bracketed: true });
    await t.waitFor((s) => s.includes('Paste 12 lines? (y/n)'), 'the paste confirmation again');
    await t.type('n');
    await t.waitFor((s) => !s.includes('Paste 12 lines') && /^\[#paste\]/m.test(s), 'the input line back');
    got = from(1);
    await t.type('only this\r');
    expect(await got).toEqual(['only this']);
  });

  it('says it cannot connect, in one line however many attempts fail', async () => {
    const port = await closedPort();
    const t = await startTui(`127.0.0.1:${port} --nick lonely`);
    const screen = await t.waitFor(
      (s) => /\(\d+ attempts failed\)/.test(s) && Number(/\((\d+) attempts failed\)/.exec(s)![1]) >= 3,
      'three failed attempts',
      30_000,
    );
    expect(screen).toContain(`Cannot connect to 127.0.0.1:${port} (connection refused); retrying`);
    expect(screen.match(/Cannot connect/g)).toHaveLength(1);
    expect(screen).toMatch(/\[retrying in \d+s\]/);
    expect(await quit(t)).toBe('0');
  });

  it('asks for a nick when none was given, then hints at /join, /rooms and /help', async () => {
    const t = await startTui(`127.0.0.1:${server.tcpPort}`);
    await t.waitFor(
      (s) => s.includes('Choose a nick: nobody-in-particular') && s.includes('[choose a nick]'),
      'the nick prompt with the login name',
    );
    await t.sendKeys('C-u');
    await t.type('newcomer\r');
    const screen = await t.waitFor((s) => s.includes('[connected]') && s.includes('/join <room>'), 'the no-room hint');
    expect(screen).toContain('/rooms');
    expect(screen).toContain('/help');
    expect(screen).toMatch(/\| newcomer \|/);

    await t.type('/help\r');
    await t.waitFor((s) => s.includes('Ctrl+T shows or hides the user list'), '/help with Ctrl+T');

    await t.type('/join fresh-room\r');
    await t.waitFor((s) => s.includes('[#fresh-room]'), 'the new room');
    await t.type('/history\r');
    await t.waitFor(
      (s) => s.includes('Nothing older in #fresh-room: this is the start of its history'),
      'the /history answer',
    );
  });

  it('honours NO_COLOR, and picks the light palette from COLORFGBG', async () => {
    const bob = await client('bob', 'colours');
    let t = await startTui(`127.0.0.1:${server.tcpPort} --nick mono --room colours`, { env: { NO_COLOR: '1' } });
    await t.waitFor((s) => s.includes('[connected]') && s.includes('[#colours]'), 'connected');
    bob.send({ type: 'msg', room: 'colours', text: 'in colour?' });
    await t.waitFor((s) => s.includes('<bob> in colour?'), "bob's line");
    const mono = await t.capture({ escapes: true });
    expect(mono).not.toMatch(/\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;5;\d+)m/);
    expect(mono).toMatch(/\x1b\[[0-9;]*7m/); // inverse stays (status bar)
    await t.kill();

    // bob is slot 4: magenta, ansi256(170) on dark, ansi256(127) on light.
    t = await startTui(`127.0.0.1:${server.tcpPort} --nick lightfan --room colours`, { env: { COLORFGBG: '0;15' } });
    await t.waitFor((s) => s.includes('<bob> in colour?'), "bob's line on a light background");
    const light = await t.capture({ escapes: true });
    expect(light).toMatch(/38;5;127m[^\n]*bob/);
    expect(light).not.toMatch(/38;5;170m/);
    await t.kill();

    t = await startTui(`127.0.0.1:${server.tcpPort} --nick darkfan --room colours --theme dark`, {
      env: { COLORFGBG: '0;15' },
    });
    await t.waitFor((s) => s.includes('<bob> in colour?'), "bob's line with --theme dark");
    expect(await t.capture({ escapes: true })).toMatch(/38;5;170m[^\n]*bob/);
  });
});
