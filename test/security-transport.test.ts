/**
 * Transport security end to end: TLS on both ports (real TLS sockets trusting a self-signed
 * certificate made by openssl), the WebSocket Origin check, the dashboard token, the per-address
 * connection limit, the registration timeout, heartbeats and flood control.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeFrame, PROTOCOL_VERSION } from '@teamchat/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { JsonClient, PlainClient, WsClient } from './helpers/chat-clients.js';
import { makeSelfSignedCert, type SelfSignedCert } from './helpers/security-fixtures.js';
import { spawnServer, spawnTeamchat, type SpawnedServer } from './helpers/spawn-server.js';
import { quietPeriod, until } from './helpers/waits.js';
import { wsText } from './helpers/ws-text.js';

const TOKEN = 'dash-token-0123456789';

function httpsGet(
  url: string,
  ca: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

/** Opens a WebSocket and resolves with the HTTP status of a refused upgrade, or 101. */
function upgradeStatus(url: string, options: WebSocket.ClientOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode!);
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

describe('teamchat serve with TLS, an origin allow-list and a dashboard token', () => {
  let dir: string;
  let cert: SelfSignedCert;
  let server: SpawnedServer;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'teamchat-tls-'));
    cert = makeSelfSignedCert(dir);
    server = await spawnServer({
      args: [
        '--tls-cert',
        cert.certFile,
        '--tls-key',
        cert.keyFile,
        '--dashboard-token',
        TOKEN,
        '--allow-origin',
        'https://team.example.org',
        '--no-flood-control',
      ],
    });
  });

  afterAll(async () => {
    await server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('speaks NDJSON over TLS on the TCP port', async () => {
    const a = await JsonClient.connectTls(server.tcpPort, cert.certPem);
    const b = await JsonClient.connectTls(server.tcpPort, cert.certPem);
    a.send({ type: 'hello', v: 1, nick: 'tlsa' });
    b.send({ type: 'hello', v: 1, nick: 'tlsb' });
    await a.next('welcome');
    await b.next('welcome');
    a.send({ type: 'join', room: 'secure' });
    b.send({ type: 'join', room: 'secure' });
    await a.next('joined');
    await b.next('joined');
    a.send({ type: 'msg', room: 'secure', text: 'over tls', ref: 'm' });
    expect(await b.next('message', (f) => f.text === 'over tls')).toMatchObject({ nick: 'tlsa' });
    a.close();
    b.close();
  });

  it('refuses a client that does not speak TLS, and one that does not trust the certificate', async () => {
    const raw = await JsonClient.connect(server.tcpPort);
    raw.send({ type: 'hello', v: 1, nick: 'plaintext' });
    await raw.waitClosed();
    expect(raw.frames).toEqual([]);
    await expect(JsonClient.connectTls(server.tcpPort, '')).rejects.toThrow(/self-signed|certificate/i);
  });

  it('lets teamchat connect --tls --ca --password log in to a registered nick and chat', async () => {
    const owner = await JsonClient.connectTls(server.tcpPort, cert.certPem);
    owner.send({ type: 'hello', v: 1, nick: 'carla' });
    await owner.next('welcome');
    owner.send({ type: 'register', password: 'carlas-password', ref: 'r' });
    await owner.next('registered');
    owner.close();
    const peer = await JsonClient.connectTls(server.tcpPort, cert.certPem);
    peer.send({ type: 'hello', v: 1, nick: 'peer' });
    await peer.next('welcome');
    peer.send({ type: 'join', room: 'cli' });
    await peer.next('joined');

    const run = (password: string) => {
      const child = spawnTeamchat(
        ['connect', `127.0.0.1:${server.tcpPort}`, '--tls', '--ca', cert.certFile, '--nick', 'carla', '--room', 'cli'],
        {
          TEAMCHAT_PASSWORD: password,
        },
      );
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      return { child, output: () => out, exited };
    };
    const good = run('carlas-password');
    await peer.next('presence', (f) => f.nick === 'carla' && f.event === 'join', 20_000);
    good.child.stdin!.write('hello over tls\n');
    expect(await peer.next('message', (f) => f.text === 'hello over tls', 20_000)).toMatchObject({ nick: 'carla' });
    good.child.stdin!.end();
    await good.exited;

    const bad = run('not-her-password');
    bad.child.stdin!.end();
    await bad.exited;
    expect(bad.output()).toContain('TC_ERR_BAD_PASSWORD');
    peer.close();
  });

  it('serves HTTPS and WSS on the HTTP port', async () => {
    const base = `https://127.0.0.1:${server.httpPort}`;
    const health = await httpsGet(`${base}/healthz`, cert.certPem);
    expect(health.status).toBe(200);
    const ws = new WebSocket(`wss://127.0.0.1:${server.httpPort}/ws`, { ca: cert.certPem });
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(wsText(d)));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    // A bare WebSocket (WsClient has no TLS options): one message is one frame, without the line's newline.
    ws.send(encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: 'wssuser' }).slice(0, -1));
    await until(() => frames.length > 0, 'the first frame over WSS');
    expect(frames[0]).toContain('"welcome"');
    ws.terminate();
  });

  it('protects the dashboard and metrics with the token, and leaves /healthz open', async () => {
    const base = `https://127.0.0.1:${server.httpPort}`;
    for (const p of ['/', '/api/metrics', '/api/metrics.csv', '/metrics', '/api/info']) {
      const res = await httpsGet(`${base}${p}`, cert.certPem);
      expect(res.status, p).toBe(401);
      expect(JSON.parse(res.body).error.code).toBe('TC_HTTP_UNAUTHORIZED');
      expect((await httpsGet(`${base}${p}`, cert.certPem, { authorization: 'Bearer wrong' })).status, p).toBe(401);
      expect((await httpsGet(`${base}${p}`, cert.certPem, { authorization: `Bearer ${TOKEN}` })).status, p).toBe(200);
    }
    const health = JSON.parse((await httpsGet(`${base}/healthz`, cert.certPem)).body);
    expect(Object.keys(health).sort()).toEqual(expect.arrayContaining(['status', 'connections']));

    // ?token= sets an HttpOnly SameSite=Strict cookie and redirects to the clean URL.
    const login = await httpsGet(`${base}/?token=${TOKEN}&range=1h`, cert.certPem);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/?range=1h');
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Secure/);
    const pair = cookie.split(';')[0];
    expect((await httpsGet(`${base}/api/metrics`, cert.certPem, { cookie: pair })).status).toBe(200);
    expect((await httpsGet(`${base}/?token=wrong`, cert.certPem)).status).toBe(401);

    // The live feed upgrade too.
    expect(await upgradeStatus(`wss://127.0.0.1:${server.httpPort}/api/live`, { ca: cert.certPem })).toBe(401);
    expect(
      await upgradeStatus(`wss://127.0.0.1:${server.httpPort}/api/live`, {
        ca: cert.certPem,
        headers: { cookie: pair },
      }),
    ).toBe(101);
  });

  it('refuses chat WebSockets from other origins with 403, and allows its own and listed ones', async () => {
    const url = `wss://127.0.0.1:${server.httpPort}/ws`;
    expect(await upgradeStatus(url, { ca: cert.certPem, origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(url, { ca: cert.certPem, origin: `https://127.0.0.1:${server.httpPort}` })).toBe(101);
    expect(await upgradeStatus(url, { ca: cert.certPem, origin: 'https://team.example.org' })).toBe(101);
    expect(await upgradeStatus(url, { ca: cert.certPem })).toBe(101); // no Origin: not a browser
  });
});

