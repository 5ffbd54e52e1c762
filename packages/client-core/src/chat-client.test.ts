/**
 * ChatClient against scripted NDJSON servers in this process (real TCP sockets on localhost, and
 * one WebSocket server): requests and their typed answers, timeouts, failover to the next
 * address, resume by cursor, dedupe, exactly-once resends by cid, the outbox bound.
 */
import net from 'node:net';
import { encodeFrame, type ClientFrame, type RoomMessage, type ServerFrame } from '@teamchat/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { fakeServer, sendFrame as send } from '../../../test/helpers/fake-ndjson-server.js';
import { until } from '../../../test/helpers/waits.js';
import { ChatClient, type ChatClientOptions, type ClientEvent } from './chat-client.js';
import { ClientError } from './client-error.js';
import { wsText } from '../../../test/helpers/ws-text.js';

type Hello = Extract<ClientFrame, { type: 'hello' }>;

const limits = { maxLineBytes: 8192, historyDefault: 50, historyMax: 500 };
const welcome = (
  hello: Hello,
  rooms: string[] = [],
  extra: Partial<Extract<ServerFrame, { type: 'welcome' }>> = {},
): ServerFrame => ({
  type: 'welcome',
  v: 1,
  nick: hello.nick,
  server: 'fake',
  rooms,
  limits,
  ...(hello.ref !== undefined ? { ref: hello.ref } : {}),
  ...extra,
});
const message = (id: number, text = `m${id}`, nick = 'bob'): RoomMessage => ({
  id,
  ts: id,
  room: 'general',
  nick,
  text,
});
const joined = (history: RoomMessage[], more = false, ref?: string): ServerFrame => ({
  type: 'joined',
  room: 'general',
  topic: null,
  users: ['alice', 'bob'],
  history,
  more,
  ...(ref !== undefined ? { ref } : {}),
});

/** A scripted server that records, per connection, every frame it received. */
async function scripted(
  onFrame: (socket: net.Socket, frame: ClientFrame, index: number) => void,
  onConnect: (socket: net.Socket, index: number) => void = () => {},
) {
  const received: ClientFrame[][] = [];
  const fake = fakeServer(onConnect, (socket, frame, index) => {
    (received[index] ??= []).push(frame);
    onFrame(socket, frame, index);
  });
  const port = await fake.listen();
  cleanup.push(fake.close);
  return {
    port,
    address: { host: '127.0.0.1', port },
    received,
    hellos: () =>
      received.map((frames) => frames.find((f): f is Hello => f.type === 'hello')).filter((h) => h !== undefined),
    /** Drops every open connection. */
    drop: () => fake.sockets.forEach((s) => s.destroy()),
    sockets: fake.sockets,
  };
}

/** A port where nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  const port = await new Promise<number>((r) =>
    probe.listen(0, '127.0.0.1', () => r((probe.address() as net.AddressInfo).port)),
  );
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

function client(options: Partial<ChatClientOptions> & Pick<ChatClientOptions, 'addresses'>): ChatClient {
  const c = new ChatClient({ nick: 'alice', backoff: { initialMs: 10, maxMs: 20, jitter: 0 }, ...options });
  cleanup.push(() => c.destroy());
  return c;
}

function nextEvent<K extends ClientEvent['kind']>(
  c: ChatClient,
  kind: K,
  match: (e: Extract<ClientEvent, { kind: K }>) => boolean = () => true,
): Promise<Extract<ClientEvent, { kind: K }>> {
  return new Promise((resolve) => {
    const off = c.on((e) => {
      if (e.kind === kind && match(e as Extract<ClientEvent, { kind: K }>)) {
        off();
        resolve(e as Extract<ClientEvent, { kind: K }>);
      }
    });
  });
}

/** Every frame passed on to listeners, from now on. */
function framesOf(c: ChatClient): ServerFrame[] {
  const frames: ServerFrame[] = [];
  c.on((e) => e.kind === 'frame' && frames.push(e.frame));
  return frames;
}

