import type net from 'node:net';
import type { MessageFrame, PmDeliveryFrame, ServerFrame } from '@teamchat/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeServer, sendFrame } from '../../../test/helpers/fake-ndjson-server.js';
import { runStress } from './stress-run.js';
import { StressError } from './stress-error.js';

/**
 * A minimal chat server speaking the NDJSON protocol, able to drop deliveries on purpose: it
 * proves the loss accounting notices what a real server would lose. (The real server is used by
 * the end-to-end tests in test/stress-*.test.ts.)
 */
async function lossyServer(
  dropEvery: number,
  maxClients = Infinity,
): Promise<{ port: number; close: () => Promise<void> }> {
  const rooms = new Map<string, Set<net.Socket>>();
  const nicks = new Map<string, net.Socket>();
  const nickOf = new Map<net.Socket, string>();
  const refused = new Set<net.Socket>();
  let deliveries = 0;
  const deliver = (s: net.Socket, frame: ServerFrame) => {
    deliveries++;
    if (dropEvery > 0 && deliveries % dropEvery === 0) return;
    sendFrame(s, frame);
  };
  let id = 0;
  let open = 0;
  const join = (socket: net.Socket, room: string, ref?: string) => {
    if (!rooms.has(room)) rooms.set(room, new Set());
    rooms.get(room)!.add(socket);
    sendFrame(socket, {
      type: 'joined',
      room,
      topic: null,
      users: [],
      history: [],
      more: false,
      ...(ref ? { ref } : {}),
    });
  };
  const fake = fakeServer(
    (socket) => {
      if (open >= maxClients) {
        // Its hello is still read (and dropped), so the peer's close is seen.
        refused.add(socket);
        sendFrame(socket, {
          type: 'bye',
          code: 'TC_ERR_TOO_MANY_CONNECTIONS',
          reason: `too many connections from your address (${maxClients})`,
        });
        socket.end();
        return;
      }
      open++;
      socket.once('close', () => {
        open--;
        for (const members of rooms.values()) members.delete(socket);
        const nick = nickOf.get(socket);
        if (nick !== undefined && nicks.get(nick) === socket) nicks.delete(nick);
      });
    },
    (socket, f) => {
      if (refused.has(socket)) return;
      const nick = nickOf.get(socket) ?? '';
      switch (f.type) {
        case 'hello':
          nickOf.set(socket, f.nick);
          nicks.set(f.nick, socket);
          sendFrame(socket, {
            type: 'welcome',
            v: 1,
            nick: f.nick,
            server: 'fake',
            rooms: Object.keys(f.rooms ?? {}),
            limits: { maxLineBytes: 8192, historyDefault: 50, historyMax: 500 },
          });
          for (const room of Object.keys(f.rooms ?? {})) join(socket, room);
          break;
        case 'join':
          join(socket, f.room, f.ref);
          break;
        case 'part':
          rooms.get(f.room)?.delete(socket);
          sendFrame(socket, { type: 'parted', room: f.room });
          break;
        case 'msg': {
          const m: MessageFrame = { type: 'message', id: ++id, ts: Date.now(), room: f.room, nick, text: f.text };
          for (const member of rooms.get(f.room) ?? []) deliver(member, m);
          sendFrame(socket, { type: 'ack', ref: f.ref!, id, ts: m.ts });
          break;
        }
        case 'pm': {
          const target = nicks.get(f.to);
          if (!target) {
            sendFrame(socket, {
              type: 'error',
              code: 'TC_ERR_NO_SUCH_USER',
              message: 'no such user',
              ...(f.ref ? { ref: f.ref } : {}),
            });
            break;
          }
          const m: PmDeliveryFrame = { type: 'pm', id: ++id, ts: Date.now(), from: nick, to: f.to, text: f.text };
          deliver(target, m);
          deliver(socket, m);
          sendFrame(socket, { type: 'ack', ref: f.ref!, id, ts: m.ts });
          break;
        }
        case 'quit':
          socket.end();
          break;
      }
    },
  );
  return { port: await fake.listen(), close: fake.close };
}

describe('runStress', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  const base = {
    host: '127.0.0.1',
    clients: 6,
    rooms: ['r1', 'r2'],
    intervalMs: 40,
    durationMs: 1500,
    rampMs: 100,
    workers: 0,
    drainMs: 1500,
    tickMs: 500,
  };

  it('counts exactly the deliveries it expected, while clients switch rooms and send private messages', async () => {
    const fake = await lossyServer(0);
    close = fake.close;
    const report = await runStress({ ...base, port: fake.port, switchChance: 0.2, pmChance: 0.2, leaveGuardMs: 150 });
    expect(report.ok).toBe(true);
    expect(report.clients.connected).toBe(6);
    expect(report.messages.private).toBeGreaterThan(0);
    expect(report.deliveries.expected).toBeGreaterThan(100);
    expect(report.deliveries.delivered).toBe(report.deliveries.expected);
    expect(report.deliveries.lost).toBe(0);
    // Deliveries around a switch are received but not counted either way.
    expect(report.deliveries.received).toBeGreaterThanOrEqual(report.deliveries.delivered);
    expect(report.errors.total).toBe(0);
  });

  it('reports deliveries the server drops as lost and fails the run', async () => {
    const fake = await lossyServer(7);
    close = fake.close;
    const report = await runStress({ ...base, port: fake.port, switchChance: 0, pmChance: 0.1 });
    expect(report.ok).toBe(false);
    expect(report.deliveries.lost).toBeGreaterThan(0);
    expect(report.deliveries.delivered + report.deliveries.lost).toBe(report.deliveries.expected);
    expect(report.deliveries.deliveredPct).toBeLessThan(100);
  });

  it('says plainly when the server refused clients, and which flag changes it', async () => {
    const fake = await lossyServer(0, 4);
    close = fake.close;
    const report = await runStress({ ...base, port: fake.port, durationMs: 500 });
    expect(report.ok).toBe(false);
    expect(report.clients).toMatchObject({ requested: 6, connected: 4, failed: 2 });
    expect(report.errors.byCode).toEqual({ TC_ERR_TOO_MANY_CONNECTIONS: 2 });
    expect(report.notes.map((n) => n.code)).toContain('connections-refused');
    expect(report.notes[0].message).toMatch(/2 of 6 clients were refused.*--max-connections-per-ip 0/);
  });

  it('rejects an unreachable server with a stable code', async () => {
    const fake = await lossyServer(0);
    const port = fake.port;
    await fake.close();
    await expect(runStress({ ...base, port })).rejects.toMatchObject({ code: 'TC_STRESS_UNREACHABLE' });
  });

  it('rejects zero clients before connecting anywhere', async () => {
    const err = await runStress({ ...base, port: 1, clients: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StressError);
    expect((err as StressError).code).toBe('TC_STRESS_BAD_OPTION');
  });
});
