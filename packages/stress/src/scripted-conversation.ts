/**
 * The original design's scripted demo conversation: Alice, Bob and Charlie connect over TCP
 * (NDJSON), join rooms, chat, list users, send private messages and switch rooms. Each step is
 * a line the user "types", parsed by the shared slash-command parser; the step waits for the
 * server's answer to it (matched by `ref`) before the next one.
 *
 * @example
 * await playScript({ host: '127.0.0.1', port: 5555, onLine: (l) => console.log(`[${l.user}] ${l.text}`) });
 */
import net from 'node:net';
import {
  formatPlain,
  LineFramer,
  parseUserInput,
  PROTOCOL_VERSION,
  type ClientFrame,
  type ServerFrame,
} from '@teamchat/protocol';
import { StressError } from './stress-error.js';

export interface ScriptStep {
  user: string;
  /** What the user types: text for the current room, or a slash command. */
  input: string;
}

export interface ScriptLine {
  user: string;
  /** `typed`: the user's input; `received`: a line the user's client shows. */
  kind: 'typed' | 'received';
  text: string;
}

export const DEMO_USERS = ['Alice', 'Bob', 'Charlie'] as const;

export const DEMO_SCRIPT: readonly ScriptStep[] = [
  { user: 'Alice', input: '/join room1' },
  { user: 'Bob', input: '/join room1' },
  { user: 'Charlie', input: '/join room2' },
  { user: 'Alice', input: 'Morning Bob! Is the release build green?' },
  { user: 'Bob', input: 'Almost. One test is flaky, looking at it now.' },
  { user: 'Charlie', input: 'Anyone around in room2? Quiet here.' },
  { user: 'Alice', input: '/users' },
  { user: 'Alice', input: '/pm Charlie Could you help Bob with the flaky test?' },
  { user: 'Charlie', input: '/pm Alice Sure, coming over to room1.' },
  { user: 'Charlie', input: '/part' },
  { user: 'Charlie', input: '/join room1' },
  { user: 'Charlie', input: 'Hi both. Which test is it?' },
  { user: 'Bob', input: 'The reconnect one. Logs are on the ticket.' },
  { user: 'Bob', input: '/me shares the logs' },
  { user: 'Charlie', input: '/users' },
  { user: 'Alice', input: '/join room2' },
  { user: 'Alice', input: 'Room2 is where the load test will run.' },
  { user: 'Bob', input: '/pm Alice Fixed it, it was a timeout.' },
  { user: 'Alice', input: '/rooms' },
];

export interface PlayScriptOptions {
  host: string;
  port: number;
  steps?: readonly ScriptStep[];
  onLine: (line: ScriptLine) => void;
  /** Pause after each step, for people watching (default 400 ms). */
  stepDelayMs?: number;
  /** Longest wait for the server's answer to one step (default 10 s). */
  answerTimeoutMs?: number;
  /** Leave the users connected (they quit when `close()` is called); default: they quit at the end. */
  stayConnected?: boolean;
}

export interface ScriptResult {
  /** Lines each user's client received and showed. */
  received: Record<string, number>;
  /** Error frames the script got (a healthy server gives none). */
  errors: string[];
  /** Disconnects the users (a no-op unless `stayConnected`). */
  close(): Promise<void>;
}

class ScriptUser {
  readonly socket: net.Socket;
  room: string | null = null;
  received = 0;
  #nextRef = 1;
  readonly #waiting = new Map<string, (frame: ServerFrame) => void>();

  constructor(
    readonly nick: string,
    host: string,
    port: number,
    onFrame: (user: ScriptUser, frame: ServerFrame) => void,
  ) {
    this.socket = net.connect({ host, port });
    const framer = new LineFramer({ maxLineBytes: 16 * 1024 * 1024 });
    this.socket.on('data', (chunk: Buffer) =>
      framer.push(
        chunk,
        (line) => {
          let frame: ServerFrame;
          try {
            frame = JSON.parse(line.toString('utf8')) as ServerFrame;
          } catch {
            return;
          }
          onFrame(this, frame);
          const ref = 'ref' in frame ? frame.ref : undefined;
          if (ref && this.#waiting.has(ref)) {
            const done = this.#waiting.get(ref)!;
            this.#waiting.delete(ref);
            done(frame);
          }
        },
        () => {},
      ),
    );
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
  }

