/** @jsxRuntime automatic @jsxImportSource react */
/**
 * Keystroke-to-screen latency of the Ink client while a room receives ~500 messages/s.
 *
 * A real `teamchat serve` child process; a flood client sends `--rate` messages/s to #general
 * over TCP; the client runs in this process (ChatConnection + ChatStore + the real App) on a
 * pseudo terminal made of streams (120x40). A keystroke is written to stdin every `--interval`
 * ms; its latency is the time until Ink writes a frame whose input line shows it.
 *
 * Run: node --import tsx packages/client/bench/keystroke-latency.tsx [--rate 500] [--keys 200] [--interval 40] [--fps 30]
 */
import net from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { render } from 'ink';
import { encodeFrame, PROTOCOL_VERSION } from '@teamchat/protocol';
import { LatencyHistogram } from '../../stress/src/latency-histogram.js';
import { ChatConnection } from '../src/connection/chat-connection.js';
import { ChatStore } from '../src/state/chat-store.js';
import { initialChatState } from '../src/state/chat-state.js';
import { App } from '../src/ui/App.js';
import { spawnServer } from '../../../test/helpers/spawn-server.js';
import { pace } from '../../../test/helpers/waits.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '500' },
    keys: { type: 'string', default: '200' },
    interval: { type: 'string', default: '40' },
    fps: { type: 'string', default: '30' },
  },
});
const RATE = Number(values.rate);
const KEYS = Number(values.keys);
const INTERVAL = Number(values.interval);

const server = await spawnServer();
try {
  // ---- flood client ----
  const flood = net.connect({ host: '127.0.0.1', port: server.tcpPort });
  await new Promise((r) => flood.once('connect', r));
  flood.on('data', () => {});
  flood.write(encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick: 'flood', rooms: { general: null } }));

  // ---- the client under test, on a stream terminal ----
  const stdin = new PassThrough() as unknown as NodeJS.ReadStream & PassThrough;
  Object.assign(stdin, { isTTY: true, setRawMode: () => stdin, ref: () => stdin, unref: () => stdin });
  let screen = '';
  let onWrite: ((chunk: string) => void) | null = null;
  const stdout = new Writable({
    write(chunk, _enc, cb) {
      screen = String(chunk);
      onWrite?.(screen);
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stdout, { isTTY: true, columns: 120, rows: 40 });

  const conn = new ChatConnection({ host: '127.0.0.1', port: server.tcpPort, nick: 'alice', rooms: ['general'] });
  const store = new ChatStore(initialChatState(conn.state));
  let received = 0;
  conn.on((e) => {
    if (e.kind === 'frame') {
      if (e.frame.type === 'message') received++;
      store.pushFrame(e.frame);
    } else if (e.kind === 'state') store.dispatch({ type: 'connection', state: e.state, now: Date.now() });
  });
  const ready = new Promise<void>((r) => conn.on((e) => e.kind === 'ready' && r()));
  const app = render(
    <App store={store} intents={{ input: () => {}, older: () => {}, quit: () => {}, nick: () => {} }} />,
    { stdin, stdout, exitOnCtrlC: false, patchConsole: false, maxFps: Number(values.fps) },
  );
  conn.start();
  await ready;

  // ---- flood at RATE msg/s in 10 ms ticks ----
  let sent = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - started) / 1000) * RATE);
    let chunk = '';
    for (; sent < due; sent++)
      chunk += encodeFrame({ type: 'msg', room: 'general', text: `flood message ${sent} lorem ipsum dolor sit amet` });
    if (chunk) flood.write(chunk);
  }, 10);
  await pace(1500, 'warm up: the client runs under the flood for a while before keystrokes are measured');

  // ---- keystrokes ----
  const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  const samples: number[] = [];
  let typed = '';
  const alphabet = 'abcdefghijklmnopqrstuvwxyz';
  const recvStart = received;
  const t0 = Date.now();
  for (let i = 0; i < KEYS; i++) {
    if (typed.length >= 60) {
      stdin.write('\x15'); // Ctrl+U clears the line
      typed = '';
      await pace(INTERVAL, 'keys arrive at a typing rate, not all at once');
    }
    const ch = alphabet[i % alphabet.length];
    typed += ch;
    const want = `[#general] ${typed}`;
    const shown = new Promise<number>((resolve) => {
      onWrite = (frame) => {
        if (strip(frame).includes(want)) {
          onWrite = null;
          resolve(performance.now());
        }
      };
    });
    const start = performance.now();
    stdin.write(ch);
    samples.push((await shown) - start);
    await pace(INTERVAL, 'keys arrive at a typing rate, not all at once');
  }
  const seconds = (Date.now() - t0) / 1000;
  clearInterval(timer);
  // The project's one percentile (LatencyHistogram, ~3 % precision; the max is exact).
  const latency = LatencyHistogram.ofMs(samples);
  const ms = (us: number) => (us / 1000).toFixed(1);
  const pct = (p: number) => ms(latency.percentile(p / 100));
  console.log(`incoming: ${((received - recvStart) / seconds).toFixed(0)} msg/s shown to the client (target ${RATE})`);
  console.log(
    `keystroke to screen over ${latency.count} keys: p50 ${pct(50)} ms, p95 ${pct(95)} ms, p99 ${pct(99)} ms, max ${ms(latency.max)} ms`,
  );
  app.unmount();
  store.close();
  conn.destroy();
  flood.destroy();
} finally {
  await server.cleanup();
}
process.exit(0);
