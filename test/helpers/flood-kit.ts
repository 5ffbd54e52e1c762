/**
 * The isolation floods, shared by `test/isolation-flood.test.ts` (assertions) and
 * `npm run bench -- isolation` (figures): a scene like the one the attacks used (a room whose last
 * messages are ~8 KB, 100 rooms with history), a canary that measures its ping round trip, and
 * one function per flood that writes thousands of commands in one write on a fresh connection.
 */
import net from 'node:net';
import { encodeFrame, PROTOCOL_VERSION } from '@teamchat/protocol';
import { LatencyHistogram } from '@teamchat/stress';
import { JsonClient, WsClient } from './chat-clients.js';
import { pace, until } from './waits.js';

/** Room messages of ~8 KB, the size the attack used. */
const BIG = 'x'.repeat(7_900);

/** A raw connection that counts what it receives (it may also stop reading: `socket.pause()`). */
export class RawFlooder {
  received = 0;
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => (this.received += chunk.length));
    socket.on('error', () => {});
  }
  static async connect(port: number): Promise<RawFlooder> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
      s.once('error', reject);
    });
    return new RawFlooder(socket);
  }
  write(data: string): void {
    this.socket.write(data);
  }
  /** Waits (bounded: 15 s, then returns anyway; the caller asserts on `received`) until `bytes` have arrived. */
  async waitFor(bytes: number): Promise<void> {
    await until(() => this.received >= bytes, `${bytes} bytes`).catch(() => {});
  }
  close(): void {
    this.socket.destroy();
  }
}

/** What a flood leaves behind: bytes its connection received so far, and how to close it. */
export interface Flood {
  readonly received: number;
  close(): void;
}

/** The floods of the isolation issue, each on its own new connection. */
export const FLOODS: { name: string; start(ports: { tcp: number; http: number }): Promise<Flood> }[] = [
  {
    name: 'plain /join current x4000',
    async start({ tcp }) {
      const f = await RawFlooder.connect(tcp);
      f.write('floodjoin\ngeneral\n');
      await f.waitFor(1);
      f.write('/join general\n'.repeat(4_000));
      return f;
    },
  },
  {
    name: 'json rooms x2000',
    async start({ tcp }) {
      const f = await RawFlooder.connect(tcp);
      f.write(
        encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: 'floodrooms' }) +
          encodeFrame({ type: 'rooms' }).repeat(2_000),
      );
      return f;
    },
  },
  {
    name: 'websocket rooms x1000',
    async start({ http }) {
      const ws = await WsClient.connect(http);
      await ws.hello('floodws');
      for (let i = 0; i < 1_000; i++) ws.send({ type: 'rooms' });
      return {
        get received() {
          return ws.frames.reduce((n, f) => n + JSON.stringify(f).length, 0);
        },
        close: () => ws.close(),
      };
    },
  },
  {
    name: 'json users x2000',
    async start({ tcp }) {
      const f = await RawFlooder.connect(tcp);
      f.write(
        encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: 'floodusers' }) +
          encodeFrame({ type: 'users', room: 'general' }).repeat(2_000),
      );
      return f;
    },
  },
  {
    name: 'plain /help x4000',
    async start({ tcp }) {
      const f = await RawFlooder.connect(tcp);
      f.write('floodhelp\ngeneral\n');
      await f.waitFor(1);
      f.write('/help\n'.repeat(4_000));
      return f;
    },
  },
  {
    name: 'json history x2000',
    async start({ tcp }) {
      const f = await RawFlooder.connect(tcp);
      f.write(
        encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: 'floodhistory', rooms: { general: null } }) +
          encodeFrame({ type: 'history', room: 'general', limit: 50 }).repeat(2_000),
      );
      return f;
    },
  },
  {
    // A part of a word that every stored text contains but no text matches: the costliest search.
    name: 'json search x2000',
    async start({ tcp }) {
      const f = await RawFlooder.connect(tcp);
      f.write(
        encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: 'floodsearch', rooms: { general: null } }) +
          encodeFrame({ type: 'search', q: 'xxxxxxxxy', limit: 20 }).repeat(2_000),
      );
      return f;
    },
  },
  {
    name: 'json mark x4000',
    async start({ tcp }) {
      const f = await RawFlooder.connect(tcp);
      f.write(
        encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: 'floodmark', rooms: { general: null } }) +
          Array.from({ length: 4_000 }, (_, i) => encodeFrame({ type: 'mark', room: 'general', id: i + 1 })).join(''),
      );
      return f;
    },
  },
  {
    name: 'json highlights x2000',
    async start({ tcp }) {
      const f = await RawFlooder.connect(tcp);
      f.write(
        encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: 'floodhigh' }) +
          Array.from({ length: 2_000 }, (_, i) => encodeFrame({ type: 'highlights', words: [`w${i}`, 'deploy'] })).join(
            '',
          ),
      );
      return f;
    },
  },
  {
    // Announced to everyone in the room (the canary too): the flood control bounds what they get.
    name: 'json react x2000',
    async start({ tcp }) {
      const f = await RawFlooder.connect(tcp);
      f.write(
        encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: 'floodreact', rooms: { general: null } }) +
          Array.from({ length: 2_000 }, (_, i) =>
            encodeFrame({ type: 'react', id: 1, emoji: i % 2 === 0 ? '👍' : '🎉', remove: i % 4 >= 2 }),
          ).join(''),
      );
      return f;
    },
  },
  {
    name: 'hello with 100 busy rooms, not reading',
    async start({ tcp }) {
      const f = await RawFlooder.connect(tcp);
      f.socket.pause();
      f.write(encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: 'floodhello', rooms: busyRooms() }));
      return f;
    },
  },
];

