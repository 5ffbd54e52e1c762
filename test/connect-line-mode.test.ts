/**
 * `teamchat connect` in line mode against a real `teamchat serve` child process: two real
 * client processes chat, switch rooms, exchange private messages, and survive a server restart
 * without losing or repeating a message. Then what a script needs: giving up (exit 1) on a
 * server that is not there, refusing a bad address (exit 2), and the resume token kept in
 * `$TEAMCHAT_HOME` between runs. Every client runs with a temporary `TEAMCHAT_HOME`.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HISTORY_DEFAULT, HISTORY_MAX, MAX_LINE_BYTES, PROTOCOL_VERSION, type ClientFrame } from '@teamchat/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import { spawnServer, spawnTeamchat, type SpawnedServer } from './helpers/spawn-server.js';
import { fakeServer, sendFrame } from './helpers/fake-ndjson-server.js';
import { until } from './helpers/waits.js';

const WAIT_MS = 20_000;

/** The clients' `TEAMCHAT_HOME`: never the real home folder. */
const HOME = mkdtempSync(path.join(tmpdir(), 'teamchat-connect-home-'));
afterAll(() => rmSync(HOME, { recursive: true, force: true }));

/** A `teamchat connect` process in line mode, with its output collected line by line. */
class LineClient {
  readonly lines: string[] = [];
  #partial = '';
  exitCode: number | null | undefined = undefined;
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const parts = (this.#partial + d).split('\n');
      this.#partial = parts.pop()!;
      this.lines.push(...parts);
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => this.lines.push(`stderr: ${d.trimEnd()}`));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve((this.exitCode = code))));
  }

  static start(port: number, nick: string, rooms: string[] = []): LineClient {
    return LineClient.run(['connect', `127.0.0.1:${port}`, '--nick', nick, ...rooms.flatMap((r) => ['--room', r])]);
  }

  /** `teamchat <args>` with a temporary TEAMCHAT_HOME (unless `env` names another). */
  static run(args: string[], env: NodeJS.ProcessEnv = {}): LineClient {
    return new LineClient(spawnTeamchat(args, { TEAMCHAT_HOME: HOME, ...env }));
  }

  /** What the process wrote on stderr, one entry per chunk. */
  get stderr(): string {
    return this.lines
      .filter((l) => l.startsWith('stderr: '))
      .map((l) => l.slice('stderr: '.length))
      .join('\n');
  }

  type(line: string): void {
    this.child.stdin!.write(line + '\n');
  }

  count(line: string): number {
    return this.lines.filter((l) => l === line).length;
  }

  /** Waits for a line (exact string or pattern) at or after index `from`; returns its index. */
  async waitFor(want: string | RegExp, from = 0): Promise<number> {
    return until(
      () => {
        const i = this.lines.findIndex((l, k) => k >= from && (typeof want === 'string' ? l === want : want.test(l)));
        return i >= 0 ? i : undefined;
      },
      `the line ${String(want)}`,
      { timeoutMs: WAIT_MS, describe: () => this.lines.join('\n') },
    );
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

    for (const line of [
      '[ops] erin: meanwhile 1',
      '[ops] erin: meanwhile 2',
      '[ops] erin: meanwhile 3',
      '[ops] dave: typed while offline',
      '[ops] dave: before the restart',
    ]) {
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

  it("keeps the server's resume token between runs and is recognised with it", async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'teamchat-token-home-'));
    try {
      const run = async (flags: string[] = []) => {
        const c = LineClient.run(['connect', `127.0.0.1:${server.tcpPort}`, '--nick', 'tokyo', ...flags], {
          TEAMCHAT_HOME: home,
        });
        clients.push(c);
        c.child.stdin!.end('/join tokens\n');
        expect(await c.exited).toBe(0);
      };
      const stored = () =>
        JSON.parse(readFileSync(path.join(home, 'tokens.json'), 'utf8')).servers[`127.0.0.1:${server.tcpPort}`]
          ?.tokyo as string | undefined;
      await run();
      const first = stored();
      expect(first).toEqual(expect.any(String));
      // Presented on the next run, it is recognised: the server answers with the same token.
      await run();
      expect(stored()).toBe(first);
      // A throwaway identity leaves the stored one alone.
      await run(['--no-token']);
      expect(stored()).toBe(first);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('rejects a bad nick as a usage error (exit 2)', async () => {
    const bad = start('9lives');
    expect(await bad.exited).toBe(2);
    expect(bad.lines.join('\n')).toMatch(/TC_ERR_BAD_NICK/);
  });
});