/**
 * One server for these tests (each start costs seconds on this machine), but no test depends on
 * another: the per-address connection limit is the state they share, so each test connects from a
 * loopback address of its own (127.0.0.0/8 is all loopback, and the limit counts each address
 * apart). Only `teamchat connect`, which cannot choose its source address, uses 127.0.0.1, and no
 * other test does. Flood budgets belong to each connection; nicks and rooms are each test's own.
 */
describe('teamchat serve limits: connections per address, registration timeout, heartbeats, flood control', () => {
  let server: SpawnedServer;
  /** What the current test opened: closed after it, whatever happened. */
  const opened: { close(): void }[] = [];
  const own = <T extends { close(): void }>(c: T): T => {
    opened.push(c);
    return c;
  };

  beforeAll(async () => {
    // Production limits (flood control on), with a low per-address limit and short timers.
    server = await spawnServer({
      productionLimits: true,
      args: [
        '--max-connections-per-ip',
        '4',
        '--no-exempt-loopback',
        '--registration-timeout',
        '1s',
        '--heartbeat-interval',
        '800ms',
        '--heartbeat-timeout',
        '1500ms',
      ],
    });
  });

  afterEach(() => {
    for (const c of opened.splice(0)) c.close();
  });

  afterAll(async () => {
    await server?.cleanup();
  });

  it('closes a connection that picks no nick in time with a coded bye', async () => {
    const from = '127.0.0.11';
    const silent = own(await JsonClient.connectFrom(server.tcpPort, from));
    silent.send({ type: 'ping', ref: 'just-pinging' });
    await silent.next('pong');
    expect(await silent.next('bye')).toMatchObject({ code: 'TC_ERR_REGISTRATION_TIMEOUT' });
    await silent.waitClosed();

    const human = own(await PlainClient.connectFrom(server.tcpPort, from));
    await human.expect('Enter nickname: ');
    await human.expect('[TC_ERR_REGISTRATION_TIMEOUT]');
    await human.waitClosed();
  });

  it('pings an idle NDJSON connection, keeps it while it answers, and drops it when it stops', async () => {
    const c = own(await JsonClient.connectFrom(server.tcpPort, '127.0.0.12'));
    await c.hello('pinged');
    for (let i = 0; i < 3; i++) {
      const ping = await c.next('ping');
      expect(typeof ping.ts).toBe('number');
      c.send({ type: 'pong', ts: ping.ts });
    }
    expect(c.closed).toBe(false);
    // Now it stays silent, like a half-open connection.
    expect(await c.next('bye')).toMatchObject({ code: 'TC_ERR_PING_TIMEOUT' });
    await c.waitClosed();
  });

  it('pings WebSocket clients with control frames and drops one that does not answer', async () => {
    const from = '127.0.0.13';
    const answering = own(await WsClient.connectFrom(server.httpPort, from)); // the ws library answers pings itself
    await answering.hello('wsalive');
    let pings = 0;
    answering.ws.on('ping', () => pings++);

    const silent = new WebSocket(`ws://127.0.0.1:${server.httpPort}/ws`, { autoPong: false, localAddress: from });
    own({ close: () => silent.terminate() });
    const silentFrames: string[] = [];
    silent.on('message', (d) => silentFrames.push(wsText(d)));
    await new Promise((resolve, reject) => silent.once('open', resolve).once('error', reject));
    // A bare WebSocket, so that it can refuse to answer pings (autoPong: false); one message is one frame.
    silent.send(encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: 'wsdead' }).slice(0, -1));
    await new Promise<void>((resolve) => silent.once('close', () => resolve()));
    expect(silentFrames.at(-1)).toContain('TC_ERR_PING_TIMEOUT');
    expect(pings).toBeGreaterThan(0);
    expect(answering.closed).toBe(false);
  });

  it('answers the connection over the per-address limit with a coded bye, and frees the slot on close', async () => {
    const from = '127.0.0.14';
    const held: JsonClient[] = [];
    for (let i = 0; i < 4; i++) {
      const c = own(await JsonClient.connectFrom(server.tcpPort, from));
      held.push(c);
      await c.hello(`conn${i}`);
    }
    const extra = own(await JsonClient.connectFrom(server.tcpPort, from));
    expect(await extra.next('bye')).toMatchObject({ code: 'TC_ERR_TOO_MANY_CONNECTIONS' });
    await extra.waitClosed();
    const overWs = own(await WsClient.connectFrom(server.httpPort, from));
    expect(await overWs.next('bye')).toMatchObject({ code: 'TC_ERR_TOO_MANY_CONNECTIONS' });
    await overWs.waitClosed();

    // The slot is freed once the server has seen the close, which no frame tells this side: try
    // again until a connection from the same address is welcomed (each refused try frees itself).
    held[0].close();
    await until(
      async () => {
        const again = own(await JsonClient.connectFrom(server.tcpPort, from));
        again.send({ type: 'hello', v: 1, nick: 'conn-again' });
        const first = await until(
          () => again.frames.find((f) => f.type === 'welcome' || f.type === 'bye'),
          'a welcome or a bye',
        );
        if (first.type === 'bye') expect(first).toMatchObject({ code: 'TC_ERR_TOO_MANY_CONNECTIONS' });
        return first.type === 'welcome';
      },
      'a connection from the same address to be welcomed after one of the four closed',
      { everyMs: 50 },
    );
  });

  it('delays a flood at the budget rate without dropping any of it, and leaves others unaffected', async () => {
    const from = '127.0.0.15';
    const flooder = own(await JsonClient.connectFrom(server.tcpPort, from));
    const bystander = own(await JsonClient.connectFrom(server.tcpPort, from));
    await flooder.hello('flooder');
    await bystander.hello('bystander');
    await flooder.join('busy');
    await bystander.join('busy');
    // Keep both answering the heartbeat while they wait.
    for (const c of [flooder, bystander])
      c.socket.on('data', (d: Buffer | string) => String(d).includes('"ping"') && c.send({ type: 'pong' }));

    // Whatever is left in the flooder's bucket after its hello and join, it holds 5 tokens at most:
    // 20 messages need at least 15 more, earned at 2 a second, so the last waits 7.5 s or more.
    const total = 20;
    const started = performance.now();
    for (let i = 0; i < total; i++) flooder.send({ type: 'msg', room: 'busy', text: `flood ${i}`, ref: `f${i}` });
    bystander.send({ type: 'msg', room: 'busy', text: 'not held up', ref: 'b' });
    await bystander.next('ack', (f) => f.ref === 'b');
    await flooder.next('ack', (f) => f.ref === `f${total - 1}`, 30_000);
    const tookMs = performance.now() - started;
    await bystander.seen('message', (m) => m.text === `flood ${total - 1}`);
    expect(tookMs).toBeGreaterThan(7_000);
    expect(flooder.frames.filter((f) => f.type === 'error')).toEqual([]);
    // Everyone sees them all in order; the bystander's message overtook the flooder's queue.
    const seen = bystander.frames.filter((f) => f.type === 'message').map((f) => (f as { text: string }).text);
    expect(seen.filter((t) => t.startsWith('flood'))).toEqual(Array.from({ length: total }, (_, i) => `flood ${i}`));
    expect(seen.indexOf('not held up')).toBeLessThan(seen.indexOf(`flood ${total - 1}`));
  });

  it("keeps teamchat connect online across heartbeats: it answers the server's pings", async () => {
    // From 127.0.0.1, like the `teamchat connect` process: no other test in this file uses it.
    const peer = own(await JsonClient.connect(server.tcpPort));
    await peer.hello('watcher');
    await peer.join('hb');
    peer.socket.on('data', (d: Buffer | string) => String(d).includes('"ping"') && peer.send({ type: 'pong' }));
    const child = spawnTeamchat(['connect', `127.0.0.1:${server.tcpPort}`, '--nick', 'quiet', '--room', 'hb']);
    own({ close: () => child.kill('SIGKILL') });
    await peer.next('presence', (f) => f.nick === 'quiet' && f.event === 'join', 20_000);
    // The user stays silent; only the client's own answers to pings keep it online.
    await quietPeriod(
      7_000,
      'three times the idle + answer window (800 ms + 1500 ms): a client that did not answer pings would be dropped within one',
    );
    expect(peer.frames.some((f) => f.type === 'presence' && f.nick === 'quiet' && f.event !== 'join')).toBe(false);
    child.stdin!.write('still here\n');
    expect(await peer.next('message', (f) => f.text === 'still here', 20_000)).toMatchObject({ nick: 'quiet' });
    child.stdin!.end();
  });
});
