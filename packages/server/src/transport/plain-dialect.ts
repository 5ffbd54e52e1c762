/**
 * The plain-text dialect, as in the original design: prompts for a nickname and a room, then one
 * current room (switched by /join), room messages as `nick: text`, private ones as `[PM] nick: text`,
 * and the slash commands of @teamchat/protocol. Translates lines into core commands and frames into
 * lines; holds the little state the dialect needs (stage, current room, oldest message shown).
 * The room prompt also answers `/rooms` and `/help` (and asks again when the room typed cannot be
 * entered). Errors read `! <sentence> [TC_ERR_*]` (see `plainErrorLine`); moving to another room
 * says "* You left <old>" before "* Now talking in <new>", and a rename is told to its user once.
 *
 * A registered nick is asked `Password: ` after the nickname (or the user sends `PASS <password>`
 * as the first line, before the nickname, as IRC clients do). With --require-accounts an
 * unregistered nick is asked to choose a password, which registers it.
 */
import { isUtf8 } from 'node:buffer';

const EMPTY = Buffer.alloc(0);
import {
  codedError,
  helpLines,
  HISTORY_DEFAULT,
  HISTORY_MAX,
  NEW_PASSWORD_PROMPT,
  NICK_PROMPT,
  normalizeRoom,
  PASSWORD_PROMPT,
  parseUserInput,
  PLAIN_EOL,
  plainErrorLine,
  ROOM_PROMPT,
  type ClientFrame,
  type CodedError,
} from '@teamchat/protocol';
import type { ChatCore } from '../core/chat-core.js';
import { BAD_INPUT_COST, costOf, HELP_COST, PASSWORD_COST, PROMPT_COST } from './command-cost.js';
import type { Connection, Work } from './connection.js';
import type { EncodedFrame } from './encoded-frame.js';

/** Frames about one room: a plain-text user sees those of the current room only. */
const ROOM_FRAMES = new Set(['message', 'presence', 'topic', 'nick']);

/** The `ref` of the join sent for the room prompt's answer: its refusal asks for a room again. */
const PROMPT_JOIN_REF = 'plain:room-prompt';

export class PlainDialect {
  #stage: 'nick' | 'password' | 'new-password' | 'room' | 'chat' = 'nick';
  #room: string | null = null;
  /** A room asked for and not yet entered: it becomes current on its `joined`. */
  #pendingRoom: string | null = null;
  /** From a `PASS <password>` line sent before the nickname. */
  #pass: string | undefined;
  #pendingNick = '';
  /** Oldest message id shown in the current room: `/history` pages before it. */
  #oldest: number | undefined;
  /** A room being left because another was entered: its `parted` was already said ("You left ..."). */
  #leavingQuietly: string | null = null;
  readonly #conn: Connection;
  readonly #core: ChatCore<Connection>;

  constructor(connection: Connection, core: ChatCore<Connection>) {
    this.#conn = connection;
    this.#core = core;
  }

  start(): void {
    this.#conn.writeText(NICK_PROMPT);
  }

