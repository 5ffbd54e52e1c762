/**
 * A group of stress clients driven by one thread: real TCP connections speaking NDJSON, each
 * joining a room, sending stamped random sentences with jittered waits, now and then switching
 * rooms or sending a private message to another stress client. It counts what it sends and
 * receives, measures every delivery's latency into a mergeable histogram, and keeps the ledger
 * needed to tell exactly which deliveries were expected (see ShardLedger).
 *
 * @example
 * const shard = new StressShard(config);
 * shard.start(monotonicUs());
 * // ... later
 * shard.stop();
 * const stats = shard.stats();
 * const ledger = shard.ledger();
 * await shard.close();
 */
import net from 'node:net';
import { encodeFrame, LineFramer, PROTOCOL_VERSION, type ServerFrame } from '@teamchat/protocol';
import { monotonicUs } from './clock.js';
import { LatencyHistogram } from './latency-histogram.js';
import { stampOf, stampText } from './message-token.js';
import { randomWords } from './random-words.js';
import {
  LINE_ACK,
  LINE_MESSAGE,
  LINE_OTHER,
  LINE_PM,
  roomPattern,
  scanServerLine,
  stampOfDelivery,
} from './server-line-scanner.js';
import {
  emptyCounters,
  type ShardConfig,
  type ShardCounters,
  type ShardLedger,
  type ShardStats,
  type ShowEvent,
} from './shard-types.js';

/** Deliveries can be large (a `joined` frame carries 50 messages); this only bounds memory. */
const CLIENT_MAX_LINE_BYTES = 16 * 1024 * 1024;
const REF_PATTERN = Buffer.from('"ref":"');
const QUOTE = 0x22;

interface Interval {
  room: number;
  joinUs: number;
  endUs: number;
  pattern: Buffer;
}

interface PendingSend {
  /** Room index, or -1 for a private message. */
  room: number;
  sendUs: number;
}

type ClientState = 'idle' | 'connecting' | 'in-room' | 'switching' | 'closed';

class StressClient {
  state: ClientState = 'idle';
  socket: net.Socket | null = null;
  registered = false;
  connected = false;
  failed = false;
  /** The run is over for this client: do not count its close as a disconnect. */
  ending = false;
  room = -1;
  /** The room asked for last (a `joined` for any other room is a membership restored from an earlier run). */
  wantRoom: number;
  /** Set while leaving a room: the window already ended, `part` goes out after the guard. */
  leaving = false;
  readonly intervals: Interval[] = [];
  readonly pending = new Map<string, PendingSend>();
  nextRef = 0;
  /** When the next action is due, ms after the epoch (-1: not scheduled yet). */
  dueMs = -1;
  timer: NodeJS.Timeout | null = null;
  connectTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly index: number,
    readonly nick: string,
    readonly initialRoom: number,
  ) {
    this.wantRoom = initialRoom;
  }
}

export class StressShard {
  readonly #config: ShardConfig;
  readonly #clients: StressClient[];
  readonly #online: Uint8Array;
  readonly #histogram = new LatencyHistogram();
  readonly #sends: number[][];
  readonly #rejectedSends: number[][];
  #pmExpected = 0;
  #stopped = false;
  #onShow: ((event: ShowEvent) => void) | null = null;
  /** The run epoch on the shared monotonic clock (µs); send stamps count from here. */
  #epochUs = 0;
  readonly #startTimers: NodeJS.Timeout[] = [];
  readonly #stats: ShardCounters;

