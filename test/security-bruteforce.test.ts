/**
 * Password and room-key guessing end to end. Many real TCP connections, from several loopback
 * addresses (127.0.0.2, .3, ...), guess as fast as they can for a bounded time; the server checks
 * at most five guesses per account and per room key before locking it, answers the rest at once
 * with TC_ERR_LOCKED_OUT (no scrypt), locks an address that sprays many accounts, and lets the
 * owner in once the lockout ends.
 *
 * The server runs in-process (`createServer`, the object `teamchat serve` runs) so that the
 * second test can shorten the lockout; the clients are real sockets over loopback. The
 * per-connection slow-down of wrong passwords is turned off, and flood control and the
 * per-address connection limit lifted: the attacker is as fast as it can be, and what is
 * measured is the lockout alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeFrame, type ClientFrame, type ServerFrame } from '@teamchat/protocol';
import { createServer, type TeamchatServer } from '@teamchat/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityOptions } from '../packages/server/src/transport/security/security-options.js';
import { until } from './helpers/waits.js';

const PASSWORD = 'correct-horse-battery';
const ROOM_KEY = 'open-sesame-42';
const ATTACK_MS = 10_000;
/** Starting PGlite in-process takes a few seconds, more on a busy machine. */
const TEST_TIMEOUT_MS = 120_000;

/** A raw NDJSON client bound to a chosen local address; answers are matched by `ref`. */
class Guesser {
  #buffer = '';
  #next = 0;
  readonly #waiting = new Map<string, (frame: ServerFrame | null) => void>();
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let nl: number;
      while ((nl = this.#buffer.indexOf('\n')) !== -1) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        if (line.trim() === '') continue;
        let frame: ServerFrame & { ref?: string };
        try {
          frame = JSON.parse(line) as ServerFrame & { ref?: string };
        } catch {
          throw new Error(`not an NDJSON frame (a plain-text prompt? the client was silent too long): ${line}`);
        }
        const resolve = frame.ref !== undefined ? this.#waiting.get(frame.ref) : undefined;
        if (resolve) {
          this.#waiting.delete(frame.ref!);
          resolve(frame);
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const resolve of this.#waiting.values()) resolve(null);
      this.#waiting.clear();
    });
  }

