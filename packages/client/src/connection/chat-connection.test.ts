import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HISTORY_DEFAULT,
  HISTORY_MAX,
  MAX_LINE_BYTES,
  NICK_PROMPT,
  PROTOCOL_VERSION,
  type WelcomeFrame,
} from '@teamchat/protocol';
import { fakeServer, sendFrame } from '../../../../test/helpers/fake-ndjson-server.js';
import { ChatConnection, type ConnectionEvent } from './chat-connection.js';

const welcome = (nick: string, rooms: string[]): WelcomeFrame => ({
  type: 'welcome',
  v: PROTOCOL_VERSION,
  nick,
  server: 'fake',
  rooms,
  limits: { maxLineBytes: MAX_LINE_BYTES, historyDefault: HISTORY_DEFAULT, historyMax: HISTORY_MAX },
});

function waitEvent(conn: ChatConnection, match: (e: ConnectionEvent) => boolean): Promise<ConnectionEvent> {
  return new Promise((resolve) => {
    const off = conn.on((e) => {
      if (match(e)) {
        off();
        resolve(e);
      }
    });
  });
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('ChatConnection', () => {
  it('starts over on a new connection when the server took it for a plain-text user', async () => {
    const hellos: number[] = [];
    const fake = fakeServer(
      (socket, i) => {
        if (i === 0) socket.write(NICK_PROMPT);
      },
      (socket, frame) => {
        if (frame.type !== 'hello') return;
        hellos.push(1);
        if (hellos.length === 1) return; // the first connection is "plain text": never answers
        sendFrame(socket, welcome(frame.nick, []));
      },
    );
    const port = await fake.listen();
    const conn = new ChatConnection({
      host: '127.0.0.1',
      port,
      nick: 'alice',
      backoff: { initialMs: 10 },
      pingIntervalMs: 100,
    }); // silent for 3 intervals: dead
    cleanup.push(() => conn.destroy(), fake.close);
    const ready = waitEvent(conn, (e) => e.kind === 'ready');
    conn.start();
    await ready;
    expect(hellos.length).toBe(2);
  });

  it('fills a resume gap with history pages and passes each message on once', async () => {
    const fake = fakeServer(
      () => {},
      (socket, frame) => {
        if (frame.type === 'hello') {
          sendFrame(socket, welcome(frame.nick, ['general']));
          const after = frame.rooms?.general ?? null;
          if (frame.pmAfter !== undefined) sendFrame(socket, { type: 'pm-history', messages: [], more: false });
          if (after === null) {
            sendFrame(socket, {
              type: 'joined',
              room: 'general',
              topic: null,
              users: [frame.nick],
              history: [{ id: 10, ts: 1, room: 'general', nick: 'bob', text: 'ten' }],
              more: false,
            });
          } else {
            // Resumed after 10, but only the latest page (40, 41) fits: ids 11..39 are a gap.
            sendFrame(socket, {
              type: 'joined',
              room: 'general',
              topic: null,
              users: [frame.nick],
              history: [40, 41].map((id) => ({ id, ts: 1, room: 'general', nick: 'bob', text: `m${id}` })),
              more: true,
            });
          }
        } else if (frame.type === 'history') {
          expect(frame).toMatchObject({ room: 'general', after: 10, before: 40 });
          sendFrame(socket, {
            type: 'history',
            room: 'general',
            messages: [11, 12].map((id) => ({ id, ts: 1, room: 'general', nick: 'bob', text: `m${id}` })),
            more: false,
            ref: frame.ref,
          });
        }
      },
    );
    const port = await fake.listen();
    const conn = new ChatConnection({
      host: '127.0.0.1',
      port,
      nick: 'alice',
      rooms: ['general'],
      backoff: { initialMs: 10 },
    });
    cleanup.push(() => conn.destroy(), fake.close);
    const joined: number[][] = [];
    conn.on((e) => e.kind === 'frame' && e.frame.type === 'joined' && joined.push(e.frame.history.map((m) => m.id)));
    let ready = waitEvent(conn, (e) => e.kind === 'ready');
    conn.start();
    await ready;
    ready = waitEvent(conn, (e) => e.kind === 'ready');
    for (const s of fake.sockets) s.destroy();
    await ready;
    expect(joined).toEqual([[10], [11, 12, 40, 41]]);
  });
});

describe('ChatConnection sending', () => {
  it('resends a message unacknowledged at a drop with the same cid, and says so', async () => {
    const msgs: Array<{ cid?: string; text: string; conn: number }> = [];
    const fake = fakeServer(
      () => {},
      (socket, frame, index) => {
        if (frame.type === 'hello') {
          sendFrame(socket, welcome(frame.nick, []));
          if (frame.pmAfter !== undefined) sendFrame(socket, { type: 'pm-history', messages: [], more: false });
        } else if (frame.type === 'msg') {
          msgs.push({ ...(frame.cid !== undefined ? { cid: frame.cid } : {}), text: frame.text, conn: index });
          if (index === 0)
            socket.destroy(); // dropped before the ack
          else sendFrame(socket, { type: 'ack', ref: frame.ref!, id: 7, ts: 1, cid: frame.cid });
        }
      },
    );
    const port = await fake.listen();
    const conn = new ChatConnection({ host: '127.0.0.1', port, nick: 'alice', backoff: { initialMs: 10 } });
    cleanup.push(() => conn.destroy(), fake.close);
    const notices: string[] = [];
    conn.on((e) => e.kind === 'notice' && notices.push(e.text));
    let ready = waitEvent(conn, (e) => e.kind === 'ready');
    conn.start();
    await ready;
    ready = waitEvent(conn, (e) => e.kind === 'ready');
    const acked = waitEvent(conn, (e) => e.kind === 'frame' && e.frame.type === 'ack');
    const cid = conn.sendText({ kind: 'room', room: 'general' }, 'hello once');
    await ready;
    await acked;
    expect(msgs).toEqual([
      { cid, text: 'hello once', conn: 0 },
      { cid, text: 'hello once', conn: 1 },
    ]);
    expect(notices).toContain('1 unconfirmed message(s) resent');
    expect(conn.pendingCount).toBe(0);
  });

  it('moves to the next address of a cluster, and files the token under each', async () => {
    const serve = (token: string) =>
      fakeServer(
        () => {},
        (socket, frame) => {
          if (frame.type !== 'hello') return;
          sendFrame(socket, { ...welcome(frame.nick, []), token });
          if (frame.pmAfter !== undefined) sendFrame(socket, { type: 'pm-history', messages: [], more: false });
        },
      );
    const a = serve('tok-a');
    const b = serve('tok-b');
    const [pa, pb] = [await a.listen(), await b.listen()];
    const tokens = memoryTokens();
    const conn = new ChatConnection({
      addresses: [
        { host: '127.0.0.1', port: pa },
        { host: '127.0.0.1', port: pb },
      ],
      nick: 'alice',
      tokens,
      backoff: { initialMs: 10 },
    });
    cleanup.push(() => conn.destroy(), a.close, b.close);
    let ready = waitEvent(conn, (e) => e.kind === 'ready');
    conn.start();
    await ready;
    expect(conn.state.server).toBe(`127.0.0.1:${pa}`);
    expect(tokens.get(`127.0.0.1:${pb}`, 'alice')).toBe('tok-a');
    ready = waitEvent(conn, (e) => e.kind === 'ready');
    for (const s of a.sockets) s.destroy();
    await ready;
    expect(conn.state.server).toBe(`127.0.0.1:${pb}`);
    expect(tokens.get(`127.0.0.1:${pa}`, 'alice')).toBe('tok-b');
    expect(tokens.get(`127.0.0.1:${pb}`, 'alice')).toBe('tok-b');
  });
});

/** A TokenStore in memory, recording what was filed. */
function memoryTokens(initial: Record<string, string> = {}) {
  const map = new Map(Object.entries(initial));
  return {
    map,
    get: (server: string, nick: string) => map.get(`${server} ${nick.toLowerCase()}`),
    set: (server: string, nick: string, token: string) => void map.set(`${server} ${nick.toLowerCase()}`, token),
  };
}

describe('ChatConnection resume token', () => {
  it('sends the token of the latest welcome in every hello, reconnects included', async () => {
    const hellos: Array<{ nick: string; token?: string }> = [];
    const fake = fakeServer(
      () => {},
      (socket, frame) => {
        if (frame.type !== 'hello') return;
        hellos.push({ nick: frame.nick, ...(frame.token !== undefined ? { token: frame.token } : {}) });
        // The server hands out a new token on the second connection (as after a rotation).
        sendFrame(socket, { ...welcome(frame.nick, []), token: hellos.length === 1 ? 'tok-1' : 'tok-2' });
        if (frame.pmAfter !== undefined) sendFrame(socket, { type: 'pm-history', messages: [], more: false });
      },
    );
    const port = await fake.listen();
    const conn = new ChatConnection({ host: '127.0.0.1', port, nick: 'alice', backoff: { initialMs: 10 } });
    cleanup.push(() => conn.destroy(), fake.close);
    const welcomes: unknown[] = [];
    conn.on((e) => e.kind === 'frame' && e.frame.type === 'welcome' && welcomes.push(e.frame));
    for (let i = 0; i < 3; i++) {
      const ready = waitEvent(conn, (e) => e.kind === 'ready');
      if (i === 0) conn.start();
      else for (const s of fake.sockets) s.destroy();
      await ready;
    }
    expect(hellos).toEqual([{ nick: 'alice' }, { nick: 'alice', token: 'tok-1' }, { nick: 'alice', token: 'tok-2' }]);
    // The secret is not passed on to the UI.
    expect(welcomes).toHaveLength(3);
    for (const w of welcomes) expect(w).not.toHaveProperty('token');
  });

  it('presents the stored token at the first hello and files new tokens under every nick it uses', async () => {
    const hellos: Array<string | undefined> = [];
    const fake = fakeServer(
      () => {},
      (socket, frame) => {
        if (frame.type === 'hello') {
          hellos.push(frame.token);
          sendFrame(socket, { ...welcome(frame.nick, []), token: 'tok-new', ref: frame.ref });
        } else if (frame.type === 'nick') {
          sendFrame(socket, { type: 'nick', old: 'alice', new: frame.nick, ts: 1, ref: frame.ref });
        }
      },
    );
    const port = await fake.listen();
    const tokens = memoryTokens({ [`127.0.0.1:${port} alice`]: 'tok-old', [`127.0.0.1:${port} bob`]: 'tok-bob' });
    const conn = new ChatConnection({ host: '127.0.0.1', port, nick: 'Alice', tokens, backoff: { initialMs: 10 } });
    cleanup.push(() => conn.destroy(), fake.close);
    const ready = waitEvent(conn, (e) => e.kind === 'ready');
    conn.start();
    await ready;
    expect(hellos).toEqual(['tok-old']);
    expect(tokens.get(`127.0.0.1:${port}`, 'alice')).toBe('tok-new');

    const renamed = waitEvent(conn, (e) => e.kind === 'frame' && e.frame.type === 'nick');
    void conn.request({ type: 'nick', nick: 'alice_away' });
    await renamed;
    // Next run, under either nick, is the same person; bob's token is bob's.
    expect(tokens.get(`127.0.0.1:${port}`, 'alice_away')).toBe('tok-new');
    expect(tokens.get(`127.0.0.1:${port}`, 'bob')).toBe('tok-bob');
  });

  it('looks the token up for the nick chosen after a refused one', async () => {
    const hellos: Array<{ nick: string; token?: string }> = [];
    const fake = fakeServer(
      () => {},
      (socket, frame) => {
        if (frame.type !== 'hello') return;
        hellos.push({ nick: frame.nick, ...(frame.token !== undefined ? { token: frame.token } : {}) });
        if (frame.nick === '')
          sendFrame(socket, { type: 'error', code: 'TC_ERR_BAD_NICK', message: 'pick a nick', ref: frame.ref });
        else sendFrame(socket, welcome(frame.nick, []));
      },
    );
    const port = await fake.listen();
    const tokens = memoryTokens({ [`127.0.0.1:${port} carol`]: 'tok-carol' });
    const conn = new ChatConnection({ host: '127.0.0.1', port, nick: '', tokens });
    cleanup.push(() => conn.destroy(), fake.close);
    const rejected = waitEvent(conn, (e) => e.kind === 'nick-rejected');
    conn.start();
    await rejected;
    const ready = waitEvent(conn, (e) => e.kind === 'ready');
    conn.retryNick('carol');
    await ready;
    expect(hellos).toEqual([{ nick: '' }, { nick: 'carol', token: 'tok-carol' }]);
  });

  it('goes on without a stored token when the store fails, and says so', async () => {
    const hellos: Array<string | undefined> = [];
    const fake = fakeServer(
      () => {},
      (socket, frame) => {
        if (frame.type !== 'hello') return;
        hellos.push(frame.token);
        sendFrame(socket, { ...welcome(frame.nick, []), token: 'tok-1' });
      },
    );
    const port = await fake.listen();
    const broken = {
      get: (): string | undefined => {
        throw new Error('ignoring /x/tokens.json: it is not valid JSON');
      },
      set: (): void => {
        throw new Error('EACCES: permission denied');
      },
    };
    const conn = new ChatConnection({ host: '127.0.0.1', port, nick: 'dave', tokens: broken });
    cleanup.push(() => conn.destroy(), fake.close);
    const notices: string[] = [];
    conn.on((e) => e.kind === 'notice' && notices.push(e.text));
    const ready = waitEvent(conn, (e) => e.kind === 'ready');
    conn.start();
    await ready;
    expect(hellos).toEqual([undefined]);
    expect(notices).toEqual([
      'resume token: ignoring /x/tokens.json: it is not valid JSON; connecting as a new identity',
      'resume token not saved: EACCES: permission denied',
    ]);
  });
});

describe('ChatConnection giving up', () => {
  it('gives up when nothing listens, and says the connection was refused', async () => {
    const probe = net.createServer();
    const port = await new Promise<number>((r) =>
      probe.listen(0, '127.0.0.1', () => r((probe.address() as net.AddressInfo).port)),
    );
    await new Promise<void>((r) => probe.close(() => r()));
    const conn = new ChatConnection({
      host: '127.0.0.1',
      port,
      nick: 'alice',
      giveUpAfterMs: 300,
      backoff: { initialMs: 20 },
    });
    cleanup.push(() => conn.destroy());
    const closed = waitEvent(conn, (e) => e.kind === 'closed');
    conn.start();
    expect(await closed).toEqual({
      kind: 'closed',
      unreachable: true,
      reason: `cannot reach 127.0.0.1:${port}: connection refused (ECONNREFUSED); gave up after 300ms`,
    });
    expect(conn.state.status).toBe('offline');
  });

  it('gives up on a server that accepts but never welcomes', async () => {
    const fake = fakeServer(
      () => {},
      () => {},
    );
    const port = await fake.listen();
    const conn = new ChatConnection({ host: '127.0.0.1', port, nick: 'alice', giveUpAfterMs: 300 });
    cleanup.push(() => conn.destroy(), fake.close);
    const closed = waitEvent(conn, (e) => e.kind === 'closed');
    conn.start();
    const event = await closed;
    expect(event).toMatchObject({
      unreachable: true,
      reason: expect.stringMatching(
        /^cannot reach 127\.0\.0\.1:\d+: the connection was accepted, but no teamchat server answered; gave up after 300ms$/,
      ),
    });
  });

  it('abandons an attempt whose TLS handshake never completes, and says it timed out', async () => {
    // A TCP server that accepts and never answers the TLS ClientHello.
    let attempts = 0;
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      attempts++;
      sockets.add(socket);
      socket.on('error', () => {});
      socket.resume();
    });
    const port = await new Promise<number>((r) =>
      silent.listen(0, '127.0.0.1', () => r((silent.address() as net.AddressInfo).port)),
    );
    const conn = new ChatConnection({
      host: '127.0.0.1',
      port,
      nick: 'alice',
      tls: {},
      connectTimeoutMs: 100,
      giveUpAfterMs: 500,
      backoff: { initialMs: 10 },
    });
    cleanup.push(
      () => conn.destroy(),
      () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), silent.close(() => r()))),
    );
    const closed = waitEvent(conn, (e) => e.kind === 'closed');
    conn.start();
    expect(await closed).toMatchObject({
      unreachable: true,
      reason: `cannot reach 127.0.0.1:${port}: timed out (no answer in 100ms); gave up after 500ms`,
    });
    expect(attempts).toBeGreaterThanOrEqual(2);
  });

  it('keeps retrying after the first session, whatever the give-up time', async () => {
    let connections = 0;
    const fake = fakeServer(
      () => void connections++,
      (socket, frame) => {
        if (frame.type !== 'hello') return;
        sendFrame(socket, welcome(frame.nick, []));
        if (frame.pmAfter !== undefined) sendFrame(socket, { type: 'pm-history', messages: [], more: false });
      },
    );
    const port = await fake.listen();
    const conn = new ChatConnection({
      host: '127.0.0.1',
      port,
      nick: 'alice',
      giveUpAfterMs: 100,
      backoff: { initialMs: 250 },
    });
    cleanup.push(() => conn.destroy(), fake.close);
    const events: string[] = [];
    conn.on((e) => e.kind === 'closed' && events.push(e.reason));
    let ready = waitEvent(conn, (e) => e.kind === 'ready');
    conn.start();
    await ready;
    ready = waitEvent(conn, (e) => e.kind === 'ready');
    for (const s of fake.sockets) s.destroy();
    await ready; // reconnected after > 100 ms of backoff
    expect(connections).toBe(2);
    expect(events).toEqual([]);
  });
});