  constructor(config: ShardConfig) {
    this.#config = config;
    this.#online = new Uint8Array(config.online);
    this.#clients = config.clients.map(
      (index, i) => new StressClient(index, `${config.nickPrefix}${index}`, config.initialRooms[i]),
    );
    this.#sends = config.rooms.map(() => []);
    this.#rejectedSends = config.rooms.map(() => []);
    this.#stats = emptyCounters(config.rooms.length);
  }

  /** Receives every message the clients get (for `--show`). */
  onShow(listener: (event: ShowEvent) => void): void {
    this.#onShow = listener;
  }

  /** Schedules every client's connection along the ramp, which starts at `epochUs` (see monotonicUs). */
  start(epochUs: number): void {
    this.#epochUs = epochUs;
    const nowRel = this.#now();
    this.#clients.forEach((client, i) => {
      const delayMs = Math.max(0, (this.#config.connectAtUs[i] - nowRel) / 1000);
      this.#startTimers.push(setTimeout(() => this.#connect(client), delayMs));
    });
  }

  /** Stops every client's activity (sending, switching, connecting); connections stay open. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#startTimers) clearTimeout(t);
    for (const c of this.#clients) {
      if (c.timer) clearTimeout(c.timer);
      c.timer = null;
      if (c.state === 'idle') c.state = 'closed';
      // Still not in a room when the run ends: that client failed to connect in time.
      else if (!c.connected && !c.failed && c.state === 'connecting')
        this.#fail(c, `${c.nick}: still connecting when the run ended`);
    }
  }

  stats(): ShardStats {
    let pending = 0;
    let online = 0;
    for (const c of this.#clients) {
      pending += c.pending.size;
      if (c.connected && c.state !== 'closed') online++;
    }
    return {
      ...this.#stats,
      errorCodes: { ...this.#stats.errorCodes },
      joins: [...this.#stats.joins],
      leaves: [...this.#stats.leaves],
      failures: [...this.#stats.failures],
      pending,
      online,
      latencyCounts: this.#histogram.counts.slice(),
      latencyMaxUs: this.#histogram.max,
    };
  }

  ledger(): ShardLedger {
    const intervals: number[] = [];
    for (const c of this.#clients) for (const iv of c.intervals) intervals.push(iv.room, iv.joinUs, iv.endUs);
    const sends = this.#sends.map((list, room) => {
      const rejected = this.#rejectedSends[room];
      if (rejected.length === 0) return list.slice();
      const drop = new Map<number, number>();
      for (const s of rejected) drop.set(s, (drop.get(s) ?? 0) + 1);
      return list.filter((s) => {
        const n = drop.get(s);
        if (!n) return true;
        drop.set(s, n - 1);
        return false;
      });
    });
    return { intervals, sends, pmExpected: this.#pmExpected };
  }

  /** Says goodbye on every connection and waits (at most `timeoutMs`) until they are closed. */
  async close(timeoutMs = 3000): Promise<void> {
    this.stop();
    const open: Promise<void>[] = [];
    for (const c of this.#clients) {
      c.ending = true;
      if (c.connectTimer) clearTimeout(c.connectTimer);
      const socket = c.socket;
      if (!socket || socket.destroyed) continue;
      open.push(new Promise((resolve) => socket.once('close', () => resolve())));
      if (socket.writable) socket.end(encodeFrame({ type: 'quit', reason: 'stress run over' }));
      else socket.destroy();
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(open), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    for (const c of this.#clients) c.socket?.destroy();
  }

  // ---------- one client ----------

  #now(): number {
    return monotonicUs() - this.#epochUs;
  }

  #connect(client: StressClient): void {
    if (this.#stopped || client.state !== 'idle') return;
    client.state = 'connecting';
    const addresses = [{ host: this.#config.host, port: this.#config.port }, ...(this.#config.moreAddresses ?? [])];
    const address = addresses[client.index % addresses.length];
    const socket = net.connect(address);
    socket.setNoDelay(true);
    client.socket = socket;
    const framer = new LineFramer({
      maxLineBytes: CLIENT_MAX_LINE_BYTES,
      maxUnterminatedBytes: CLIENT_MAX_LINE_BYTES * 2,
    });
    client.connectTimer = setTimeout(() => {
      this.#fail(client, `no room joined within ${this.#config.connectTimeoutMs} ms`);
      socket.destroy();
    }, this.#config.connectTimeoutMs);
    socket.on('connect', () => {
      const room = this.#config.rooms[client.initialRoom];
      socket.write(
        encodeFrame({
          type: 'hello',
          v: PROTOCOL_VERSION,
          nick: client.nick,
          client: 'teamchat-stress',
          rooms: { [room]: null },
        }),
      );
    });
    const onLine = (line: Buffer): void => this.#onLine(client, line, nowRel);
    const onFramerError = (code: string): void => this.#countError(code);
    let nowRel = 0;
    socket.on('data', (chunk: Buffer) => {
      nowRel = this.#now();
      framer.push(chunk, onLine, onFramerError);
    });
    socket.on('error', (err) => {
      if (!client.connected) this.#fail(client, `${address.host}:${address.port}: ${err.message}`);
    });
    socket.on('close', () => this.#onClose(client));
  }

  #onLine(client: StressClient, line: Buffer, nowRel: number): void {
    const kind = scanServerLine(line);
    if (kind === LINE_MESSAGE || kind === LINE_PM) {
      const sendUs = stampOfDelivery(line);
      if (sendUs < 0) {
        this.#stats.foreign++;
        return;
      }
      this.#stats.deliveries++;
      if (!this.#stopped && nowRel >= this.#config.windowStartUs) this.#stats.windowDeliveries++;
      if (sendUs >= this.#config.windowStartUs) this.#histogram.record(nowRel - sendUs);
      if (kind === LINE_PM) this.#stats.pmDelivered++;
      else if (this.#accountable(client, line, sendUs)) this.#stats.roomDelivered++;
      if (this.#onShow) this.#show(client, line, nowRel);
      return;
    }
    if (kind === LINE_ACK) {
      const ref = refOf(line);
      if (ref !== null && client.pending.delete(ref)) {
        this.#stats.acked++;
        if (!this.#stopped && nowRel >= this.#config.windowStartUs) this.#stats.windowAcked++;
      }
      return;
    }
    if (kind !== LINE_OTHER) return; // presence: nothing to do
    // The plain-text prompt a busy server showed before our hello arrived (its own line): skip it.
    if (!client.connected && line[0] !== 0x7b /* { */) return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(line.toString('utf8')) as ServerFrame;
    } catch {
      this.#countError('TC_STRESS_BAD_LINE');
      if (!client.connected) {
        // e.g. a hello that reached a busy server after its plain-text prompt delay
        this.#fail(
          client,
          `${client.nick}: the server did not answer in NDJSON: ${JSON.stringify(line.toString('utf8', 0, Math.min(line.length, 80)))}`,
        );
        client.socket?.destroy();
      }
      return;
    }
    switch (frame.type) {
      case 'welcome':
        client.registered = true;
        break;
      case 'joined':
        this.#onJoined(client, frame.room, nowRel);
        break;
      case 'error':
        this.#onError(client, frame.code, frame.message, frame.ref);
        break;
      case 'bye':
        if (client.ending) break;
        // A coded goodbye (e.g. TC_ERR_TOO_MANY_CONNECTIONS) counts as an error, so the summary can say why.
        if (frame.code) this.#countError(frame.code);
        this.#note(`${client.nick}: server said bye: ${frame.reason}${frame.code ? ` [${frame.code}]` : ''}`);
        break;
      default:
        break;
    }
  }

  /** Was this delivery expected, under the ledger's rules? Counted only then. */
  #accountable(client: StressClient, line: Buffer, sendUs: number): boolean {
    for (let i = client.intervals.length - 1; i >= 0; i--) {
      const iv = client.intervals[i];
      if (sendUs > iv.joinUs && sendUs <= iv.endUs) return line.indexOf(iv.pattern) >= 0;
      if (sendUs > iv.endUs) return false;
    }
    return false;
  }

  #onJoined(client: StressClient, roomName: string, nowRel: number): void {
    if (client.failed) return; // too late: already counted as failed
    const room = this.#config.rooms.indexOf(roomName);
    if (room !== client.wantRoom) {
      // A membership restored from an earlier run of the same nick: leave it, it is not ours.
      client.socket?.write(encodeFrame({ type: 'part', room: roomName }));
      return;
    }
    client.room = room;
    client.state = 'in-room';
    client.leaving = false;
    client.intervals.push({ room, joinUs: nowRel, endUs: Infinity, pattern: roomPattern(roomName) });
    this.#stats.joins[room]++;
    if (!client.connected) {
      client.connected = true;
      this.#stats.connected++;
      if (client.connectTimer) clearTimeout(client.connectTimer);
      client.connectTimer = null;
      this.#online[client.index] = 1;
    }
    this.#schedule(client);
  }

  #onError(client: StressClient, code: string, message: string, ref: string | undefined): void {
    this.#countError(code);
    const sent = ref !== undefined ? client.pending.get(ref) : undefined;
    if (sent && ref !== undefined) {
      client.pending.delete(ref);
      this.#stats.rejected++;
      if (sent.room >= 0) this.#rejectedSends[sent.room].push(sent.sendUs);
      else this.#pmExpected -= 2;
    }
    if (!client.connected) {
      this.#fail(client, `${client.nick}: ${code}: ${message}`);
      client.socket?.destroy();
    }
  }

  #onClose(client: StressClient): void {
    if (client.connectTimer) clearTimeout(client.connectTimer);
    client.connectTimer = null;
    if (client.timer) clearTimeout(client.timer);
    client.timer = null;
    const wasConnected = client.connected && client.state !== 'closed';
    client.state = 'closed';
    this.#online[client.index] = 0;
    if (!client.connected) {
      if (!client.ending) this.#fail(client, `${client.nick}: connection closed before joining a room`);
      return;
    }
    if (wasConnected && !client.ending) {
      this.#stats.disconnected++;
      this.#note(`${client.nick}: disconnected`);
      const last = client.intervals[client.intervals.length - 1];
      if (last && last.endUs === Infinity) last.endUs = this.#now();
    }
  }

  #fail(client: StressClient, reason: string): void {
    if (client.connected || client.failed || client.ending) return;
    client.failed = true;
    this.#stats.failed++;
    this.#note(reason);
  }

  #note(reason: string): void {
    if (this.#stats.failures.length < 20) this.#stats.failures.push(reason);
  }

  #countError(code: string): void {
    this.#stats.errors++;
    this.#stats.errorCodes[code] = (this.#stats.errorCodes[code] ?? 0) + 1;
  }

  /**
   * Schedules the client's next action on its own timeline (each wait drawn from 0.5x..1.5x the
   * interval, added to the previous due time), so a busy event loop delays actions but does not
   * lower the offered rate; a client more than a second behind skips ahead instead of bursting.
   */
  #schedule(client: StressClient): void {
    if (this.#stopped || client.timer) return;
    const nowMs = this.#now() / 1000;
    const step = this.#config.intervalMs * (0.5 + Math.random());
    if (client.dueMs < 0) {
      const quietUntil = this.#config.quietRamp ? this.#config.windowStartUs / 1000 : 0;
      client.dueMs = nowMs < quietUntil ? quietUntil + this.#config.intervalMs * Math.random() : nowMs + step;
    } else {
      client.dueMs = Math.max(client.dueMs + step, nowMs - 1000);
    }
    const wait = Math.max(0, client.dueMs - nowMs);
    client.timer = setTimeout(() => {
      client.timer = null;
      this.#act(client);
    }, wait);
  }

  #act(client: StressClient): void {
    if (this.#stopped || client.state === 'closed') return;
    const socket = client.socket;
    if (!socket || !socket.writable) return;
    const roll = Math.random();
    const { switchChance, pmChance, rooms } = this.#config;
    if (client.state === 'in-room' && !client.leaving && rooms.length > 1 && roll < switchChance) {
      this.#beginSwitch(client);
    } else if (roll >= switchChance && roll < switchChance + pmChance && this.#sendPm(client)) {
      // sent a private message
    } else if (client.state === 'in-room') {
      this.#sendRoomMessage(client);
    }
    this.#schedule(client);
  }

  #sendRoomMessage(client: StressClient): void {
    const sendUs = this.#now();
    const ref = (client.nextRef++).toString(36);
    const room = client.room;
    client.pending.set(ref, { room, sendUs });
    this.#sends[room].push(sendUs);
    this.#stats.sent++;
    if (sendUs >= this.#config.windowStartUs) this.#stats.windowSent++;
    const text = stampText(sendUs, randomWords(Math.random));
    client.socket!.write(encodeFrame({ type: 'msg', room: this.#config.rooms[room], text, ref }));
  }

  /** Sends a private message to a random other online stress client; false when none was found. */
  #sendPm(client: StressClient): boolean {
    const total = this.#config.totalClients;
    if (total < 2) return false;
    let target = -1;
    for (let tries = 0; tries < 8 && target < 0; tries++) {
      const pick = Math.floor(Math.random() * total);
      if (pick !== client.index && this.#online[pick] === 1) target = pick;
    }
    if (target < 0) return false;
    const sendUs = this.#now();
    const ref = (client.nextRef++).toString(36);
    client.pending.set(ref, { room: -1, sendUs });
    this.#pmExpected += 2;
    this.#stats.pmSent++;
    if (sendUs >= this.#config.windowStartUs) this.#stats.windowSent++;
    const text = stampText(sendUs, randomWords(Math.random));
    client.socket!.write(encodeFrame({ type: 'pm', to: `${this.#config.nickPrefix}${target}`, text, ref }));
    return true;
  }

  /** Leaves the current room for another: the window ends now, `part` follows after the guard. */
  #beginSwitch(client: StressClient): void {
    const from = client.room;
    const rooms = this.#config.rooms;
    let to = Math.floor(Math.random() * (rooms.length - 1));
    if (to >= from) to++;
    client.leaving = true;
    const last = client.intervals[client.intervals.length - 1];
    if (last) last.endUs = this.#now();
    setTimeout(() => {
      if (this.#stopped || client.state !== 'in-room' || !client.socket?.writable) return;
      client.state = 'switching';
      client.wantRoom = to;
      this.#stats.leaves[from]++;
      // One write for both, so the server reads them together.
      client.socket.write(
        encodeFrame({ type: 'part', room: rooms[from] }) + encodeFrame({ type: 'join', room: rooms[to] }),
      );
    }, this.#config.leaveGuardMs).unref();
  }

  #show(client: StressClient, line: Buffer, nowRel: number): void {
    try {
      const frame = JSON.parse(line.toString('utf8')) as ServerFrame;
      if (frame.type !== 'message' && frame.type !== 'pm') return;
      const stamp = stampOf(frame.text);
      const text = stamp ? stamp.words : frame.text;
      const latencyUs = stamp ? nowRel - stamp.sendUs : 0;
      if (frame.type === 'message') {
        this.#onShow!({
          client: client.index,
          nick: client.nick,
          kind: 'message',
          room: frame.room,
          from: frame.nick,
          text,
          latencyUs,
        });
      } else {
        this.#onShow!({
          client: client.index,
          nick: client.nick,
          kind: 'pm',
          from: frame.from,
          to: frame.to,
          text,
          latencyUs,
        });
      }
    } catch {
      // a line the scanner accepted always parses; nothing to show otherwise
    }
  }
}

/** The `ref` of an ack line, without parsing it. */
function refOf(line: Buffer): string | null {
  const at = line.indexOf(REF_PATTERN);
  if (at < 0) return null;
  const start = at + REF_PATTERN.length;
  const end = line.indexOf(QUOTE, start);
  return end < 0 ? null : line.toString('latin1', start, end);
}