/** The `rooms` of a hello naming the scene's 100 busy rooms. */
export function busyRooms(): Record<string, null> {
  return Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`busy${i}`, null]));
}

/**
 * Builds the scene on a server whose flood control is on (each writer stays within its burst):
 * `general` with 40 messages of ~8 KB, and rooms busy0..busy99 with 4 each. Returns the clients,
 * which must stay connected (a room nobody is in leaves memory).
 */
export async function buildScene(port: number): Promise<JsonClient[]> {
  const write = async (nick: string, room: string, prefix: string) => {
    const c = await JsonClient.connect(port);
    await c.hello(nick);
    await c.join(room);
    for (let m = 0; m < 4; m++) c.send({ type: 'msg', room, text: `${m} ${BIG}`, ref: `${prefix}${m}` });
    await c.seen('ack', (a) => a.ref === `${prefix}3`);
    return c;
  };
  const writers = await Promise.all(Array.from({ length: 10 }, (_, i) => write(`writer${i}`, 'general', 'w')));
  const busy = await Promise.all(Array.from({ length: 100 }, (_, i) => write(`busy${i}`, `busy${i}`, 'b')));
  return [...writers, ...busy];
}

/**
 * A client in `general` that pings the server one ping after the other, 80 ms apart: a ping costs
 * 0.1 of the flood budget (2 a second), so faster the canary would be slowed by its own pinging.
 */
export class Canary {
  #pings = 0;
  private constructor(readonly client: JsonClient) {}
  static async connect(port: number): Promise<Canary> {
    const client = await JsonClient.connect(port);
    await client.hello('canary');
    await client.join('general');
    return new Canary(client);
  }
  /** Round trips (ms) of the pings sent during `ms`. */
  async pingFor(ms: number): Promise<number[]> {
    const out: number[] = [];
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const ref = `canary-${++this.#pings}`;
      const t0 = performance.now();
      this.client.send({ type: 'ping', ref });
      await this.client.seen('pong', (p) => p.ref === ref, 10_000);
      out.push(performance.now() - t0);
      await pace(80, 'a sample every 80 ms or so through the window, not a ping storm of its own');
    }
    return out;
  }
  close(): void {
    this.client.close();
  }
}

export interface LatencyStats {
  p50: number;
  p99: number;
  max: number;
}

/** p50, p99 and max of round trips in ms, to 0.1 ms, by the project's one percentile (the max is exact). */
export function latencyStats(samples: number[]): LatencyStats {
  const { p50, p99, max } = LatencyHistogram.ofMs(samples).summaryMs(1);
  return { p50, p99, max };
}

/** Resident memory of a process in MiB, from /proc. */
export async function rssMb(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}