  static connect(port: number, localAddress: string): Promise<Guesser> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(new Guesser(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a frame and resolves with the answer carrying its ref (null: the server closed the connection). */
  request(frame: ClientFrame): Promise<ServerFrame | null> {
    if (this.closed) return Promise.resolve(null);
    const ref = `r${this.#next++}`;
    return new Promise((resolve) => {
      this.#waiting.set(ref, resolve);
      this.socket.write(encodeFrame({ ...frame, ref }));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** What the guessers were answered, by error code (`welcome`/`joined` for a success). */
type Tally = Map<string, number>;

function count(tally: Tally, code: string): number {
  return tally.get(code) ?? 0;
}

/**
 * `connections` guessers spread over `addresses`, each guessing in a loop until `durationMs` is
 * over (and its last answer is in); a connection the server closes is replaced.
 */
async function hammer(options: {
  connections: number;
  addresses: string[];
  durationMs: number;
  open: (localAddress: string) => Promise<Guesser>;
  guess: (connection: number, n: number) => ClientFrame;
}): Promise<{ tally: Tally; seconds: number }> {
  const tally: Tally = new Map();
  const started = performance.now();
  const deadline = started + options.durationMs;
  const guessers: Guesser[] = [];
  await Promise.all(
    Array.from({ length: options.connections }, async (_, c) => {
      const address = options.addresses[c % options.addresses.length];
      let g = await options.open(address);
      guessers.push(g);
      for (let n = 0; performance.now() < deadline; n++) {
        const answer = await g.request(options.guess(c, n));
        const code = answer === null ? 'closed' : answer.type === 'error' ? answer.code : answer.type;
        tally.set(code, count(tally, code) + 1);
        if (g.closed && performance.now() < deadline) {
          g = await options.open(address);
          guessers.push(g);
        }
      }
    }),
  );
  for (const g of guessers) g.close();
  return { tally, seconds: (performance.now() - started) / 1000 };
}

function describeTally(tally: Tally): string {
  return [...tally].map(([code, n]) => `${code} ${n}`).join(', ');
}

const servers: { server: TeamchatServer; dir: string }[] = [];

async function startServer(security: SecurityOptions, logs: string[]): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'teamchat-bruteforce-'));
  const server = await createServer({
    host: '127.0.0.1',
    port: 0,
    httpPort: 0,
    store: { kind: 'pglite', dataDir: dir },
    // Every refused login is logged: keep only what the test reads.
    log: (line) => {
      if (/auth lockout|login refused: alice .*wrong password/.test(line)) logs.push(line);
    },
    security: { flood: false, maxConnectionsPerIp: 0, authFailureDelayMs: 0, ...security },
  });
  servers.push({ server, dir });
  const { tcpPort } = await server.listen();
  return tcpPort;
}

/** Registers alice, who creates the room `vault` with a key. */
async function setUpVictims(port: number): Promise<void> {
  const alice = await Guesser.connect(port, '127.0.0.1');
  expect(await alice.request({ type: 'hello', v: 1, nick: 'alice', password: PASSWORD, register: true })).toMatchObject(
    { type: 'welcome', account: true },
  );
  expect(await alice.request({ type: 'join', room: 'vault' })).toMatchObject({ type: 'joined' });
  expect(await alice.request({ type: 'mode', room: 'vault', key: ROOM_KEY })).toMatchObject({
    type: 'mode',
    key: true,
  });
  alice.close();
}

let visitors = 0;
/** A guesser logged in under a fresh unregistered nick, ready to `join`. */
async function visitor(port: number, localAddress: string): Promise<Guesser> {
  const g = await Guesser.connect(port, localAddress);
  const welcome = await g.request({ type: 'hello', v: 1, nick: `mallory${visitors++}` });
  expect(welcome).toMatchObject({ type: 'welcome' });
  return g;
}

afterAll(async () => {
  for (const { server, dir } of servers) {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('guessing passwords and room keys with the default lockouts', () => {
  const logs: string[] = [];
  let port: number;
  beforeAll(async () => {
    port = await startServer({}, logs);
  });

  it(
    'gets at most five guesses checked per account and per room key, however many connections and addresses guess',
    async () => {
      await setUpVictims(port);
      const addresses = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];

      const cpuBefore = process.cpuUsage();
      const [passwords, keys] = await Promise.all([
        hammer({
          connections: 20,
          addresses,
          durationMs: ATTACK_MS,
          open: (address) => Guesser.connect(port, address),
          guess: (c, n) => ({ type: 'hello', v: 1, nick: 'alice', password: `guess-${c}-${n}` }),
        }),
        hammer({
          connections: 20,
          addresses,
          durationMs: ATTACK_MS,
          open: (address) => visitor(port, address),
          guess: (c, n) => ({ type: 'join', room: 'vault', key: `guess-${c}-${n}` }),
        }),
      ]);
      const cpu = process.cpuUsage(cpuBefore);
      const cpuShare = (cpu.user + cpu.system) / 1000 / (passwords.seconds * 1000);

      const checkedPasswords = count(passwords.tally, 'TC_ERR_BAD_PASSWORD');
      const checkedKeys = count(keys.tally, 'TC_ERR_BAD_KEY');
      // The first lockout lasts a minute from the fifth failure: whatever the attack's length, that is the rate.
      const report = (what: string, checked: number, run: { tally: Tally; seconds: number }) =>
        console.log(
          `${what}: ${checked} guesses checked in ${run.seconds.toFixed(1)} s from 20 connections on 5 addresses, ` +
            `then locked for 60 s (<= ${checked} per minute); answers: ${describeTally(run.tally)}`,
        );
      report('password of alice', checkedPasswords, passwords);
      report('key of room vault', checkedKeys, keys);
      console.log(
        `CPU of the test process (server and all 40 attacking clients) during the attack: ${(cpuShare * 100).toFixed(0)}% of one core`,
      );

      // The lockout (one minute) outlasts the attack: one budget of five guesses each.
      expect(checkedPasswords).toBeGreaterThan(0);
      expect(checkedPasswords).toBeLessThanOrEqual(5);
      expect(checkedKeys).toBeGreaterThan(0);
      expect(checkedKeys).toBeLessThanOrEqual(5);
      expect(count(passwords.tally, 'TC_ERR_LOCKED_OUT')).toBeGreaterThan(0);
      expect(count(keys.tally, 'TC_ERR_LOCKED_OUT')).toBeGreaterThan(0);
      expect(count(passwords.tally, 'welcome') + count(keys.tally, 'joined')).toBe(0);
      // The server's own account of wrong passwords agrees with what the clients saw.
      expect(logs.filter((l) => l.includes('wrong password'))).toHaveLength(checkedPasswords);
      expect(logs.filter((l) => l.includes('auth lockout'))).toEqual(
        expect.arrayContaining([
          expect.stringContaining('account:alice locked for 60 s'),
          expect.stringContaining('room-key:vault locked for 60 s'),
        ]),
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'locks an address that tries many accounts after twenty wrong passwords, and only that address',
    async () => {
      const accounts = Array.from({ length: 25 }, (_, i) => `user${i}`);
      await Promise.all(
        accounts.map(async (nick) => {
          const g = await Guesser.connect(port, '127.0.0.1');
          expect(await g.request({ type: 'hello', v: 1, nick, password: PASSWORD, register: true })).toMatchObject({
            type: 'welcome',
          });
          g.close();
        }),
      );

      const spray = await hammer({
        connections: 16,
        addresses: ['127.0.0.7'],
        durationMs: 5_000,
        open: (address) => Guesser.connect(port, address),
        guess: (c, n) => ({
          type: 'hello',
          v: 1,
          nick: accounts[(c + n * 16) % accounts.length],
          password: `spray-${c}-${n}`,
        }),
      });
      const checked = count(spray.tally, 'TC_ERR_BAD_PASSWORD');
      console.log(
        `spraying 25 accounts from one address: ${checked} guesses checked in ${spray.seconds.toFixed(1)} s; answers: ${describeTally(spray.tally)}`,
      );
      expect(checked).toBeGreaterThan(5);
      expect(checked).toBeLessThanOrEqual(20);
      expect(logs).toContainEqual(expect.stringContaining('address 127.0.0.7 locked for 60 s'));

      const locked = await Guesser.connect(port, '127.0.0.7');
      const refused = await locked.request({ type: 'hello', v: 1, nick: 'user0', password: PASSWORD });
      expect(refused).toMatchObject({ type: 'error', code: 'TC_ERR_LOCKED_OUT' });
      expect((refused as { message: string }).message).toMatch(/your address is locked; try again in \d+ s/);
      locked.close();
      // The owners, from elsewhere, are not locked out: no account got five wrong guesses.
      const owner = await Guesser.connect(port, '127.0.0.8');
      expect(await owner.request({ type: 'hello', v: 1, nick: 'user0', password: PASSWORD })).toMatchObject({
        type: 'welcome',
        account: true,
      });
      owner.close();
    },
    TEST_TIMEOUT_MS,
  );
});

describe('guessing passwords and room keys with a short lockout', () => {
  it(
    'lets the owner of the account and the holder of the key in once the lockout ends',
    async () => {
      const LOCK_MS = 2_000;
      const port = await startServer({ authLockout: { lockMs: LOCK_MS } }, []);
      await setUpVictims(port);

      // Five wrong guesses, each from its own connection: the account and the key are locked. The
      // lockouts start after the fifth guesses are sent. The owners, from their own address, wait
      // like everyone else: the answer says how long. Each owner asks right after its lock begins,
      // well inside the 2 s even on a busy machine (the other five guesses would eat into it).
      const attackers: Guesser[] = [];
      const lockedAfter = { password: 0, key: 0 };
      for (let i = 0; i < 5; i++) {
        const g = await Guesser.connect(port, '127.0.0.2');
        attackers.push(g);
        lockedAfter.password = performance.now();
        expect(await g.request({ type: 'hello', v: 1, nick: 'alice', password: `guess-${i}` })).toMatchObject({
          code: 'TC_ERR_BAD_PASSWORD',
        });
      }
      const alice = await Guesser.connect(port, '127.0.0.9');
      const aliceRefused = await alice.request({ type: 'hello', v: 1, nick: 'alice', password: PASSWORD });
      expect(aliceRefused).toMatchObject({ type: 'error', code: 'TC_ERR_LOCKED_OUT' });
      expect((aliceRefused as { message: string }).message).toMatch(/account alice is locked; try again in [12] s/);

      const bob = await visitor(port, '127.0.0.9');
      for (let i = 0; i < 5; i++) {
        const g = await visitor(port, '127.0.0.3');
        attackers.push(g);
        lockedAfter.key = performance.now();
        expect(await g.request({ type: 'join', room: 'vault', key: `guess-${i}` })).toMatchObject({
          code: 'TC_ERR_BAD_KEY',
        });
      }
      for (const g of attackers) g.close();
      expect(await bob.request({ type: 'join', room: 'vault', key: ROOM_KEY })).toMatchObject({
        type: 'error',
        code: 'TC_ERR_LOCKED_OUT',
      });

      // They retry until they are in: the lock lifts on its own, with no further guesses counted.
      const retryUntil = (g: Guesser, frame: ClientFrame, type: string, since: number): Promise<number> =>
        until(
          async () => {
            const answer = await g.request(frame);
            if (answer?.type === type) return performance.now() - since;
            expect(answer).toMatchObject({ type: 'error', code: 'TC_ERR_LOCKED_OUT' });
            return undefined;
          },
          `the lock to lift (${type})`,
          { timeoutMs: LOCK_MS + 10_000, everyMs: 100 },
        );
      const [aliceIn, bobIn] = await Promise.all([
        retryUntil(alice, { type: 'hello', v: 1, nick: 'alice', password: PASSWORD }, 'welcome', lockedAfter.password),
        retryUntil(bob, { type: 'join', room: 'vault', key: ROOM_KEY }, 'joined', lockedAfter.key),
      ]);
      console.log(
        `after a ${LOCK_MS} ms lockout: alice logged in ${aliceIn.toFixed(0)} ms, bob joined vault ${bobIn.toFixed(0)} ms after the fifth wrong guess was sent`,
      );
      expect(aliceIn).toBeGreaterThanOrEqual(LOCK_MS);
      expect(bobIn).toBeGreaterThanOrEqual(LOCK_MS);
      alice.close();
      bob.close();
    },
    TEST_TIMEOUT_MS,
  );
});
