/**
 * The plain-text dialect, as in the original design: prompts for a nickname and a room, then one
 * current room (switched by /join), room messages as `nick: text`, private ones as `[PM] nick: text`,
 * and the slash commands of @teamchat/protocol. Translates lines into core commands and frames into
 * lines; holds the little state the dialect needs (stage, current room, oldest message shown).
 *
 * A registered nick is asked `Password: ` after the nickname (or the user sends `PASS <password>`
 * as the first line, before the nickname, as IRC clients do). With --require-accounts an
 * unregistered nick is asked to choose a password, which registers it.
 */
import { isUtf8 } from 'node:buffer';
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
  ROOM_PROMPT,
  type ClientFrame,
  type CodedError,
} from '@teamchat/protocol';
import type { ChatCore } from '../core/chat-core.js';
import type { Connection } from './connection.js';
import type { EncodedFrame } from './encoded-frame.js';

/** Lines kept while a password is being checked (a script may type ahead). */
const MAX_TYPED_AHEAD = 32;

export class PlainDialect {
  #stage: 'nick' | 'password' | 'new-password' | 'checking' | 'room' | 'chat' = 'nick';
  #room: string | null = null;
  /** A room asked for and not yet entered: it becomes current on its `joined`. */
  #pendingRoom: string | null = null;
  /** From a `PASS <password>` line sent before the nickname. */
  #pass: string | undefined;
  #pendingNick = '';
  #typedAhead: Buffer[] = [];
  /** Oldest message id shown in the current room: `/history` pages before it. */
  #oldest: number | undefined;
  readonly #conn: Connection;
  readonly #core: ChatCore<Connection>;

  constructor(connection: Connection, core: ChatCore<Connection>) {
    this.#conn = connection;
    this.#core = core;
  }

  start(): void {
    this.#conn.writeText(NICK_PROMPT);
  }

  receive(bytes: Buffer): void {
    if (this.#stage === 'checking') {
      if (this.#typedAhead.length < MAX_TYPED_AHEAD) this.#typedAhead.push(Buffer.from(bytes));
      else this.#fail(codedError('TC_ERR_RATE_LIMITED', 'wait for the password check'));
      return;
    }
    if (!isUtf8(bytes)) return this.#fail(codedError('TC_ERR_BAD_UTF8'));
    const line = bytes.toString('utf8').trim();
    switch (this.#stage) {
      case 'nick':
        return this.#chooseNick(line);
      case 'password':
      case 'new-password':
        return this.#password(line);
      case 'room':
        return this.#chooseRoom(line);
      case 'chat':
        return this.#chat(line);
    }
  }

  /** Renders a frame for this user, noting what it needs to remember. */
  render(encoded: EncodedFrame): Buffer {
    const frame = encoded.frame;
    if (frame.type === 'joined' && frame.room === this.#pendingRoom) this.#entered(frame.room);
    if (frame.type === 'joined' && frame.room === this.#room) this.#oldest = frame.history[0]?.id;
    if (frame.type === 'history' && frame.room === this.#room && frame.messages.length > 0) this.#oldest = frame.messages[0]!.id;
    if (frame.type === 'message' && frame.room === this.#room && this.#oldest === undefined) this.#oldest = frame.id;
    return encoded.plain(this.#conn.nick ?? '');
  }

  #chooseNick(line: string): void {
    if (line === '') return this.#conn.writeText(NICK_PROMPT);
    if (line === '/quit') return this.#core.quit(this.#conn);
    const pass = /^PASS\s+(.+)$/i.exec(line);
    if (pass) {
      this.#pass = pass[1]!.replace(/^:/, '');
      return;
    }
    this.#pendingNick = line;
    const state = this.#core.accountState(line);
    this.#login(this.#pass, state === 'register');
  }

  #password(line: string): void {
    if (line === '') return this.#conn.writeText(this.#stage === 'password' ? PASSWORD_PROMPT : NEW_PASSWORD_PROMPT);
    if (line === '/quit') return this.#core.quit(this.#conn);
    const password = line.replace(/^(?:\/login|PASS)\s+/i, '');
    this.#login(password, this.#stage === 'new-password');
  }

  /** Logs in with the nick typed last; may finish later (a password check runs off the event loop). */
  #login(password: string | undefined, register: boolean): void {
    const asked = this.#stage;
    this.#stage = 'checking';
    let sync = true;
    this.#core.login(this.#conn, { nick: this.#pendingNick, restore: false, ...(password !== undefined ? { password, register } : {}) }, (error) => {
      this.#pass = undefined;
      if (!error) {
        this.#stage = 'room';
        this.#line(`* Welcome to teamchat, ${this.#conn.nick}! Type /help for commands.`);
        this.#conn.writeText(ROOM_PROMPT);
      } else if (error.code === 'TC_ERR_AUTH_REQUIRED' && password === undefined) {
        const registered = this.#core.accountState(this.#pendingNick) === 'password';
        this.#stage = registered ? 'password' : 'new-password';
        if (!registered) this.#line(`* This server needs an account: choose a password to register ${this.#pendingNick}.`);
        this.#conn.writeText(registered ? PASSWORD_PROMPT : NEW_PASSWORD_PROMPT);
      } else if (error.code === 'TC_ERR_BAD_PASSWORD' || error.code === 'TC_ERR_WEAK_PASSWORD') {
        this.#fail(error);
        this.#stage = asked === 'new-password' || (asked === 'nick' && register) ? 'new-password' : 'password';
        this.#conn.writeText(this.#stage === 'password' ? PASSWORD_PROMPT : NEW_PASSWORD_PROMPT);
      } else {
        this.#fail(error);
        this.#stage = 'nick';
        this.#conn.writeText(NICK_PROMPT);
      }
      if (!sync) this.#replayTypedAhead();
    });
    sync = false;
  }

  #replayTypedAhead(): void {
    const lines = this.#typedAhead;
    this.#typedAhead = [];
    for (const line of lines) this.#conn.receive(line);
  }