  /** Sends a frame with a fresh ref and resolves with the server's answer to it. */
  request(frame: ClientFrame, timeoutMs: number): Promise<ServerFrame> {
    const ref = `s${this.#nextRef++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(ref);
        reject(new StressError('TC_STRESS_SCRIPT_FAILED', `${this.nick}: no answer to ${frame.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(ref, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.socket.write(JSON.stringify({ ...frame, ref }) + '\n');
    });
  }

  async quit(): Promise<void> {
    if (this.socket.destroyed) return;
    const closed = new Promise<void>((r) => this.socket.once('close', () => r()));
    this.socket.end(JSON.stringify({ type: 'quit', reason: 'demo script done' }) + '\n');
    const timer = setTimeout(() => this.socket.destroy(), 2_000);
    await closed;
    clearTimeout(timer);
  }
}

/** Turns a typed line into the frame a client sends, or null when it needs no frame. */
function frameFor(user: ScriptUser, input: string): ClientFrame | null {
  const parsed = parseUserInput(input);
  if (parsed.kind === 'text') return user.room ? { type: 'msg', room: user.room, text: parsed.text } : null;
  if (parsed.kind !== 'command') return null;
  const c = parsed.command;
  switch (c.name) {
    case 'join':
      return { type: 'join', room: c.room };
    case 'part':
      return user.room || c.room ? { type: 'part', room: c.room ?? user.room! } : null;
    case 'users':
      return user.room || c.room ? { type: 'users', room: c.room ?? user.room! } : null;
    case 'rooms':
      return { type: 'rooms' };
    case 'pm':
      return { type: 'pm', to: c.to, text: c.text };
    case 'me':
      return user.room ? { type: 'msg', room: user.room, text: c.text, action: true } : null;
    case 'topic':
      return user.room ? { type: 'topic', room: user.room, ...(c.topic !== undefined ? { topic: c.topic } : {}) } : null;
    case 'nick':
      return { type: 'nick', nick: c.nick };
    default:
      return null;
  }
}

/** Plays the script against a running server; throws TC_STRESS_SCRIPT_FAILED when a user cannot connect or a step gets no answer. */
export async function playScript(options: PlayScriptOptions): Promise<ScriptResult> {
  const steps = options.steps ?? DEMO_SCRIPT;
  const delay = options.stepDelayMs ?? 400;
  const timeout = options.answerTimeoutMs ?? 10_000;
  const errors: string[] = [];
  const received: Record<string, number> = {};
  const show = (user: ScriptUser, frame: ServerFrame) => {
    if (frame.type === 'joined') user.room = frame.room;
    if (frame.type === 'parted' && user.room === frame.room) user.room = null;
    if (frame.type === 'error') errors.push(`${user.nick}: ${frame.code}: ${frame.message}`);
    for (const text of formatPlain(frame, user.nick)) {
      received[user.nick] = (received[user.nick] ?? 0) + 1;
      options.onLine({ user: user.nick, kind: 'received', text });
    }
  };
  const nicks = [...new Set(steps.map((s) => s.user))];
  const users = new Map(nicks.map((nick) => [nick, new ScriptUser(nick, options.host, options.port, show)]));
  const all = [...users.values()];
  const close = async () => {
    await Promise.all(all.map((u) => u.quit()));
  };
  try {
    await Promise.all(all.map((u) => u.connected())).catch((err: Error) => {
      throw new StressError('TC_STRESS_SCRIPT_FAILED', `demo users cannot connect to ${options.host}:${options.port}: ${err.message}`);
    });
    for (const user of all) {
      // Start each user in no room, so the script decides where everyone is.
      const welcome = await user.request({ type: 'hello', v: PROTOCOL_VERSION, nick: user.nick, client: 'teamchat-demo' }, timeout);
      if (welcome.type !== 'welcome') {
        throw new StressError('TC_STRESS_SCRIPT_FAILED', `${user.nick} was refused: ${welcome.type === 'error' ? `${welcome.code}: ${welcome.message}` : welcome.type}`);
      }
      for (const room of welcome.rooms) await user.request({ type: 'part', room }, timeout).catch(() => null);
      user.room = null;
    }
    for (const step of steps) {
      const user = users.get(step.user)!;
      options.onLine({ user: user.nick, kind: 'typed', text: step.input });
      const frame = frameFor(user, step.input);
      if (frame) await user.request(frame, timeout);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    }
    // Let the last broadcasts arrive before anyone leaves.
    await new Promise((r) => setTimeout(r, Math.max(100, delay)));
  } catch (err) {
    await close();
    throw err;
  }
  if (!options.stayConnected) await close();
  return { received, errors, close: options.stayConnected ? close : async () => {} };
}
