/**
 * The original design's scripted demo conversation: Alice, Bob and Charlie connect over TCP
 * (NDJSON), join rooms, chat, list users, send private messages and switch rooms. Each step is
 * a line the user "types", parsed by the shared slash-command parser; the step waits for the
 * server's answer to it before the next one. Each user is a client-core `ChatClient`, as every
 * teamchat client is: typed requests with timeouts, messages acked by the server.
 *
 * @example
 * await playScript({ host: '127.0.0.1', port: 5555, onLine: (l) => console.log(`[${l.user}] ${l.text}`) });
 */
import { ChatClient, ClientError, type ClientEvent } from '@teamchat/client-core';
import { formatPlain, parseUserInput, type ServerFrame } from '@teamchat/protocol';
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

/** One demo user: a client, and the room its typed text goes to. */
interface ScriptUser {
  readonly nick: string;
  client: ChatClient | null;
  room: string | null;
}

/** What a typed line does: a request to the server (or a message), or nothing. */
type Step = (client: ChatClient, timeoutMs: number) => Promise<unknown>;

/** Turns a typed line into what the user's client sends, or null when it sends nothing. */
function stepFor(user: ScriptUser, input: string): Step | null {
  const parsed = parseUserInput(input);
  const room = user.room;
  if (parsed.kind === 'text') return room ? (c, ms) => acked(c.say(room, parsed.text), ms) : null;
  if (parsed.kind !== 'command') return null;
  const cmd = parsed.command;
  switch (cmd.name) {
    case 'join':
      return (c, timeoutMs) => c.request({ type: 'join', room: cmd.room }, { timeoutMs });
    case 'part': {
      const target = cmd.room ?? room;
      return target ? (c, timeoutMs) => c.part(target, { timeoutMs }) : null;
    }
    case 'users': {
      const target = cmd.room ?? room;
      return target ? (c, timeoutMs) => c.users(target, {}, { timeoutMs }) : null;
    }
    case 'rooms':
      return (c, timeoutMs) => c.roomList({}, { timeoutMs });
    case 'pm':
      return (c, ms) => acked(c.pm(cmd.to, cmd.text), ms);
    case 'me':
      return room ? (c, ms) => acked(c.say(room, cmd.text, { action: true }), ms) : null;
    case 'topic':
      return room ? (c, timeoutMs) => c.topic(room, cmd.topic, { timeoutMs }) : null;
    case 'nick':
      return (c, timeoutMs) => c.changeNick(cmd.nick, { timeoutMs });
    default:
      return null;
  }
}

/** A message's ack, or TC_CLIENT_TIMEOUT (the client keeps a message until it is acked: the script does not wait that long). */
function acked<T>(sent: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ClientError('TC_CLIENT_TIMEOUT', `no answer from the server within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([sent, late]).finally(() => clearTimeout(timer));
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
  const listen = (user: ScriptUser) => (event: ClientEvent) => {
    if (event.kind === 'frame') show(user, event.frame);
    else if (event.kind === 'warning') errors.push(`${user.nick}: ${event.code}: ${event.message}`);
  };
  const nicks = [...new Set(steps.map((s) => s.user))];
  const users = new Map<string, ScriptUser>(nicks.map((nick) => [nick, { nick, client: null, room: null }]));
  const all = [...users.values()];
  const close = async () => {
    await Promise.all(all.flatMap((u) => (u.client ? [u.client.quit('demo script done')] : [])));
  };
  try {
    for (const user of all) {
      try {
        // No rooms asked for: the script decides where everyone is. A server that cannot be
        // reached is given up on after the answer timeout, not retried for ever.
        user.client = await ChatClient.connect(
          {
            addresses: [{ host: options.host, port: options.port }],
            nick: user.nick,
            client: 'teamchat-demo',
            connectTimeoutMs: timeout,
            giveUpAfterMs: timeout,
            requestTimeoutMs: timeout,
          },
          listen(user),
        );
      } catch (err) {
        const e = err as ClientError;
        if (e.frame)
          throw new StressError('TC_STRESS_SCRIPT_FAILED', `${user.nick} was refused: ${e.code}: ${e.message}`);
        throw new StressError('TC_STRESS_SCRIPT_FAILED', `demo user ${user.nick} could not connect: ${e.message}`);
      }
      // Memberships the server restored (an earlier demo on the same data): leave them.
      for (const room of user.client.rooms) await user.client.part(room).catch(() => null);
      user.room = null;
    }
    for (const step of steps) {
      const user = users.get(step.user)!;
      options.onLine({ user: user.nick, kind: 'typed', text: step.input });
      const act = stepFor(user, step.input);
      if (act) {
        try {
          await act(user.client!, timeout);
        } catch (err) {
          // The server's refusal is an answer: its error frame was shown and counted above.
          if (!(err instanceof ClientError) || !err.frame) {
            throw new StressError(
              'TC_STRESS_SCRIPT_FAILED',
              `${user.nick}: no answer to "${step.input}": ${(err as Error).message}`,
            );
          }
        }
      }
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