/** A port where nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  const port = await new Promise<number>((r) =>
    probe.listen(0, '127.0.0.1', () => r((probe.address() as net.AddressInfo).port)),
  );
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

describe('teamchat connect in line mode, when the server cannot be reached', () => {
  const started: LineClient[] = [];
  /** `echo hi | teamchat connect <server> --nick ci <flags>`. */
  const pipeHi = (server: string, flags: string[] = [], env: NodeJS.ProcessEnv = {}) => {
    const c = LineClient.run(['connect', server, '--nick', 'ci', ...flags], env);
    started.push(c);
    c.child.stdin!.end('hi\n');
    return c;
  };

  afterAll(async () => {
    await Promise.all(started.map((c) => c.stop()));
  });

  it('gives up with exit 1 and says the connection was refused when nothing listens on the port', async () => {
    const port = await closedPort();
    const c = pipeHi(`127.0.0.1:${port}`, ['--connect-timeout', '1s']);
    expect(await c.exited).toBe(1);
    expect(c.stderr).toContain(
      `teamchat connect: cannot reach 127.0.0.1:${port}: connection refused (ECONNREFUSED); gave up after 1s`,
    );
    expect(c.lines).toContain(`! cannot reach 127.0.0.1:${port}: connection refused (ECONNREFUSED); gave up after 1s`);
  });

  it('gives up with exit 1 on a host name that does not resolve (timeout from TEAMCHAT_CONNECT_TIMEOUT)', async () => {
    const c = pipeHi('no-such-host.invalid:5555', [], { TEAMCHAT_CONNECT_TIMEOUT: '1s' });
    expect(await c.exited).toBe(1);
    // .invalid never resolves (RFC 2606); without a resolver at all the lookup fails or times out.
    expect(c.stderr).toMatch(
      /teamchat connect: cannot reach no-such-host\.invalid:5555: (host not found \(ENOTFOUND\)|host name lookup failed|timed out looking up)/,
    );
  });

  it('gives up with exit 1 on a port that accepts but is no teamchat server', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => (sockets.add(s), s.on('error', () => {}), s.resume()));
    const port = await new Promise<number>((r) =>
      silent.listen(0, '127.0.0.1', () => r((silent.address() as net.AddressInfo).port)),
    );
    try {
      const c = pipeHi(`127.0.0.1:${port}`, ['--connect-timeout', '1500ms']);
      expect(await c.exited).toBe(1);
      expect(c.stderr).toContain(
        `cannot reach 127.0.0.1:${port}: the connection was accepted, but no teamchat server answered; gave up after 1500ms`,
      );
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it.each([
    ['http://127.0.0.1:1', /bad server address "http:\/\/127\.0\.0\.1:1": drop the "http:\/\/"/],
    ['127.0.0.1:notaport', /bad server address "127\.0\.0\.1:notaport": "notaport" is not a port number \(1-65535\)/],
    ['127.0.0.1:99999', /bad server address "127\.0\.0\.1:99999": port 99999 is out of range \(1-65535\)/],
  ])('refuses the bad address %s at once as a usage error (exit 2)', async (address, message) => {
    const c = pipeHi(address);
    expect(await c.exited).toBe(2);
    expect(c.stderr).toMatch(message);
    expect(c.stderr).toMatch(/\[TC_ERR_BAD_ARGUMENT\]/);
  });

  it('refuses a bad --connect-timeout as a usage error (exit 2)', async () => {
    const c = pipeHi('127.0.0.1:1', ['--connect-timeout', 'soon']);
    expect(await c.exited).toBe(2);
    expect(c.stderr).toMatch(/--connect-timeout/);
  });
});

