/**
 * Line mode: `teamchat connect` when stdin or stdout is not a terminal. Every incoming event
 * is one line on `output` (see format-line.ts), every input line is sent as text (to the
 * current room or conversation) or run as a slash command; EOF waits for unsent messages to
 * be acknowledged (up to `drainTimeoutMs`) and quits.
 *
 * Exit codes: 0 after /quit or EOF; 1 when the nick is refused at start (in use or invalid:
 * scripts should pick another, we do not guess one), when the server cannot be reached (the
 * connection's `giveUpAfterMs`), when the server ends the session for good, or when queued
 * messages could not be sent before quitting. Why the session ended (other than a quit) is also
 * written to `errors` as `teamchat connect: <reason>`.
 *
 * @example
 * const code = await runLineMode({ connection, input: process.stdin, output: process.stdout });
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { isValidNick, nickKey, normalizeRoom } from '@teamchat/protocol';
import type { ChatConnection } from '../connection/chat-connection.js';
import { changeServerHighlights, fetchServerHighlights } from '../connection/highlight-sync.js';
import { interpretInput, olderRequest, type InputEffect, type InputWindow } from '../input/interpret-input.js';
import { formatLine } from './format-line.js';

export interface LineModeOptions {
  connection: ChatConnection;
  input: Readable;
  output: Writable;
  /** Where the reason for a non-zero exit goes (stderr); default `output`. */
  errors?: Writable;
  /** How long EOF waits for queued messages to be acknowledged. */
  drainTimeoutMs?: number;
}