  #chooseRoom(line: string): void {
    if (line === '') return this.#conn.writeText(ROOM_PROMPT);
    if (line === '/quit') return this.#core.quit(this.#conn);
    const [name = '', key, ...extra] = line.split(/\s+/);
    const room = extra.length === 0 ? normalizeRoom(name) : null;
    if (!room) {
      this.#fail(codedError('TC_ERR_BAD_ROOM', line));
      return this.#conn.writeText(ROOM_PROMPT);
    }
    this.#stage = 'chat';
    this.#enter(room, key);
  }

  #chat(line: string): void {
    const input = parseUserInput(line);
    switch (input.kind) {
      case 'empty':
        return;
      case 'error':
        return this.#fail(input.error);
      case 'text':
        return this.#inRoom((room) => ({ type: 'msg', room, text: input.text }));
    }
    const cmd = input.command;
    switch (cmd.name) {
      case 'join': {
        const room = normalizeRoom(cmd.room);
        if (!room) return this.#fail(codedError('TC_ERR_BAD_ROOM', cmd.room));
        // The current room is left once the new one is entered (a wrong key keeps you where you are).
        return this.#enter(room, cmd.key);
      }
      case 'register':
        return this.#handle({ type: 'register', password: cmd.password });
      case 'login':
        return this.#fail(codedError('TC_ERR_ALREADY_REGISTERED', 'you are logged in'));
      case 'mode': {
        const c = cmd.change;
        if (!c) return this.#handle({ type: 'mode', room: cmd.room });
        if (c.mode === '+k') return this.#handle({ type: 'mode', room: cmd.room, key: c.key });
        if (c.mode === '-k') return this.#handle({ type: 'mode', room: cmd.room, key: null });
        return this.#handle({ type: 'mode', room: cmd.room, inviteOnly: c.mode === '+i' });
      }
      case 'invite': {
        const room = cmd.room ?? this.#room;
        if (!room) return this.#fail(codedError('TC_ERR_NOT_IN_ROOM', 'you are not in a room; /invite <nick> <room>'));
        return this.#handle({ type: 'invite', nick: cmd.nick, room });
      }
      case 'part': {
        const room = cmd.room ?? this.#room;
        if (!room) return this.#fail(codedError('TC_ERR_NOT_IN_ROOM', 'you are not in a room; /join <room>'));
        this.#handle({ type: 'part', room });
        if (normalizeRoom(room) === this.#room) {
          this.#room = null;
          this.#line('* You are in no room now: /join <room> to enter one.');
        }
        return;
      }
      case 'users':
        return cmd.room ? this.#handle({ type: 'users', room: cmd.room }) : this.#inRoom((room) => ({ type: 'users', room }));
      case 'rooms':
        return this.#handle({ type: 'rooms' });
      case 'pm':
        return this.#handle({ type: 'pm', to: cmd.to, text: cmd.text });
      case 'nick':
        return this.#handle({ type: 'nick', nick: cmd.nick });
      case 'me':
        return this.#inRoom((room) => ({ type: 'msg', room, text: cmd.text, action: true }));
      case 'topic':
        return this.#inRoom((room) => ({ type: 'topic', room, ...(cmd.topic !== undefined ? { topic: cmd.topic } : {}) }));
      case 'history': {
        const limit = Math.min(cmd.count ?? HISTORY_DEFAULT, HISTORY_MAX);
        return this.#inRoom((room) => ({ type: 'history', room, limit, ...(this.#oldest !== undefined ? { before: this.#oldest } : {}) }));
      }
      case 'help':
        return this.#line(['* Commands:', ...helpLines().map((l) => `*   ${l}`)].join(PLAIN_EOL));
      case 'quit':
        return this.#core.quit(this.#conn, cmd.reason);
    }
  }

  #enter(room: string, key: string | undefined): void {
    if (room === this.#room) return this.#core.join(this.#conn, room, undefined, undefined);
    this.#pendingRoom = room;
    this.#conn.dispatch({ type: 'join', room, ...(key !== undefined ? { key } : {}) });
  }

  /** The `joined` of the room asked for: it becomes current, and the previous one is left. */
  #entered(room: string): void {
    const previous = this.#room;
    this.#pendingRoom = null;
    this.#room = room;
    this.#oldest = undefined;
    if (previous && previous !== room) queueMicrotask(() => this.#conn.dispatch({ type: 'part', room: previous }));
  }

  #inRoom(build: (room: string) => ClientFrame): void {
    if (!this.#room) return this.#fail(codedError('TC_ERR_NOT_IN_ROOM', 'you are not in a room; /join <room>'));
    this.#handle(build(this.#room));
  }

  #handle(frame: ClientFrame): void {
    this.#conn.dispatch(frame);
  }

  #fail(error: CodedError): void {
    this.#line(`! [${error.code}] ${error.message}`);
  }

  #line(text: string): void {
    this.#conn.writeText(text + PLAIN_EOL);
  }
}