/**
 * A scripted NDJSON server in this process: welcomes every hello with a resume token, records
 * the hellos, closes on quit.
 */
async function tokenServer(tokenFor: (hello: Extract<ClientFrame, { type: 'hello' }>, n: number) => string) {
  const hellos: Array<Extract<ClientFrame, { type: 'hello' }>> = [];
  const fake = fakeServer(
    () => {},
    (socket, frame) => {
      if (frame.type === 'hello') {
        hellos.push(frame);
        sendFrame(socket, {
          type: 'welcome',
          v: PROTOCOL_VERSION,
          nick: frame.nick,
          server: 'fake',
          rooms: [],
          limits: { maxLineBytes: MAX_LINE_BYTES, historyDefault: HISTORY_DEFAULT, historyMax: HISTORY_MAX },
          token: tokenFor(frame, hellos.length),
          ref: frame.ref,
        });
      } else if (frame.type === 'quit') {
        socket.end();
      }
    },
  );
  return { port: await fake.listen(), hellos, close: fake.close };
}

describe('teamchat connect and the resume token', () => {
  let home: string;
  const tokensFile = () => path.join(home, 'tokens.json');
  /** One scripted run: connects, and quits at EOF. */
  const runOnce = async (port: number, nick: string, flags: string[] = []) => {
    const c = LineClient.run(['connect', `127.0.0.1:${port}`, '--nick', nick, ...flags], { TEAMCHAT_HOME: home });
    c.child.stdin!.end();
    const code = await c.exited;
    return { code, lines: c.lines };
  };

  beforeAll(() => {
    home = mkdtempSync(path.join(tmpdir(), 'teamchat-token-home-'));
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('keeps the token in $TEAMCHAT_HOME/tokens.json (mode 0600) and presents it on the next run', async () => {
    const server = await tokenServer((hello) => hello.token ?? 'tok-alice');
    try {
      expect((await runOnce(server.port, 'alice')).code).toBe(0);
      expect(server.hellos[0].token).toBeUndefined();
      const saved = JSON.parse(readFileSync(tokensFile(), 'utf8'));
      expect(saved).toEqual({ version: 1, servers: { [`127.0.0.1:${server.port}`]: { alice: 'tok-alice' } } });
      if (process.platform !== 'win32') expect(statSync(tokensFile()).mode & 0o777).toBe(0o600);

      expect((await runOnce(server.port, 'Alice')).code).toBe(0);
      expect(server.hellos[1].token).toBe('tok-alice');
      // Another nick on the same machine is another person.
      expect((await runOnce(server.port, 'bob')).code).toBe(0);
      expect(server.hellos[2].token).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('with --no-token neither presents nor saves a token', async () => {
    const server = await tokenServer(() => 'tok-throwaway');
    try {
      expect((await runOnce(server.port, 'carol')).code).toBe(0);
      const before = readFileSync(tokensFile(), 'utf8');
      expect((await runOnce(server.port, 'carol', ['--no-token'])).code).toBe(0);
      expect(server.hellos.map((h) => h.token)).toEqual([undefined, undefined]);
      expect(readFileSync(tokensFile(), 'utf8')).toBe(before);
    } finally {
      await server.close();
    }
  });

  it('ignores a corrupt token file with a warning and replaces it', async () => {
    writeFileSync(tokensFile(), '{"version":1,"servers":{');
    const server = await tokenServer(() => 'tok-dave');
    try {
      const run = await runOnce(server.port, 'dave');
      expect(run.code).toBe(0);
      expect(
        run.lines.some((l) =>
          /^! resume token: ignoring .*tokens\.json: it is not valid JSON; connecting as a new identity$/.test(l),
        ),
      ).toBe(true);
      expect(server.hellos[0].token).toBeUndefined();
      expect(JSON.parse(readFileSync(tokensFile(), 'utf8')).servers[`127.0.0.1:${server.port}`]).toEqual({
        dave: 'tok-dave',
      });
    } finally {
      await server.close();
    }
  });
});
