/**
 * Private messages reach only their recipient: live (NDJSON over TCP, WebSocket, plain text), in
 * history (`pm-history`, resume with `pmAfter`, room history) and over every HTTP endpoint
 * (/api/metrics, /api/metrics.csv, /metrics, /healthz, /api/info, the live feed). A third user
 * on every path sees nothing of a conversation between two others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { JsonClient, PlainClient, WsClient } from './helpers/chat-clients.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';
import { until } from './helpers/waits.js';
import { wsText } from './helpers/ws-text.js';

const SECRET = 'the-vault-code-is-4711';
const SECRET_ACTION = 'whispers-the-backup-plan';

let server: SpawnedServer;
let alice: JsonClient;
let bob: JsonClient;
let carol: JsonClient;
let erin: WsClient;
let dave: PlainClient;
const feed: string[] = [];
let live: WebSocket;

beforeAll(async () => {
  server = await spawnServer({ args: ['--metrics-interval', '200ms', '--no-flood-control'] });
  live = new WebSocket(`ws://127.0.0.1:${server.httpPort}/api/live`);
  live.on('message', (data) => feed.push(wsText(data)));
  await new Promise((resolve, reject) => live.once('open', resolve).once('error', reject));

  alice = await JsonClient.connect(server.tcpPort);
  bob = await JsonClient.connect(server.tcpPort);
  carol = await JsonClient.connect(server.tcpPort);
  erin = await WsClient.connect(server.httpPort);
  dave = await PlainClient.connect(server.tcpPort);
  await alice.hello('alice');
  await bob.hello('bob');
  await carol.hello('carol');
  await erin.hello('erin');
  await dave.login('dave', 'lobby');
  for (const c of [alice, bob, carol, erin]) await c.join('lobby');

  alice.send({ type: 'pm', to: 'bob', text: SECRET, ref: 'p1' });
  bob.send({ type: 'pm', to: 'alice', text: SECRET_ACTION, action: true, ref: 'p2' });
  await alice.next('ack', (f) => f.ref === 'p1');
  await bob.next('ack', (f) => f.ref === 'p2');
  // A room message after the private ones: once a bystander has it, it has had its chance to see them.
  alice.send({ type: 'msg', room: 'lobby', text: 'barrier', ref: 'b' });
  await alice.next('ack', (f) => f.ref === 'b');
  await carol.seen('message', (f) => f.text === 'barrier');
  await erin.seen('message', (f) => f.text === 'barrier');
  await dave.expect('alice: barrier');
});

afterAll(async () => {
  live?.terminate();
  for (const c of [alice, bob, carol, erin, dave]) c?.close();
  await server?.cleanup();
});

describe('private messages', () => {
  it('are delivered live to the recipient and the sender only', async () => {
    expect(await bob.seen('pm', (f) => f.text === SECRET)).toMatchObject({ from: 'alice', to: 'bob' });
    expect(await alice.seen('pm', (f) => f.text === SECRET_ACTION)).toMatchObject({
      from: 'bob',
      to: 'alice',
      action: true,
    });
    for (const c of [carol, erin]) {
      expect(c.frames.filter((f) => f.type === 'pm')).toEqual([]);
      expect(JSON.stringify(c.frames)).not.toContain(SECRET);
      expect(JSON.stringify(c.frames)).not.toContain(SECRET_ACTION);
    }
    expect(dave.text).not.toContain(SECRET);
    expect(dave.text).not.toContain(SECRET_ACTION);
    expect(dave.text).not.toContain('[PM');
  });

  it('are in the pm-history of the two participants and nobody else', async () => {
    bob.send({ type: 'pm-history', ref: 'bh' });
    const mine = await bob.next('pm-history', (f) => f.ref === 'bh');
    expect(mine.messages.map((m) => m.text)).toEqual([SECRET, SECRET_ACTION]);

    for (const c of [carol, erin]) {
      c.send({ type: 'pm-history', ref: 'all' });
      expect((await c.next('pm-history', (f) => f.ref === 'all')).messages).toEqual([]);
      c.send({ type: 'pm-history', with: 'alice', ref: 'with' });
      expect((await c.next('pm-history', (f) => f.ref === 'with')).messages).toEqual([]);
      c.send({ type: 'history', room: 'lobby', ref: 'room' });
      const room = await c.next('history', (f) => f.ref === 'room');
      expect(JSON.stringify(room)).not.toContain(SECRET);
    }
    dave.line('/history');
    await dave.expect(/end of history|No older messages/);
    expect(dave.text).not.toContain(SECRET);
  });

  it('are not replayed to a third user resuming with pmAfter', async () => {
    const frank = await JsonClient.connect(server.tcpPort);
    frank.send({ type: 'hello', v: 1, nick: 'frank', pmAfter: 0 });
    await frank.next('welcome');
    const resumed = await frank.next('pm-history');
    expect(resumed.messages).toEqual([]);
    frank.close();
  });

  it('stay private from someone who takes a registered nick after its owner left', async () => {
    bob.send({ type: 'register', password: 'bobs-long-password', ref: 'r' });
    await bob.next('registered', (f) => f.ref === 'r');
    bob.send({ type: 'quit' });
    await bob.waitClosed();
    const impostor = await JsonClient.connect(server.tcpPort);
    impostor.send({ type: 'hello', v: 1, nick: 'bob', pmAfter: 0, ref: 'i' });
    expect(await impostor.next('error', (f) => f.ref === 'i')).toMatchObject({ code: 'TC_ERR_AUTH_REQUIRED' });
    impostor.send({ type: 'pm-history', ref: 'h' });
    expect(await impostor.next('error', (f) => f.ref === 'h')).toMatchObject({ code: 'TC_ERR_NOT_REGISTERED' });
    expect(JSON.stringify(impostor.frames)).not.toContain(SECRET);
    impostor.close();
  });

  it('leave no text and no participants in any HTTP endpoint or the live feed', async () => {
    // Wait for a snapshot that counts both private messages, so every endpoint has seen them.
    await until(
      async () => {
        const body = (await (await fetch(`${server.url}/api/metrics`)).json()) as {
          snapshots: { totals: { privateMessages: number } }[];
        };
        return body.snapshots.reduce((n, s) => n + s.totals.privateMessages, 0) >= 2;
      },
      'a snapshot that counts the private messages',
      { timeoutMs: 20_000, everyMs: 200 },
    );
    const pages: Record<string, string> = {};
    for (const path of ['/api/metrics', '/api/metrics.csv', '/metrics', '/healthz', '/api/info', '/']) {
      const res = await fetch(`${server.url}${path}`);
      pages[path] = await res.text();
      expect(res.status, path).toBeLessThan(500);
    }
    pages['live feed'] = feed.join('\n');
    expect(feed.length).toBeGreaterThan(1);
    for (const [path, body] of Object.entries(pages)) {
      for (const needle of [SECRET, SECRET_ACTION, 'alice', 'bob', '"carol"'])
        expect(body, `${path} contains ${needle}`).not.toContain(needle);
    }
    // The count of private messages is the only trace: an aggregate without names.
    expect(pages['/metrics']).toMatch(/private/);
  });
});