async function rejection(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ClientError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('ChatClient requests', () => {
  it('resolves each request with its typed answer, matched by ref whatever the order', async () => {
    const held: Array<() => void> = [];
    const server = await scripted((socket, frame) => {
      if (frame.type === 'hello') send(socket, welcome(frame));
      if (frame.type === 'history')
        held.push(() =>
          send(socket, { type: 'history', room: frame.room, messages: [message(7)], more: false, ref: frame.ref! }),
        );
      if (frame.type === 'users')
        held.push(() => send(socket, { type: 'users', room: frame.room, users: ['alice', 'bob'], ref: frame.ref! }));
      // Answer both, the second one first.
      if (held.length === 2) for (const answer of held.splice(0).reverse()) answer();
    });
    const c = await ChatClient.connect({ addresses: [server.address], nick: 'alice' });
    cleanup.push(() => c.destroy());
    const [page, users] = await Promise.all([c.history('general', { limit: 5 }), c.users('general')]);
    expect(page).toMatchObject({ type: 'history', messages: [message(7)] });
    expect(users.users).toEqual(['alice', 'bob']);
    expect(server.received[0].find((f) => f.type === 'history')).toMatchObject({ room: 'general', limit: 5 });
    expect(c.pendingRequests).toBe(0);
  });

  it("rejects with the server's error code, and still passes the error frame on", async () => {
    const server = await scripted((socket, frame) => {
      if (frame.type === 'hello') send(socket, welcome(frame));
      if (frame.type === 'join')
        send(socket, { type: 'error', code: 'TC_ERR_BAD_KEY', message: 'This room needs a key', ref: frame.ref! });
    });
    const c = await ChatClient.connect({ addresses: [server.address], nick: 'alice' });
    cleanup.push(() => c.destroy());
    const frames = framesOf(c);
    const err = await rejection(c.join('vault'));
    expect(err).toMatchObject({ code: 'TC_ERR_BAD_KEY', frame: { type: 'error' } });
    expect(frames).toContainEqual(expect.objectContaining({ type: 'error', code: 'TC_ERR_BAD_KEY' }));
  });

  it('times a request out, and passes a late answer on as a frame', async () => {
    let answer: (() => void) | null = null;
    const server = await scripted((socket, frame) => {
      if (frame.type === 'hello') send(socket, welcome(frame));
      if (frame.type === 'rooms') answer = () => send(socket, { type: 'rooms', rooms: [], ref: frame.ref! });
    });
    const c = await ChatClient.connect({ addresses: [server.address], nick: 'alice', requestTimeoutMs: 5_000 });
    cleanup.push(() => c.destroy());
    const started = Date.now();
    const err = await rejection(c.roomList({}, { timeoutMs: 100 }));
    expect(err.code).toBe('TC_CLIENT_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(c.pendingRequests).toBe(0);
    const late = nextEvent(c, 'frame', (e) => e.frame.type === 'rooms');
    answer!();
    expect((await late).frame).toMatchObject({ type: 'rooms', rooms: [] });
  });

  it('refuses a request while offline, and fails one in flight when the connection drops', async () => {
    const server = await scripted((socket, frame, index) => {
      if (frame.type === 'hello') send(socket, welcome(frame));
      if (frame.type === 'hello' && frame.pmAfter !== undefined)
        send(socket, { type: 'pm-history', messages: [], more: false });
      if (frame.type === 'history' && index === 0) socket.destroy(); // never answers: drops instead
    });
    const c = client({ addresses: [server.address] });
    expect((await rejection(c.history('general'))).code).toBe('TC_CLIENT_OFFLINE');
    c.start();
    await c.whenReady();
    expect((await rejection(c.history('general'))).code).toBe('TC_CLIENT_DISCONNECTED');
    await c.whenReady(); // and it comes back
  });

  it("answers the server's heartbeat ping", async () => {
    const server = await scripted((socket, frame) => {
      if (frame.type === 'hello') {
        send(socket, welcome(frame));
        send(socket, { type: 'ping', ts: 42 });
      }
    });
    const c = client({ addresses: [server.address] });
    c.start();
    await until(() => server.received[0]?.some((f) => f.type === 'pong') === true, 'the pong');
    expect(server.received[0].find((f) => f.type === 'pong')).toEqual({ type: 'pong', ts: 42 });
  });
});

describe('ChatClient sessions', () => {
  it('asks again with another nick after a refused hello', async () => {
    const server = await scripted((socket, frame) => {
      if (frame.type !== 'hello') return;
      if (frame.nick === 'taken')
        send(socket, {
          type: 'error',
          code: 'TC_ERR_NICK_IN_USE',
          message: 'That nick is already in use',
          ref: frame.ref!,
        });
      else send(socket, welcome(frame));
    });
    const c = client({ addresses: [server.address], nick: 'taken' });
    const refused = nextEvent(c, 'hello-refused');
    c.start();
    expect((await refused).error.code).toBe('TC_ERR_NICK_IN_USE');
    const w = await c.hello({ nick: 'alice2' });
    expect(w.nick).toBe('alice2');
    await c.whenReady();
    expect(c.nick).toBe('alice2');
    expect(server.received[0].filter((f) => f.type === 'hello').map((f) => f.nick)).toEqual(['taken', 'alice2']);
  });

  it('ChatClient.connect rejects with the refusal when the nick is taken', async () => {
    const server = await scripted((socket, frame) => {
      if (frame.type === 'hello')
        send(socket, { type: 'error', code: 'TC_ERR_NICK_IN_USE', message: 'in use', ref: frame.ref! });
    });
    const err = await rejection(ChatClient.connect({ addresses: [server.address], nick: 'alice' }));
    expect(err.code).toBe('TC_ERR_NICK_IN_USE');
  });

  it('stops for good on a wrong password', async () => {
    const server = await scripted((socket, frame) => {
      if (frame.type === 'hello')
        send(socket, { type: 'error', code: 'TC_ERR_BAD_PASSWORD', message: 'Wrong password', ref: frame.ref! });
    });
    const c = client({ addresses: [server.address], password: 'nope-nope' });
    const closed = nextEvent(c, 'closed');
    c.start();
    expect(await closed).toEqual({ kind: 'closed', reason: 'Wrong password [TC_ERR_BAD_PASSWORD]' });
    expect(server.hellos()).toHaveLength(1);
    expect(server.hellos()[0]).toMatchObject({ password: 'nope-nope' });
  });

  it('joins a room asked for while offline at the next session', async () => {
    const server = await scripted((socket, frame) => {
      if (frame.type !== 'hello') return;
      const rooms = Object.keys(frame.rooms ?? {});
      send(socket, welcome(frame, rooms));
      for (const room of rooms)
        send(socket, { type: 'joined', room, topic: null, users: [frame.nick], history: [], more: false });
    });
    const c = client({ addresses: [server.address] });
    const joining = c.join('General');
    c.start();
    expect(await joining).toMatchObject({ type: 'joined', room: 'general' });
    expect(server.hellos()[0].rooms).toEqual({ general: null });
    expect(c.rooms).toEqual(['general']);
  });

  it('speaks NDJSON over WebSocket', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', path: '/ws' });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    cleanup.push(() => new Promise<void>((r) => (wss.clients.forEach((s) => s.terminate()), wss.close(() => r()))));
    const received: ClientFrame[] = [];
    wss.on('connection', (ws) => {
      ws.on('message', (data) => {
        const frame = JSON.parse(wsText(data)) as ClientFrame;
        received.push(frame);
        const reply = (f: ServerFrame) => ws.send(encodeFrame(f).trimEnd());
        if (frame.type === 'hello') reply(welcome(frame));
        if (frame.type === 'msg')
          reply({ type: 'ack', ref: frame.ref!, id: 9, ts: 1, ...(frame.cid ? { cid: frame.cid } : {}) });
      });
    });
    const port = (wss.address() as net.AddressInfo).port;
    const c = await ChatClient.connect({ addresses: [{ host: '127.0.0.1', port }], nick: 'alice', transport: 'ws' });
    cleanup.push(() => c.destroy());
    expect(await c.say('general', 'over ws')).toMatchObject({ type: 'ack', id: 9 });
    expect(received.map((f) => f.type)).toEqual(['hello', 'msg']);
  });
});

describe('ChatClient reconnect and resume', () => {
  it('moves to the next address when a connection is lost, with its token and its cursors', async () => {
    const onHello = (token: string) => (socket: net.Socket, frame: ClientFrame) => {
      if (frame.type !== 'hello') return;
      send(socket, welcome(frame, ['general'], { token }));
      const after = frame.rooms?.general ?? null;
      send(socket, joined(after === null ? [message(1), message(2)] : [message(3)]));
      if (frame.pmAfter !== undefined) send(socket, { type: 'pm-history', messages: [], more: false });
    };
    const a = await scripted(onHello('tok-a'));
    const b = await scripted(onHello('tok-b'));
    const c = client({ addresses: [a.address, b.address], rooms: ['general'] });
    const states: string[] = [];
    c.on((e) => e.kind === 'state' && states.push(`${e.state.status} ${e.state.server}`));
    c.start();
    await c.whenReady();
    expect(c.state.server).toBe(`127.0.0.1:${a.port}`);
    const back = nextEvent(c, 'ready');
    a.drop();
    expect(await back).toEqual({ kind: 'ready', first: false, resent: 0 });
    expect(c.state.server).toBe(`127.0.0.1:${b.port}`);
    expect(b.hellos()[0]).toMatchObject({ nick: 'alice', token: 'tok-a', rooms: { general: 2 }, pmAfter: 2 });
    expect(c.cursor('general')).toBe(3);
    expect(c.token).toBe('tok-b');
    expect(states).toContain(`reconnecting 127.0.0.1:${a.port}`);
    expect(states).toContain(`connecting 127.0.0.1:${b.port}`);
  });

  it('tries the next address when the first cannot be reached, and comes round again', async () => {
    const dead = await closedPort();
    const server = await scripted((socket, frame) => {
      if (frame.type === 'hello') send(socket, welcome(frame));
      if (frame.type === 'hello' && frame.pmAfter !== undefined)
        send(socket, { type: 'pm-history', messages: [], more: false });
    });
    const c = client({ addresses: [{ host: '127.0.0.1', port: dead }, server.address] });
    c.start();
    await c.whenReady();
    expect(c.state.server).toBe(`127.0.0.1:${server.port}`);
    // Lost again: the first address (still dead), then this one.
    const back = nextEvent(c, 'ready');
    server.drop();
    await back;
    expect(server.hellos()).toHaveLength(2);
  });

  it('gives up naming every address when none answers in time', async () => {
    const [p1, p2] = [await closedPort(), await closedPort()];
    const c = client({
      addresses: [
        { host: '127.0.0.1', port: p1 },
        { host: '127.0.0.1', port: p2 },
      ],
      giveUpAfterMs: 200,
    });
    const closed = nextEvent(c, 'closed');
    c.start();
    expect(await closed).toEqual({
      kind: 'closed',
      unreachable: true,
      reason: `cannot reach 127.0.0.1:${p1}, 127.0.0.1:${p2}: connection refused (ECONNREFUSED); gave up after 200ms`,
    });
  });

  it('passes on each message once: the resumed page overlaps what was seen', async () => {
    const server = await scripted((socket, frame, index) => {
      if (frame.type !== 'hello') return;
      send(socket, welcome(frame, ['general']));
      if (frame.pmAfter !== undefined) send(socket, { type: 'pm-history', messages: [], more: false });
      if (index === 0) {
        send(socket, joined([message(1), message(2)]));
        send(socket, { type: 'message', ...message(3) });
        send(socket, { type: 'message', ...message(3) }); // a repeat
      } else {
        send(socket, joined([message(2), message(3), message(4)]));
      }
    });
    const c = client({ addresses: [server.address], rooms: ['general'] });
    const events: Array<{ ids: number[]; resumed: boolean }> = [];
    c.on((e) => {
      if (e.kind !== 'frame') return;
      if (e.frame.type === 'joined') events.push({ ids: e.frame.history.map((m) => m.id), resumed: e.resumed });
      if (e.frame.type === 'message') events.push({ ids: [e.frame.id], resumed: e.resumed });
    });
    c.start();
    await c.whenReady();
    await until(() => events.length === 2, 'the live message');
    const back = nextEvent(c, 'ready');
    server.drop();
    await back;
    expect(server.hellos()[1].rooms).toEqual({ general: 3 });
    expect(events).toEqual([
      { ids: [1, 2], resumed: false },
      { ids: [3], resumed: false },
      { ids: [4], resumed: true },
    ]);
  });

  it('fills a resume gap with history pages before passing the joined on', async () => {
    const server = await scripted((socket, frame, index) => {
      if (frame.type === 'hello') {
        send(socket, welcome(frame, ['general']));
        if (frame.pmAfter !== undefined) send(socket, { type: 'pm-history', messages: [], more: false });
        // Resumed after 10, but only the latest page (40, 41) fits: 11..39 are a gap.
        send(socket, index === 0 ? joined([message(10)]) : joined([message(40), message(41)], true));
      } else if (frame.type === 'history') {
        const first = frame.after === 10;
        send(socket, {
          type: 'history',
          room: 'general',
          messages: first ? [message(11), message(12)] : [message(13)],
          more: first,
          ref: frame.ref!,
        });
      }
    });
    const c = client({ addresses: [server.address], rooms: ['general'] });
    const pages: number[][] = [];
    const frames = framesOf(c);
    c.on((e) => e.kind === 'frame' && e.frame.type === 'joined' && pages.push(e.frame.history.map((m) => m.id)));
    c.start();
    await c.whenReady();
    const back = nextEvent(c, 'ready');
    server.drop();
    await back;
    expect(pages).toEqual([[10], [11, 12, 13, 40, 41]]);
    expect(server.received[1].filter((f) => f.type === 'history')).toEqual([
      expect.objectContaining({ room: 'general', after: 10, before: 40 }),
      expect.objectContaining({ room: 'general', after: 12, before: 40 }),
    ]);
    // The pages were the client's own business.
    expect(frames.filter((f) => f.type === 'history')).toEqual([]);
  });

  it('pages the private messages missed while away', async () => {
    const pm = (id: number) => ({ id, ts: id, from: 'bob', to: 'alice', text: `p${id}` });
    const server = await scripted((socket, frame, index) => {
      if (frame.type === 'hello') {
        send(socket, welcome(frame));
        if (index === 0) send(socket, { type: 'pm', ...pm(5) });
        else send(socket, { type: 'pm-history', messages: [pm(5), pm(6)], more: true });
      } else if (frame.type === 'pm-history') {
        expect(frame).toMatchObject({ after: 6 });
        send(socket, { type: 'pm-history', messages: [pm(7)], more: false, ref: frame.ref! });
      }
    });
    const c = client({ addresses: [server.address] });
    const pms: number[] = [];
    c.on((e) => e.kind === 'frame' && e.frame.type === 'pm' && pms.push(e.frame.id));
    c.start();
    await c.whenReady();
    await until(() => pms.length === 1, 'the first pm');
    const back = nextEvent(c, 'ready');
    server.drop();
    await back;
    expect(server.hellos()[1].pmAfter).toBe(5);
    expect(pms).toEqual([5, 6, 7]);
  });
});

describe('ChatClient sends (exactly once, by cid)', () => {
  it('gives every message a cid and resolves with its ack', async () => {
    const server = await scripted((socket, frame) => {
      if (frame.type === 'hello') send(socket, welcome(frame));
      if (frame.type === 'msg' || frame.type === 'pm')
        send(socket, { type: 'ack', ref: frame.ref!, id: frame.type === 'msg' ? 1 : 2, ts: 1 });
    });
    const c = await ChatClient.connect({ addresses: [server.address], nick: 'alice' });
    cleanup.push(() => c.destroy());
    expect(await c.say('general', 'hi')).toMatchObject({ id: 1 });
    expect(await c.pm('bob', 'psst', { action: true, cid: 'my-own-id_1' })).toMatchObject({ id: 2 });
    const [m, p] = server.received[0].slice(1) as [
      Extract<ClientFrame, { type: 'msg' }>,
      Extract<ClientFrame, { type: 'pm' }>,
    ];
    expect(m).toMatchObject({
      type: 'msg',
      room: 'general',
      text: 'hi',
      cid: expect.stringMatching(/^[A-Za-z0-9_-]{12}$/),
    });
    expect(p).toMatchObject({ type: 'pm', to: 'bob', text: 'psst', action: true, cid: 'my-own-id_1' });
    expect(c.outboxSize).toBe(0);
  });

  it('resends an unacknowledged message after a reconnect, with the same cid, after the resume', async () => {
    const stored = new Map<string, number>();
    const server = await scripted((socket, frame, index) => {
      if (frame.type === 'hello') {
        send(socket, welcome(frame, ['general']));
        if (frame.pmAfter !== undefined) send(socket, { type: 'pm-history', messages: [], more: false });
        send(socket, joined([message(1)]));
      } else if (frame.type === 'msg') {
        // The first connection stores the message and drops before the ack; a repeated cid gets the original ack.
        if (!stored.has(frame.cid!)) stored.set(frame.cid!, 100 + stored.size);
        if (index === 0) socket.destroy();
        else send(socket, { type: 'ack', ref: frame.ref!, id: stored.get(frame.cid!)!, ts: 1, cid: frame.cid! });
      }
    });
    const c = client({ addresses: [server.address], rooms: ['general'] });
    c.start();
    await c.whenReady();
    const back = nextEvent(c, 'ready');
    const ack = c.say('general', 'on the wire when it dropped');
    expect(await back).toMatchObject({ first: false, resent: 1 });
    expect(await ack).toMatchObject({ id: 100 });
    const sent = server.received.flat().filter((f): f is Extract<ClientFrame, { type: 'msg' }> => f.type === 'msg');
    expect(sent).toHaveLength(2);
    expect(sent[1].cid).toBe(sent[0].cid);
    expect(sent[1].ref).not.toBe(sent[0].ref);
    expect(stored.size).toBe(1);
    // Resent once the room is resumed: after the hello.
    expect(server.received[1].map((f) => f.type)).toEqual(['hello', 'msg']);
    expect(c.outboxSize).toBe(0);
  });

  it('queues messages typed while offline and sends them in order once ready', async () => {
    const server = await scripted((socket, frame) => {
      if (frame.type === 'hello') send(socket, welcome(frame));
      if (frame.type === 'msg') send(socket, { type: 'ack', ref: frame.ref!, id: Number(frame.text), ts: 1 });
    });
    const c = client({ addresses: [server.address] });
    const acks = [c.say('general', '1'), c.say('general', '2'), c.say('general', '3')];
    expect(c.outboxSize).toBe(3);
    c.start();
    expect((await Promise.all(acks)).map((a) => a.id)).toEqual([1, 2, 3]);
    expect(server.received[0].filter((f) => f.type === 'msg').map((f) => (f as { text: string }).text)).toEqual([
      '1',
      '2',
      '3',
    ]);
  });

  it('settles a message by the cid of its ack', async () => {
    const server = await scripted((socket, frame) => {
      if (frame.type === 'hello') send(socket, welcome(frame));
      if (frame.type === 'msg') send(socket, { type: 'ack', ref: 'someone-elses-ref', id: 5, ts: 1, cid: frame.cid! });
    });
    const c = await ChatClient.connect({ addresses: [server.address], nick: 'alice' });
    cleanup.push(() => c.destroy());
    expect(await c.say('general', 'hi')).toMatchObject({ id: 5 });
    expect(c.outboxSize).toBe(0);
  });

  it('refuses a message beyond the outbox bound', async () => {
    const c = client({ addresses: [{ host: '127.0.0.1', port: await closedPort() }], maxOutbox: 2 });
    const first = [c.say('general', 'a'), c.pm('bob', 'b')];
    expect(c.outboxFull).toBe(true);
    expect((await rejection(c.say('general', 'c'))).code).toBe('TC_CLIENT_OUTBOX_FULL');
    expect(c.outboxSize).toBe(2);
    c.destroy();
    for (const p of first) expect((await rejection(p)).code).toBe('TC_CLIENT_CLOSED');
    expect(c.outboxSize).toBe(0);
  });

  it("drops a message the server refuses, with the server's code", async () => {
    const server = await scripted((socket, frame) => {
      if (frame.type === 'hello') send(socket, welcome(frame));
      if (frame.type === 'msg')
        send(socket, {
          type: 'error',
          code: 'TC_ERR_NOT_IN_ROOM',
          message: 'You are not in that room',
          ref: frame.ref!,
        });
    });
    const c = await ChatClient.connect({ addresses: [server.address], nick: 'alice' });
    cleanup.push(() => c.destroy());
    expect((await rejection(c.say('nowhere', 'hi'))).code).toBe('TC_ERR_NOT_IN_ROOM');
    expect(c.outboxSize).toBe(0);
  });

  it('refuses a bad cid before sending', async () => {
    const c = client({ addresses: [{ host: '127.0.0.1', port: 1 }] });
    expect(() => c.say('general', 'hi', { cid: 'not valid!' })).toThrow(/not a valid cid/);
  });

  it('rejects what is left in the outbox on quit', async () => {
    const server = await scripted((socket, frame) => {
      if (frame.type === 'hello') send(socket, welcome(frame));
      if (frame.type === 'quit') socket.end();
    });
    const c = await ChatClient.connect({ addresses: [server.address], nick: 'alice' });
    const unacked = c.say('general', 'never acked');
    await c.quit('bye');
    expect((await rejection(unacked)).code).toBe('TC_CLIENT_CLOSED');
    expect(c.isClosed).toBe(true);
    expect(server.received[0].at(-1)).toEqual({ type: 'quit', reason: 'bye' });
  });
});
