/**
 * Faults under load: a client that never reads while 100 others chat is cut at its queue limit
 * (server memory stays bounded, the others keep being served), and SIGTERM under load drains,
 * stores and exits 0 in bounded time. Latency and memory figures are printed, not asserted:
 * this machine may be slow and noisy; `npm run bench` is where speed is judged.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { encodeFrame, PROTOCOL_VERSION } from '@teamchat/protocol';
import { LatencyHistogram } from '@teamchat/stress';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';
import { until } from './helpers/waits.js';

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** 100 chatters in one room, each sending `rate` messages/s; collects delivery latencies seen by one of them. */
class Chatters {
  clients: JsonClient[] = [];
  latencies: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  constructor(readonly server: SpawnedServer) {}
  async start(count: number) {
    for (let i = 0; i < count; i++) {
      const c = await JsonClient.connect(this.server.tcpPort);
      await c.hello(`chatter${i}`);
      await c.join('busy');
      this.clients.push(c);
    }
    const observer = this.clients[0];
    observer.socket.on('data', () => {
      for (const f of observer.frames.splice(0)) {
        if (f.type === 'message') this.latencies.push(Date.now() - Number(f.text.slice(0, 13)));
      }
    });
    for (const c of this.clients.slice(1)) c.socket.on('data', () => void c.frames.splice(0));
  }
  send(rate: number, padding: string) {
    this.#timer = setInterval(() => {
      for (const c of this.clients)
        if (Math.random() < rate / 10) c.send({ type: 'msg', room: 'busy', text: `${Date.now()} ${padding}` });
    }, 100);
  }
  stop() {
    clearInterval(this.#timer);
  }
  /** The p99 of the latencies collected since the last call, in ms (the project's one percentile). */
  takeP99(): number {
    return LatencyHistogram.ofMs(this.latencies.splice(0)).summaryMs(1).p99;
  }
  close() {
    this.stop();
    for (const c of this.clients) c.close();
  }
}

describe('teamchat serve under load', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnServer();
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it('cuts a client that never reads while 100 others chat, with bounded server memory', async () => {
    const chatters = new Chatters(server);
    await chatters.start(100);
    const padding = 'p'.repeat(2000);
    chatters.send(2, padding);
    // A baseline: the observer's latencies of the first 600 messages (about 3 s of chat).
    await until(() => chatters.latencies.length >= 600, 'the observer to receive 600 messages', { timeoutMs: 60_000 });
    const p99Before = chatters.takeP99();
    const rssBefore = rssMiB(server.process.pid!);

    const sleeper = net.connect({ port: server.tcpPort, host: '127.0.0.1' });
    sleeper.on('error', () => {});
    await new Promise<void>((r) => sleeper.once('connect', () => r()));
    // A bare socket rather than a JsonClient: it must never read, so nothing may consume its input.
    sleeper.write(
      encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: 'sleeper' }) +
        encodeFrame({ type: 'join', room: 'busy' }),
    );
    sleeper.pause();
    const cutAt = Date.now();
    let peakRss = rssBefore;
    // Until the server logs the cut; each check samples the server's memory on the way.
    await until(
      () => {
        peakRss = Math.max(peakRss, rssMiB(server.process.pid!));
        return server.stderr().includes('closing sleeper: TC_ERR_SLOW_CONSUMER');
      },
      'the server to cut the sleeper as a slow consumer',
      { timeoutMs: 90_000, everyMs: 250, describe: () => server.stderr().slice(-2000) },
    );
    const p99During = chatters.takeP99();
    const cutAfterMs = Date.now() - cutAt;
    // After the cut: the latencies of the next 600 messages.
    await until(() => chatters.latencies.length >= 600, 'the observer to receive 600 more messages', {
      timeoutMs: 60_000,
    });
    const p99After = chatters.takeP99();
    const sentToSleeper = Number(/closing sleeper: TC_ERR_SLOW_CONSUMER \((\d+) bytes/.exec(server.stderr())![1]);
    console.log(
      `slow consumer: cut after ${(cutAfterMs / 1000).toFixed(1)} s with ${(sentToSleeper / 1024).toFixed(0)} KiB queued; ` +
        `server RSS ${rssBefore.toFixed(0)} MiB before, peak ${peakRss.toFixed(0)} MiB (+${(peakRss - rssBefore).toFixed(0)}); ` +
        `others' delivery p99 ${p99Before} ms before, ${p99During} ms while it lagged, ${p99After} ms after`,
    );
    // Bounded: the server held at most its queue bound for the sleeper, not everything sent to it.
    expect(sentToSleeper).toBeLessThan(1024 * 1024 + 256 * 1024);
    // The others were served the whole time.
    const probe = await JsonClient.connect(server.tcpPort);
    await probe.hello('probe');
    await probe.join('busy');
    probe.send({ type: 'msg', room: 'busy', text: `${Date.now()} probe`, ref: 'probe' });
    await probe.seen('ack', (a) => a.ref === 'probe');
    probe.close();
    chatters.close();
    sleeper.destroy();
  });

  it('drains, stores everything acknowledged and exits 0 on SIGTERM under load', async () => {
    const senders: JsonClient[] = [];
    for (let i = 0; i < 20; i++) {
      const c = await JsonClient.connect(server.tcpPort);
      await c.hello(`leaver${i}`);
      await c.join('drain');
      senders.push(c);
    }
    let n = 0;
    const timer = setInterval(() => {
      for (const [i, c] of senders.entries())
        for (let k = 0; k < 5; k++) c.send({ type: 'msg', room: 'drain', text: `d${i}-${n++}`, ref: `d${i}-${n}` });
    }, 10);
    // Under load: the server has acknowledged 1,000 of them, and more are on the way.
    const ackedSoFar = () => senders.reduce((n, c) => n + c.frames.filter((f) => f.type === 'ack').length, 0);
    await until(() => ackedSoFar() >= 1_000, '1,000 acknowledged messages', { timeoutMs: 60_000, everyMs: 50 });
    const t0 = Date.now();
    const exit = server.stop('SIGTERM');
    const code = await exit;
    clearInterval(timer);
    const took = Date.now() - t0;
    expect(code).toBe(0);
    expect(took).toBeLessThan(30_000);
    const acked = senders.flatMap((c) => c.frames.filter((f) => f.type === 'ack').map((f) => (f as { id: number }).id));
    for (const c of senders) expect(c.frames.some((f) => f.type === 'bye' && f.code === 'TC_ERR_SHUTDOWN')).toBe(true);

    await server.restart();
    const check = await JsonClient.connect(server.tcpPort);
    await check.hello('drainchecker');
    await check.join('drain');
    const ids = new Set((await check.allHistory('drain')).map((m) => m.id));
    const lost = acked.filter((id) => !ids.has(id)).length;
    console.log(`SIGTERM under load: exited 0 after ${took} ms; ${acked.length} acknowledged messages, ${lost} lost`);
    expect(lost).toBe(0);
    check.close();
    for (const c of senders) c.close();
  });
});
