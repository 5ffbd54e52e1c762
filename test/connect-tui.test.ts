/**
 * The real Ink UI in a real terminal: `teamchat connect` runs inside tmux against a real
 * `teamchat serve`; keys go in with send-keys and the screen is read with capture-pane.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import { REPO_ROOT, spawnServer, TEAMCHAT_BIN, type SpawnedServer } from './helpers/spawn-server.js';
import { TmuxSession } from './helpers/tmux.js';

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasTmux)('teamchat connect in a terminal (tmux)', () => {
  let server: SpawnedServer;
  let tmux: TmuxSession | undefined;
  let bob: JsonClient | undefined;
  /** The client's TEAMCHAT_HOME (resume tokens): never the real home folder. */
  let home: string;

  beforeAll(async () => {
    home = mkdtempSync(path.join(tmpdir(), 'teamchat-tui-home-'));
    server = await spawnServer();
  });

  afterAll(async () => {
    bob?.close();
    await tmux?.kill();
    await server?.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it('shows the joined rooms in the sidebar and a message from another client', async () => {
    bob = await JsonClient.connect(server.tcpPort);
    await bob.hello('bob');
    await bob.join('general');

    const cmd = `${process.execPath} ${TEAMCHAT_BIN} connect 127.0.0.1:${server.tcpPort} --nick alice --room general --room random; echo "EXIT=$?"; sleep 60`;
    tmux = await TmuxSession.start(cmd, {
      width: 120,
      height: 40,
      cwd: REPO_ROOT,
      // A person's terminal, not CI: with CI set, Ink renders only a final frame (is-in-ci).
      env: { TERM: 'xterm-256color', CI: 'false', CONTINUOUS_INTEGRATION: 'false', TEAMCHAT_HOME: home },
    });

    const ready = await tmux.waitFor((s) => /\[connected\]/.test(s) && s.includes('#general') && s.includes('#random'), 'the sidebar and a connected status bar');
    const sidebar = ready.split('\n').map((row) => row.slice(0, 24));
    expect(sidebar.some((r) => /\d #general/.test(r))).toBe(true);
    expect(sidebar.some((r) => /\d #random/.test(r))).toBe(true);

    bob.send({ type: 'msg', room: 'general', text: 'hello from bob via tcp' });
    await tmux.waitFor((s) => /<bob> hello from bob via tcp/.test(s), "bob's message in the pane");

    // A message in a room that is not current raises its unread count in the sidebar.
    await bob.join('random');
    bob.send({ type: 'msg', room: 'random', text: 'over here, alice' });
    await tmux.waitFor((s) => /#random\s+1!/.test(s), 'an unread count with a mention mark on #random');

    await tmux.type('hi bob, typed in tmux');
    await tmux.sendKeys('Enter');
    const got = await bob.next('message', (m) => m.nick === 'alice');
    expect(got).toMatchObject({ room: 'general', text: 'hi bob, typed in tmux' });
    await tmux.waitFor((s) => /<alice> hi bob, typed in tmux/.test(s), 'our own message echoed');

    // Ctrl+N switches to the next window: #random, where bob's message is.
    await tmux.sendKeys('C-n');
    await tmux.waitFor((s) => /<bob> over here, alice/.test(s) && /\[#random\]/.test(s), 'the #random window');

    await tmux.sendKeys('C-c');
    const after = await tmux.waitFor((s) => /EXIT=\d+/.test(s), 'the client to exit');
    expect(after).toMatch(/EXIT=0/);
    await bob.next('presence', (p) => p.nick === 'alice' && p.event === 'quit');
    // The full-screen client keeps the server's resume token too, for the next run.
    const tokens = JSON.parse(readFileSync(path.join(home, 'tokens.json'), 'utf8'));
    expect(tokens.servers[`127.0.0.1:${server.tcpPort}`]).toEqual({ alice: expect.any(String) });
  });
});