  /**
   * One line becomes a command with its cost. Lines are interpreted one at a time, when their
   * turn comes (the connection waits while a password check runs), so the stage is current.
   */
  interpret(bytes: Buffer): Work | null {
    if (!isUtf8(bytes)) return this.#failing(codedError('TC_ERR_BAD_UTF8'));
    const line = bytes.toString('utf8').trim();
    switch (this.#stage) {
      case 'nick':
        return { cost: PROMPT_COST, run: () => this.#chooseNick(line) };
      case 'password':
      case 'new-password':
        return { cost: line === '' ? 0 : PASSWORD_COST, run: () => this.#password(line) };
      case 'room':
        return this.#atRoomPrompt(line);
      case 'chat':
        return this.#chat(line);
    }
  }

  /** Renders a frame for this user, noting what it needs to remember. */
  render(encoded: EncodedFrame): Buffer {
    const frame = encoded.frame;
    // A room the user has left (or is leaving, after a switch) stays silent.
    if (ROOM_FRAMES.has(frame.type) && 'room' in frame && frame.room !== undefined && frame.room !== this.#room)
      return EMPTY;
    // A rename is told to the renamed user once (the frame without a room), not again per room.
    if (frame.type === 'nick' && frame.room !== undefined && frame.new === this.#conn.nick) return EMPTY;
    if (frame.type === 'parted' && frame.room === this.#leavingQuietly) return EMPTY;
    if (frame.type === 'error' && frame.ref === PROMPT_JOIN_REF && this.#stage === 'chat' && this.#room === null) {
      // The room typed at the prompt could not be entered (a key, an invitation, a limit): ask again.
      this.#stage = 'room';
      this.#pendingRoom = null;
      return Buffer.concat([encoded.plain(this.#conn.nick ?? ''), Buffer.from(ROOM_PROMPT)]);
    }
    let left = EMPTY;
    if (frame.type === 'joined' && frame.room === this.#pendingRoom) {
      // Said before "Now talking in": the parts themselves follow this delivery.
      const others = this.#entered(frame.room);
      if (others.length > 0) left = Buffer.from(others.map((name) => `* You left ${name}${PLAIN_EOL}`).join(''));
    }
    if (frame.type === 'joined' && frame.room === this.#room) this.#oldest = frame.history[0]?.id;
    if (frame.type === 'history' && frame.room === this.#room && frame.messages.length > 0)
      this.#oldest = frame.messages[0].id;
    if (frame.type === 'message' && frame.room === this.#room && this.#oldest === undefined) this.#oldest = frame.id;
    const bytes = encoded.plain(this.#conn.nick ?? '');
    return left.length > 0 ? Buffer.concat([left, bytes]) : bytes;
  }

  #chooseNick(line: string): void {
    if (line === '') return this.#conn.writeText(NICK_PROMPT);
    if (line === '/quit') return this.#core.quit(this.#conn);
    const pass = /^PASS\s+(.+)$/i.exec(line);
    if (pass) {
      this.#pass = pass[1].replace(/^:/, '');
      return;
    }
    this.#pendingNick = line;
    // With PASS typed first, a new nick is registered when the server requires accounts.
    this.#login(this.#pass, 'when-required');
  }

  #password(line: string): void {
    if (line === '') return this.#conn.writeText(this.#stage === 'password' ? PASSWORD_PROMPT : NEW_PASSWORD_PROMPT);
    if (line === '/quit') return this.#core.quit(this.#conn);
    const password = line.replace(/^(?:\/login|PASS)\s+/i, '');
    this.#login(password, this.#stage === 'new-password');
  }

  /** Logs in with the nick typed last; may finish later (a password check runs off the event loop). */
  #login(password: string | undefined, register: boolean | 'when-required'): void {
    const asked = this.#stage;
    this.#core.login(
      this.#conn,
      { nick: this.#pendingNick, restore: false, ...(password !== undefined ? { password, register } : {}) },
      (error, state) => {
        this.#pass = undefined;
        if (!error) {
          this.#stage = 'room';
          this.#line(`* Welcome to teamchat, ${this.#conn.nick}! Type /help for commands.`);
          this.#conn.writeText(ROOM_PROMPT);
        } else if (error.code === 'TC_ERR_AUTH_REQUIRED' && password === undefined) {
          const registered = state === 'password';
          this.#stage = registered ? 'password' : 'new-password';
          if (!registered)
            this.#line(`* This server needs an account: choose a password to register ${this.#pendingNick}.`);
          this.#conn.writeText(registered ? PASSWORD_PROMPT : NEW_PASSWORD_PROMPT);
        } else if (error.code === 'TC_ERR_BAD_PASSWORD' || error.code === 'TC_ERR_WEAK_PASSWORD') {
          this.#fail(error);
          this.#stage =
            asked === 'new-password' || (asked === 'nick' && state === 'register') ? 'new-password' : 'password';
          this.#conn.writeText(this.#stage === 'password' ? PASSWORD_PROMPT : NEW_PASSWORD_PROMPT);
        } else {
          this.#fail(error);
          this.#stage = 'nick';
          this.#conn.writeText(NICK_PROMPT);
        }
      },
    );
  }

  /**
   * A line at the room prompt: a room name (and key), or one of the commands that need no room
   * (`/rooms`, `/help`, `/join`, `/quit`), answered before the prompt comes again.
   */
  #atRoomPrompt(line: string): Work {
    const input = line.startsWith('/') ? parseUserInput(line) : null;
    if (input?.kind === 'error')
      return this.#failing(this.#joinError(line, input.error), () => this.#conn.writeText(ROOM_PROMPT));
    if (input?.kind !== 'command') return { cost: PROMPT_COST, run: () => this.#chooseRoom(line) };
    const cmd = input.command;
    switch (cmd.name) {
      case 'join':
        return {
          cost: PROMPT_COST,
          run: () => this.#chooseRoom(cmd.key !== undefined ? `${cmd.room} ${cmd.key}` : cmd.room),
        };
      case 'rooms': {
        const frame: ClientFrame = { type: 'rooms', ...(cmd.after !== undefined ? { after: cmd.after } : {}) };
        return this.#command(frame, undefined, () => this.#conn.writeText(ROOM_PROMPT));
      }
      case 'help':
        return {
          cost: HELP_COST,
          run: () => {
            this.#help();
            this.#line(
              '* Now type the name of a room to enter it (a new name creates the room), or /rooms to list them.',
            );
            this.#conn.writeText(ROOM_PROMPT);
          },
        };
      case 'quit':
        return { cost: 0, run: () => this.#core.quit(this.#conn, cmd.reason) };
      default:
        return this.#failing(
          {
            code: 'TC_ERR_NOT_IN_ROOM',
            message: `You are not in a room yet: type the name of a room to enter it first (/rooms lists them), then /${cmd.name}`,
          },
          () => this.#conn.writeText(ROOM_PROMPT),
        );
    }
  }

  #chooseRoom(line: string): void {
    if (line === '') return this.#conn.writeText(ROOM_PROMPT);
    const [name = '', key, ...extra] = line.split(/\s+/);
    const room = extra.length === 0 ? normalizeRoom(name) : null;
    if (!room) {
      this.#fail(codedError('TC_ERR_BAD_ROOM', line));
      return this.#conn.writeText(ROOM_PROMPT);
    }
    this.#stage = 'chat';
    this.#pendingRoom = room;
    this.#conn.dispatch({ type: 'join', room, ref: PROMPT_JOIN_REF, ...(key !== undefined ? { key } : {}) });
  }

  #chat(line: string): Work | null {
    const input = parseUserInput(line);
    switch (input.kind) {
      case 'empty':
        return null;
      case 'error':
        return this.#failing(this.#joinError(line, input.error));
      case 'text':
        return this.#inRoom((room) => ({ type: 'msg', room, text: input.text }));
    }
    const cmd = input.command;
    switch (cmd.name) {
      case 'join': {
        const room = normalizeRoom(cmd.room);
        if (!room) return this.#failing(codedError('TC_ERR_BAD_ROOM', cmd.room));
        // The current room is left once the new one is entered (a wrong key keeps you where you are).
        return this.#command({ type: 'join', room, ...(cmd.key !== undefined ? { key: cmd.key } : {}) }, () => {
          if (room !== this.#room) this.#pendingRoom = room;
        });
      }
      case 'register':
        return this.#command({ type: 'register', password: cmd.password });
      case 'login':
        return this.#failing({
          code: 'TC_ERR_ALREADY_REGISTERED',
          message: `You are already logged in as ${this.#conn.nick}: /login only answers the password prompt`,
        });
      case 'mode': {
        const c = cmd.change;
        if (!c) return this.#command({ type: 'mode', room: cmd.room });
        if (c.mode === '+k') return this.#command({ type: 'mode', room: cmd.room, key: c.key });
        if (c.mode === '-k') return this.#command({ type: 'mode', room: cmd.room, key: null });
        return this.#command({ type: 'mode', room: cmd.room, inviteOnly: c.mode === '+i' });
      }
      case 'invite':
        return cmd.room
          ? this.#command({ type: 'invite', nick: cmd.nick, room: cmd.room })
          : this.#inRoom((room) => ({ type: 'invite', nick: cmd.nick, room }));
      case 'part': {
        if (cmd.room) return this.#command({ type: 'part', room: cmd.room }, () => this.#leaving(cmd.room!));
        return this.#inRoom(
          (room) => ({ type: 'part', room }),
          () => this.#leaving(this.#room!),
        );
      }
      case 'users':
        return cmd.room
          ? this.#command({ type: 'users', room: cmd.room })
          : this.#inRoom((room) => ({ type: 'users', room }));
      case 'rooms':
        return this.#command({ type: 'rooms', ...(cmd.after !== undefined ? { after: cmd.after } : {}) });
      case 'pm':
        return this.#command({ type: 'pm', to: cmd.to, text: cmd.text });
      case 'nick':
        return this.#command({ type: 'nick', nick: cmd.nick });
      case 'me':
        return this.#inRoom((room) => ({ type: 'msg', room, text: cmd.text, action: true }));
      case 'topic':
        return this.#inRoom((room) => ({
          type: 'topic',
          room,
          ...(cmd.topic !== undefined ? { topic: cmd.topic } : {}),
        }));
      case 'history': {
        const limit = Math.min(cmd.count ?? HISTORY_DEFAULT, HISTORY_MAX);
        return this.#inRoom((room) => ({
          type: 'history',
          room,
          limit,
          ...(this.#oldest !== undefined ? { before: this.#oldest } : {}),
        }));
      }
      case 'help':
        return { cost: HELP_COST, run: () => this.#help() };
      case 'quit':
        return { cost: 0, run: () => this.#core.quit(this.#conn, cmd.reason) };
    }
  }

  /**
   * `/join` with more than a room and a key is most likely a room name with spaces: said so, with
   * what a room name may hold, rather than the usage line.
   */
  #joinError(line: string, error: CodedError): CodedError {
    const join = /^\/join\s+(\S+(?:\s+\S+){2,})$/i.exec(line);
    return join && error.code === 'TC_ERR_BAD_ARGUMENT' ? codedError('TC_ERR_BAD_ROOM', join[1]) : error;
  }

  #help(): void {
    this.#line(['* Commands:', ...helpLines().map((l) => `*   ${l}`)].join(PLAIN_EOL));
  }

  /** A `/part` of the current room leaves the user in no room. */
  #leaving(raw: string): void {
    if (normalizeRoom(raw) !== this.#room) return;
    this.#room = null;
    this.#line('* You are in no room now: /join <room> to enter one.');
  }

  /**
   * The `joined` of the room asked for: it becomes current, and every other room is left. Not
   * just the previous one: joins that waited behind flood control may have entered rooms the user
   * never saw, which would otherwise go on talking as if they were the current one.
   */
  #entered(room: string): string[] {
    this.#pendingRoom = null;
    this.#room = room;
    this.#oldest = undefined;
    const others = [...this.#conn.rooms].map((r) => r.name).filter((name) => name !== room);
    // After this delivery: the core is in the middle of sending the `joined`. The core answers a
    // part at once, so its `parted` (already said with the `joined`) is known by its room here.
    if (others.length > 0)
      queueMicrotask(() => {
        for (const name of others) {
          this.#leavingQuietly = name;
          try {
            this.#conn.dispatch({ type: 'part', room: name });
          } finally {
            this.#leavingQuietly = null;
          }
        }
      });
    return others;
  }

  /** A command about the current room, built when it runs (the current room may change meanwhile). */
  #inRoom(build: (room: string) => ClientFrame, after?: () => void): Work {
    const probe = build(this.#room ?? 'x');
    return {
      cost: costOf(probe),
      run: () => {
        if (!this.#room)
          return this.#fail({
            code: 'TC_ERR_NOT_IN_ROOM',
            message: 'You are not in a room: /join <room> to enter one',
          });
        this.#core.handle(this.#conn, build(this.#room));
        after?.();
      },
    };
  }

  #command(frame: ClientFrame, before?: () => void, after?: () => void): Work {
    return {
      cost: costOf(frame),
      run: () => {
        before?.();
        this.#core.handle(this.#conn, frame);
        after?.();
      },
    };
  }

  #failing(error: CodedError, after?: () => void): Work {
    return {
      cost: BAD_INPUT_COST,
      run: () => {
        this.#fail(error);
        after?.();
      },
    };
  }

  /** An error line: a sentence, the code at the end (`! That is not a valid room name: ... [TC_ERR_BAD_ROOM]`). */
  #fail(error: CodedError): void {
    this.#line(plainErrorLine(error));
  }

  #line(text: string): void {
    this.#conn.writeText(text + PLAIN_EOL);
  }
}
