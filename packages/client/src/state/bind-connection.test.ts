import net from 'node:net';
import { HISTORY_DEFAULT, HISTORY_MAX, MAX_LINE_BYTES, PROTOCOL_VERSION, type ClientFrame } from '@teamchat/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeServer, sendFrame } from '../../../../test/helpers/fake-ndjson-server.js';
import { until } from '../../../../test/helpers/waits.js';
import { ChatConnection } from '../connection/chat-connection.js';
import { bindConnection } from './bind-connection.js';
import { ChatStore } from './chat-store.js';
import { initialChatState, type ChatState } from './chat-state.js';

const limits = { maxLineBytes: MAX_LINE_BYTES, historyDefault: HISTORY_DEFAULT, historyMax: HISTORY_MAX };
const msg = (id: number, text: string) => ({ id, ts: 1_000 * id, room: 'general', nick: 'bob', text });

/** A scripted server: `onHello(socket, index)` answers the hello of the index-th connection. */
type Hello = Extract<ClientFrame, { type: 'hello' }>;

async function scriptedServer(
  onConnect: (socket: net.Socket, index: number) => void,
  onHello: (socket: net.Socket, frame: Hello, index: number) => void,
) {
  const fake = fakeServer(onConnect, (socket, frame, index) => {
    if (frame.type === 'hello') onHello(socket, frame, index);
  });
  return { port: await fake.listen(), sockets: fake.sockets, close: fake.close };
}

/** Waits until the store's state (its pending frames applied) passes `check`; resolves with that state. */
function stateWhen(store: ChatStore, check: (s: ChatState) => boolean, what: string): Promise<ChatState> {
  return until(
    () => {
      store.flush();
      const s = store.getState();
      return check(s) ? s : undefined;
    },
    what,
    { timeoutMs: 10_000, everyMs: 10 },
  );
}

const lines = (s: ChatState, key: string) => s.windows.find((w) => w.key === key)!.scrollback.lines.map((l) => l.text);

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('bindConnection (a real connection against a scripted server)', () => {
  it('shows a drop and three failed attempts as one line, and marks the gap once reconnected', async () => {
    const server = await scriptedServer(
      // Connections 1-3 are refused at once: failed reconnect attempts.
      (socket, index) => void (index >= 1 && index <= 3 && socket.destroy()),
      (socket, hello, index) => {
        sendFrame(socket, {
          type: 'welcome',
          v: PROTOCOL_VERSION,
          nick: hello.nick,
          server: 'scripted',
          rooms: ['general'],
          limits,
        });
        if (index === 0) {
          sendFrame(socket, {
            type: 'joined',
            room: 'general',
            topic: null,
            users: ['alice', 'bob'],
            history: [msg(1, 'before the drop')],
            more: false,
          });
          setTimeout(() => socket.destroy(), 50); // the scripted drop, shortly after the session is up (not a wait)
        } else {
          sendFrame(socket, {
            type: 'joined',
            room: 'general',
            topic: null,
            users: ['alice', 'bob'],
            history: [msg(1, 'before the drop'), msg(2, 'while you were away')],
            more: false,
          });
        }
      },
    );
    const connection = new ChatConnection({
      host: '127.0.0.1',
      port: server.port,
      nick: 'alice',
      rooms: ['general'],
      backoff: { initialMs: 20, maxMs: 40, jitter: 0 },
    });
    const store = new ChatStore(initialChatState(connection.state));
    const unbind = bindConnection(connection, store);
    cleanup.push(
      () => connection.destroy(),
      unbind,
      () => store.close(),
      server.close,
    );
    connection.start();

    await stateWhen(store, (s) => s.outage !== null && s.outage.attempts >= 3, 'failed reconnect attempts');
    const down = store.getState();
    expect(lines(down, '#general').filter((t) => t.startsWith('Disconnected'))).toHaveLength(1);
    expect(lines(down, '#general').find((t) => t.startsWith('Disconnected'))).toMatch(
      /^Disconnected \(.+\); reconnecting \(\d+ attempts? failed/,
    );

    const up = await stateWhen(
      store,
      (s) => s.connection.status === 'connected' && lines(s, '#general').includes('while you were away'),
      'the reconnect',
    );
    const general = lines(up, '#general');
    const gap = general.findIndex((t) => t.startsWith('Reconnected after'));
    expect(general.filter((t) => /^(Disconnected|Reconnected)/.test(t))).toHaveLength(1);
    expect(gap).toBeGreaterThan(general.indexOf('before the drop'));
    expect(gap).toBeLessThan(general.indexOf('while you were away'));
    expect(lines(up, '*').filter((t) => /^(Disconnected|Reconnected)/.test(t))).toHaveLength(1);
    expect(up.outage).toBeNull();
  });

  it('never connected: "Cannot connect to host:port (connection refused)", one line', async () => {
    const probe = net.createServer();
    const port = await new Promise<number>((r) =>
      probe.listen(0, '127.0.0.1', () => r((probe.address() as net.AddressInfo).port)),
    );
    await new Promise((r) => probe.close(r));
    const connection = new ChatConnection({
      host: '127.0.0.1',
      port,
      nick: 'alice',
      backoff: { initialMs: 10, maxMs: 20, jitter: 0 },
    });
    const store = new ChatStore(initialChatState(connection.state));
    const unbind = bindConnection(connection, store);
    cleanup.push(
      () => connection.destroy(),
      unbind,
      () => store.close(),
    );
    connection.start();
    const s = await stateWhen(store, (x) => (x.outage?.attempts ?? 0) >= 4, 'four failed attempts');
    expect(lines(s, '*')).toEqual([
      `Cannot connect to 127.0.0.1:${port} (connection refused); retrying (${s.outage!.attempts} attempts failed)`,
    ]);
  });
});