export function runLineMode(options: LineModeOptions): Promise<number> {
  const { connection, input, output } = options;
  const drainTimeout = options.drainTimeoutMs ?? 15_000;
  const print = (line: string): void => void output.write(line + '\n');
  const printError = (line: string): void => void (options.errors ?? output).write(`teamchat connect: ${line}\n`);

  let current: InputWindow = { kind: 'status', name: '', oldestId: null };
  const oldest = new Map<string, number>();
  /** Per room: the newest message, and your newest (`^` and `last` in /edit, /react, /reply). */
  const latest = new Map<string, number>();
  const ownLatest = new Map<string, number>();
  /** What each history answer is for, in the order asked (answers come in that order). */
  const historyFor: Array<'older' | 'thread'> = [];
  let lastSearch: { q: string; room?: string; from?: string; next?: number; more: boolean } | null = null;
  let showIds = false;
  const noteLatest = (m: { id: number; room: string; nick: string; deleted?: true }): void => {
    if (m.deleted) return;
    if (m.id > (latest.get(m.room) ?? 0)) latest.set(m.room, m.id);
    if (nickKey(m.nick) === nickKey(connection.nick) && m.id > (ownLatest.get(m.room) ?? 0))
      ownLatest.set(m.room, m.id);
  };
  const pending: string[] = [];
  let ready = false;
  let eof = false;
  let done = false;
  /** Set when we quit: the exit code we chose. */
  let quitCode: number | null = null;
  let finish: (code: number) => void = () => {};
  const result = new Promise<number>((resolve) => (finish = resolve));

  const noteOldest = (room: string, id: number | undefined): void => {
    if (id === undefined) return;
    const had = oldest.get(room);
    if (had === undefined || id < had) oldest.set(room, id);
  };
  const setCurrent = (w: Omit<InputWindow, 'oldestId'>, announce: boolean): void => {
    current = { ...w, oldestId: null };
    if (announce) print(w.kind === 'pm' ? `* Talking privately with ${w.name}` : `* Talking in ${w.name}`);
  };

  const end = (code: number): void => {
    if (done) return;
    done = true;
    rl.close();
    unsubscribe();
    finish(code);
  };

  const quit = async (reason?: string, code = 0): Promise<void> => {
    quitCode ??= code;
    await connection.quit(reason);
    end(quitCode);
  };

  const drainAndQuit = (): void => {
    if (connection.pendingCount === 0 && pending.length === 0) return void quit();
    const deadline = setTimeout(() => {
      print(`! ${connection.pendingCount} message(s) could not be sent before quitting`);
      printError(`${connection.pendingCount} message(s) could not be sent before quitting`);
      void quit(undefined, 1);
    }, drainTimeout);
    const check = connection.on(() => {
      if (connection.pendingCount === 0 && pending.length === 0 && ready) {
        clearTimeout(deadline);
        check();
        void quit();
      }
    });
  };

  const perform = (effect: InputEffect): void => {
    switch (effect.kind) {
      case 'send':
        connection.sendText(effect.target, effect.text, effect.action, effect.replyTo);
        return;
      case 'search': {
        lastSearch = {
          q: effect.q,
          ...(effect.room ? { room: effect.room } : {}),
          ...(effect.from ? { from: effect.from } : {}),
          more: false,
        };
        void connection.request({
          type: 'search',
          q: effect.q,
          ...(effect.room ? { room: effect.room } : {}),
          ...(effect.from ? { from: effect.from } : {}),
        });
        return;
      }
      case 'more': {
        if (!lastSearch?.more || lastSearch.next === undefined) return print('* No more results');
        const { q, room, from, next } = lastSearch;
        void connection.request({
          type: 'search',
          q,
          before: next,
          ...(room ? { room } : {}),
          ...(from ? { from } : {}),
        });
        return;
      }
      case 'goto':
        print(
          '! /goto opens a result in the full-screen client; here, /thread <id> or /history show messages [TC_ERR_BAD_ARGUMENT]',
        );
        return;
      case 'mentions':
        void connection.request({ type: 'mentions' });
        return;
      case 'thread':
        if (connection.request({ type: 'history', room: effect.room, thread: effect.id, limit: 500 }) !== null)
          historyFor.push('thread');
        return;
      case 'highlight': {
        // The server's answers print as `* Highlight words: ...` lines.
        const change = effect.change;
        void (change.op === 'list' ? fetchServerHighlights(connection) : changeServerHighlights(connection, change));
        return;
      }
      case 'toggle-ids':
        showIds = !showIds;
        print(showIds ? '* Message ids shown: [room] #id nick: text' : '* Message ids hidden');
        return;
      case 'request':
        void connection.request(effect.frame);
        return;
      case 'focus-room':
        setCurrent({ kind: 'room', name: effect.room }, false);
        return;
      case 'open-pm':
        setCurrent({ kind: 'pm', name: effect.nick }, true);
        return;
      case 'switch': {
        const room = normalizeRoom(effect.name);
        if (room && connection.rooms.includes(room)) return setCurrent({ kind: 'room', name: room }, true);
        if (isValidNick(effect.name)) return setCurrent({ kind: 'pm', name: effect.name }, true);
        print(`! not in ${effect.name} [TC_ERR_NOT_IN_ROOM]`);
        return;
      }
      case 'close':
        if (current.kind === 'room') void connection.request({ type: 'part', room: current.name });
        setCurrent({ kind: 'status', name: '' }, false);
        return;
      case 'older': {
        const frame = olderRequest(
          { ...current, oldestId: current.kind === 'room' ? (oldest.get(current.name) ?? null) : null },
          effect.count,
        );
        if (frame && connection.request(frame) !== null && frame.type === 'history') historyFor.push('older');
        return;
      }
      case 'notice':
        print(effect.level === 'error' ? `! ${effect.text}` : `* ${effect.text}`);
        return;
      case 'quit':
        void quit(effect.reason);
        return;
    }
  };

  const handleLine = (line: string): void => {
    const room = current.kind === 'room' ? current.name : null;
    const w: InputWindow = {
      ...current,
      ...(room !== null ? { lastId: latest.get(room) ?? null, ownLastId: ownLatest.get(room) ?? null } : {}),
    };
    for (const effect of interpretInput(line, w)) perform(effect);
  };

  const unsubscribe = connection.on((event) => {
    switch (event.kind) {
      case 'frame': {
        const f = event.frame;
        const purpose = f.type === 'history' ? historyFor.shift() : undefined;
        for (const line of formatLine(f, connection.nick, event.resumed, {
          ids: showIds,
          thread: purpose === 'thread',
        }))
          print(line);
        if (f.type === 'search-results' && lastSearch && lastSearch.q === f.q) {
          lastSearch = { ...lastSearch, more: f.more, ...(f.next !== undefined ? { next: f.next } : {}) };
        }
        if (f.type === 'joined') for (const m of f.history) noteLatest(m);
        if (f.type === 'message') noteLatest(f);
        if (f.type === 'joined') {
          noteOldest(f.room, f.history[0]?.id);
          if (current.kind === 'status' || (current.kind === 'room' && current.name === f.room && !event.resumed))
            setCurrent({ kind: 'room', name: f.room }, false);
        } else if (f.type === 'history' && purpose !== 'thread') {
          noteOldest(f.room, f.messages[0]?.id);
        } else if (f.type === 'message') {
          noteOldest(f.room, f.id);
        } else if (f.type === 'parted' && current.kind === 'room' && current.name === f.room) {
          const next = connection.rooms[0];
          setCurrent(next ? { kind: 'room', name: next } : { kind: 'status', name: '' }, next !== undefined);
        } else if (
          f.type === 'nick' &&
          f.room !== undefined &&
          current.kind === 'pm' &&
          nickKey(current.name) === nickKey(f.old)
        ) {
          setCurrent({ kind: 'pm', name: f.new }, false);
        }
        return;
      }
      case 'notice':
        print(event.level === 'error' ? `! ${event.text}` : `* ${event.text}`);
        return;
      case 'state': {
        const s = event.state;
        if (s.status === 'reconnecting' && s.retryAt !== null) {
          const wait = Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
          const why = s.reason ? ` (${s.reason})` : '';
          print(
            ready
              ? `! Disconnected${why}; reconnecting in ${wait}s`
              : `! Cannot connect to ${s.server}${why}; retrying in ${wait}s`,
          );
        }
        return;
      }
      case 'nick-rejected':
        print(`! ${event.error.message} [${event.error.code}]`);
        printError(`${event.error.message} [${event.error.code}]`);
        connection.destroy();
        end(1);
        return;
      case 'ready':
        ready = true;
        for (const line of pending.splice(0)) handleLine(line);
        if (eof) drainAndQuit();
        return;
      case 'closed':
        if (done) return;
        if (quitCode !== null) return end(quitCode);
        if (event.reason === 'quit') return end(0);
        if (event.unreachable) print(`! ${event.reason}`);
        printError(event.reason);
        end(1);
        return;
    }
  });

  const rl = createInterface({ input, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (done) return;
    if (!ready) pending.push(line);
    else handleLine(line);
  });
  rl.on('close', () => {
    eof = true;
    if (done) return;
    if (ready) drainAndQuit();
  });

  connection.start();
  return result;
}
