/**
 * The plain-text dialect, as in the original design: prompts for a nickname and a room, then one
 * current room (switched by /join), room messages as `nick: text`, private ones as `[PM] nick: text`,
 * and the slash commands of @teamchat/protocol. Translates lines into core commands and frames into
 * lines; holds the little state the dialect needs (stage, current room, oldest message shown).
 */
import { isUtf8 } from 'node:buffer';
import {
  codedError,
  helpLines,
  HISTORY_DEFAULT,
  HISTORY_MAX,
  NICK_PROMPT,
  normalizeRoom,
  parseUserInput,
  PLAIN_EOL,
  ROOM_PROMPT,
  type ClientFrame,
  type CodedError,
} from '@teamchat/protocol';
import type { ChatCore } from '../core/chat-core.js';
import type { Connection } from './connection.js';
import type { EncodedFrame } from './encoded-frame.js';

export class PlainDialect {
  #stage: 'nick' | 'room' | 'chat' = 'nick';
  #room: string | null = null;
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
    if (!isUtf8(bytes)) return this.#fail(codedError('TC_ERR_BAD_UTF8'));
    const line = bytes.toString('utf8').trim();
    switch (this.#stage) {
      case 'nick':
        return this.#chooseNick(line);
      case 'room':
        return this.#chooseRoom(line);
      case 'chat':
        return this.#chat(line);
    }
  }

  /** Renders a frame for this user, noting what it needs to remember. */
  render(encoded: EncodedFrame): Buffer {
    const frame = encoded.frame;
    if (frame.type === 'joined' && frame.room === this.#room) this.#oldest = frame.history[0]?.id;
    if (frame.type === 'history' && frame.room === this.#room && frame.messages.length > 0) this.#oldest = frame.messages[0]!.id;
    if (frame.type === 'message' && frame.room === this.#room && this.#oldest === undefined) this.#oldest = frame.id;
    return encoded.plain(this.#conn.nick ?? '');
  }

  #chooseNick(line: string): void {
    if (line === '') return this.#conn.writeText(NICK_PROMPT);
    if (line === '/quit') return this.#core.quit(this.#conn);
    const error = this.#core.register(this.#conn, { nick: line, restore: false });
    if (error) {
      this.#line(`! [${error.code}] ${error.message}`);
      return this.#conn.writeText(NICK_PROMPT);
    }
    this.#stage = 'room';
    this.#line(`* Welcome to teamchat, ${this.#conn.nick}! Type /help for commands.`);
    this.#conn.writeText(ROOM_PROMPT);
  }

  #chooseRoom(line: string): void {
    if (line === '') return this.#conn.writeText(ROOM_PROMPT);
    if (line === '/quit') return this.#core.quit(this.#conn);
    const room = normalizeRoom(line);
    if (!room) {
      this.#fail(codedError('TC_ERR_BAD_ROOM', line));
      return this.#conn.writeText(ROOM_PROMPT);
    }
    this.#stage = 'chat';
    this.#enter(room);
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
        if (this.#room && this.#room !== room) this.#handle({ type: 'part', room: this.#room });
        return this.#enter(room);
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

  #enter(room: string): void {
    this.#room = room;
    this.#oldest = undefined;
    this.#core.join(this.#conn, room, undefined, undefined);
  }

  #inRoom(build: (room: string) => ClientFrame): void {
    if (!this.#room) return this.#fail(codedError('TC_ERR_NOT_IN_ROOM', 'you are not in a room; /join <room>'));
    this.#handle(build(this.#room));
  }

  #handle(frame: ClientFrame): void {
    this.#core.handle(this.#conn, frame);
  }

  #fail(error: CodedError): void {
    this.#line(`! [${error.code}] ${error.message}`);
  }

  #line(text: string): void {
    this.#conn.writeText(text + PLAIN_EOL);
  }
}
