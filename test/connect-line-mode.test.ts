/**
 * `teamchat connect` in line mode against a real `teamchat serve` child process: two real
 * client processes chat, switch rooms, exchange private messages, and survive a server restart
 * without losing or repeating a message.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import { spawnServer, spawnTeamchat, type SpawnedServer } from './helpers/spawn-server.js';

const WAIT_MS = 20_000;

/** A `teamchat connect` process in line mode, with its output collected line by line. */
class LineClient {
  readonly lines: string[] = [];
  #partial = '';
  #wake: Array<() => void> = [];
  exitCode: number | null | undefined = undefined;
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const parts = (this.#partial + d).split('\n');
      this.#partial = parts.pop()!;
      this.lines.push(...parts);
      for (const w of this.#wake.splice(0)) w();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => this.lines.push(`stderr: ${d.trimEnd()}`));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve((this.exitCode = code))));
  }

  static start(port: number, nick: string, rooms: string[] = []): LineClient {
    return new LineClient(spawnTeamchat(['connect', `127.0.0.1:${port}`, '--nick', nick, ...rooms.flatMap((r) => ['--room', r])]));
  }

  type(line: string): void {
    this.child.stdin!.write(line + '\n');
  }

  count(line: string): number {
    return this.lines.filter((l) => l === line).length;
  }

  /** Waits for a line (exact string or pattern) at or after index `from`; returns its index. */
  async waitFor(want: string | RegExp, from = 0): Promise<number> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const i = this.lines.findIndex((l, k) => k >= from && (typeof want === 'string' ? l === want : want.test(l)));
      if (i >= 0) return i;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(want)}; output:\n${this.lines.join('\n')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.#wake.push(() => (clearTimeout(t), r()));
      });
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

describe('teamchat connect in line mode', () => {
  let server: SpawnedServer;
  const clients: LineClient[] = [];
  const start = (nick: string, rooms: string[] = []) => {
    const c = LineClient.start(server.tcpPort, nick, rooms);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await spawnServer();
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await server?.cleanup();
  });

  it('lets two clients chat, switch rooms and exchange a private message', async () => {
    const alice = start('alice', ['general']);
    await alice.waitFor('* Now talking in general');
    const bob = start('bob', ['general']);
    await bob.waitFor('* Now talking in general');
    await alice.waitFor('* bob has joined general');

    alice.type('hi bob');
    await bob.waitFor('[general] alice: hi bob');
    bob.type('/me waves');
    await alice.waitFor('[general] * bob waves');

    bob.type('/join random');
    bob.type('only in random');
    await bob.waitFor('[random] bob: only in random');
    alice.type('/join random');
    // Entering a room shows its recent history.
    await alice.waitFor('[random] bob: only in random');
    alice.type('/switch general');
    alice.type('back in general');
    await bob.waitFor('[general] alice: back in general');
    expect(bob.count('[random] alice: back in general')).toBe(0);

    alice.type('/pm bob psst, a secret');
    await bob.waitFor('[PM] alice: psst, a secret');
    await alice.waitFor('[PM -> bob] psst, a secret');

    alice.type('/pm nobody hello');
    await alice.waitFor(/^! .*\[TC_ERR_NO_SUCH_USER\]$/);

    bob.child.stdin!.end();
    expect(await bob.exited).toBe(0);
    await alice.waitFor('* bob has quit');
  });

  it('reconnects after a server restart and shows the messages sent meanwhile exactly once', async () => {
    const dave = start('dave', ['ops']);
    await dave.waitFor('* Now talking in ops');
    dave.type('before the restart');
    await dave.waitFor('[ops] dave: before the restart');

    await server.kill();
    const down = await dave.waitFor(/^! Disconnected/);
    // Typed while offline: queued, and sent once the client is back.
    dave.type('typed while offline');
    await dave.waitFor(/message queued/, down);

    // Keep dave away until others have talked on the restarted server.
    dave.child.kill('SIGSTOP');
    try {
      await server.restart();
      const erin = await JsonClient.connect(server.tcpPort);
      try {
        await erin.hello('erin');
        await erin.join('ops');
        for (const n of [1, 2, 3]) {
          erin.send({ type: 'msg', room: 'ops', text: `meanwhile ${n}`, ref: `r${n}` });
          await erin.next('ack', (a) => a.ref === `r${n}`);
        }
      } finally {
        erin.close();
      }
    } finally {
      dave.child.kill('SIGCONT');
    }

    await dave.waitFor(/^\* Rejoined ops/, down);
    await dave.waitFor('[ops] dave: typed while offline', down);
    await dave.waitFor('[ops] erin: meanwhile 3', down);
    dave.type('after the restart');
    await dave.waitFor('[ops] dave: after the restart', down);

    for (const line of ['[ops] erin: meanwhile 1', '[ops] erin: meanwhile 2', '[ops] erin: meanwhile 3', '[ops] dave: typed while offline', '[ops] dave: before the restart']) {
      expect(dave.count(line), line).toBe(1);
    }
    // The resumed page lists the missed messages in order, after the notice.
    const rejoined = dave.lines.findIndex((l) => l.startsWith('* Rejoined ops'));
    const m1 = dave.lines.indexOf('[ops] erin: meanwhile 1');
    expect(rejoined).toBeGreaterThan(down);
    expect(m1).toBeGreaterThan(rejoined);
    expect(dave.lines.indexOf('[ops] erin: meanwhile 2')).toBeGreaterThan(m1);

    // The server stored the offline message once.
    const check = await JsonClient.connect(server.tcpPort);
    try {
      await check.hello('frank');
      const joined = await check.join('ops');
      expect(joined.history.filter((m) => m.text === 'typed while offline')).toHaveLength(1);
    } finally {
      check.close();
    }
  });

  it('exits non-zero with a coded error when the nick is taken', async () => {
    const first = start('grace', ['general']);
    await first.waitFor('* Now talking in general');
    const second = start('grace');
    expect(await second.exited).toBe(1);
    expect(second.lines.some((l) => /^! .*\[TC_ERR_NICK_IN_USE\]$/.test(l))).toBe(true);
  });

  it('rejects a bad nick as a usage error (exit 2)', async () => {
    const bad = start('9lives');
    expect(await bad.exited).toBe(2);
    expect(bad.lines.join('\n')).toMatch(/TC_ERR_BAD_NICK/);
  });
});
