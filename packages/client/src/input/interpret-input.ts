/**
 * Turns one typed line into effects, for the Ink UI and the line mode alike. The slash commands
 * are the protocol's (`parseUserInput`, shared with the server's plain-text dialect) plus a few
 * client-only ones (CLIENT_COMMANDS). Pure: the caller performs the effects.
 *
 * @example
 * interpretInput('/me waves', { kind: 'room', name: 'general', oldestId: null })
 * // [{ kind: 'send', target: { kind: 'room', room: 'general' }, text: 'waves', action: true }]
 */
import { COMMANDS, helpLines, normalizeRoom, parseUserInput, HISTORY_DEFAULT, HISTORY_MAX, isValidNick, type CommandHelp } from '@teamchat/protocol';
import type { ClientFrame, MsgFrame, PmFrame } from '@teamchat/protocol';
import type { Target } from '../connection/chat-connection.js';
import { PASTE_VERIFY_LINES } from './paste.js';

/** The window the line was typed in. */
export interface InputWindow {
  kind: 'status' | 'room' | 'pm';
  /** Room name or peer nick. */
  name: string;
  /** Oldest message id held there (the cursor for /history), or null. */
  oldestId: number | null;
}

export type Request = Exclude<ClientFrame, MsgFrame | PmFrame | { type: 'hello' } | { type: 'quit' }>;

export type InputEffect =
  | { kind: 'send'; target: Target; text: string; action: boolean }
  | { kind: 'request'; frame: Request }
  /** `/join`: switch to the room once joined. */
  | { kind: 'focus-room'; room: string }
  | { kind: 'open-pm'; nick: string }
  | { kind: 'switch'; name: string }
  | { kind: 'close' }
  | { kind: 'older'; count: number }
  | { kind: 'notice'; level: 'info' | 'error'; text: string }
  | { kind: 'quit'; reason?: string };

/** Commands only the terminal client knows (the server never sees them). */
export const CLIENT_COMMANDS: readonly CommandHelp[] = [
  { name: 'query', aliases: [], usage: '/query <nick>', help: 'open a private conversation (also /pm <nick> with no text)' },
  { name: 'switch', aliases: ['go', 'window'], usage: '/switch <room|nick>', help: 'make a room or conversation current' },
  { name: 'close', aliases: ['wc'], usage: '/close', help: 'close the current conversation (in a room: leave it)' },
];

/** Every command name and alias, for Tab completion. */
export const ALL_COMMAND_NAMES: readonly string[] = [...COMMANDS, ...CLIENT_COMMANDS].flatMap((c) => [c.name, ...c.aliases]);

/** The keys of the full-screen app (App.tsx and InputLine.tsx), listed by `/help` there. */
export const TUI_KEY_HELP: readonly string[] = [
  'Keys: Ctrl+N / Ctrl+P (or Alt+Down / Alt+Up) next / previous window, Alt+1..9 jump to a window',
  '  PgUp / PgDn scroll, Ctrl+T shows or hides the user list, Ctrl+C quits',
  '  Tab completes commands and nicks (again to cycle), Up / Down recall earlier lines',
  '  Ctrl+A / Ctrl+E start / end of line, Ctrl+U / Ctrl+K delete to the start / end, Ctrl+W deletes a word',
  `  Pasting several lines sends each one; more than ${PASTE_VERIFY_LINES} ask first (y/n)`,
];

export interface InterpretOptions {
  /** List the full-screen app's keys in `/help` (line mode has none). */
  keys?: boolean;
}

export function clientHelpLines(options: InterpretOptions = {}): string[] {
  return [
    'Commands:',
    ...helpLines(),
    ...CLIENT_COMMANDS.map((c) => {
      const aliases = c.aliases.length ? ` (also /${c.aliases.join(', /')})` : '';
      return `${c.usage.padEnd(20)} ${c.help}${aliases}`;
    }),
    ...(options.keys ? TUI_KEY_HELP : []),
  ];
}

const CLIENT_ALIASES = new Map<string, string>(CLIENT_COMMANDS.flatMap((c) => [c.name, ...c.aliases].map((a) => [a, c.name])));

function targetOf(w: InputWindow): Target | null {
  if (w.kind === 'room') return { kind: 'room', room: w.name };
  if (w.kind === 'pm') return { kind: 'pm', nick: w.name };
  return null;
}

const NO_TARGET: InputEffect = { kind: 'notice', level: 'error', text: 'You are not in a room: /join <room> first (or /query <nick>)' };

export function interpretInput(line: string, w: InputWindow, options: InterpretOptions = {}): InputEffect[] {
  const local = /^\/(\S+)\s*(.*)$/s.exec(line);
  if (local && !line.startsWith('//')) {
    const word = local[1]!.toLowerCase();
    const rest = local[2]!.trim();
    const name = CLIENT_ALIASES.get(word);
    const pmOpen = (word === 'pm' || word === 'msg') && rest !== '' && !/\s/.test(rest);
    if (name === 'query' || pmOpen) {
      if (!isValidNick(rest)) return [{ kind: 'notice', level: 'error', text: 'usage: /query <nick> [TC_ERR_BAD_ARGUMENT]' }];
      return [{ kind: 'open-pm', nick: rest }];
    }
    if (name === 'switch') {
      if (rest === '') return [{ kind: 'notice', level: 'error', text: 'usage: /switch <room|nick> [TC_ERR_BAD_ARGUMENT]' }];
      return [{ kind: 'switch', name: rest }];
    }
    if (name === 'close') return [{ kind: 'close' }];
  }

  const input = parseUserInput(line);
  switch (input.kind) {
    case 'empty':
      return [];
    case 'error':
      return [{ kind: 'notice', level: 'error', text: `${input.error.message} [${input.error.code}]` }];
    case 'text': {
      const target = targetOf(w);
      return target ? [{ kind: 'send', target, text: input.text, action: false }] : [NO_TARGET];
    }
    case 'command':
      break;
  }
  const c = input.command;
  switch (c.name) {
    case 'join': {
      const room = normalizeRoom(c.room);
      if (!room) return [{ kind: 'notice', level: 'error', text: `invalid room name: ${c.room} [TC_ERR_BAD_ROOM]` }];
      return [{ kind: 'focus-room', room }, { kind: 'request', frame: { type: 'join', room, ...(c.key !== undefined ? { key: c.key } : {}) } }];
    }
    case 'part': {
      const room = c.room ?? (w.kind === 'room' ? w.name : undefined);
      if (!room) return [NO_TARGET];
      return [{ kind: 'request', frame: { type: 'part', room } }];
    }
    case 'users': {
      const room = c.room ?? (w.kind === 'room' ? w.name : undefined);
      if (!room) return [NO_TARGET];
      return [{ kind: 'request', frame: { type: 'users', room } }];
    }
    case 'rooms':
      return [{ kind: 'request', frame: { type: 'rooms' } }];
    case 'pm':
      return [{ kind: 'send', target: { kind: 'pm', nick: c.to }, text: c.text, action: false }];
    case 'nick':
      return [{ kind: 'request', frame: { type: 'nick', nick: c.nick } }];
    case 'me': {
      const target = targetOf(w);
      return target ? [{ kind: 'send', target, text: c.text, action: true }] : [NO_TARGET];
    }
    case 'topic': {
      if (w.kind !== 'room') return [{ kind: 'notice', level: 'error', text: '/topic works in a room window' }];
      return [{ kind: 'request', frame: { type: 'topic', room: w.name, ...(c.topic !== undefined ? { topic: c.topic } : {}) } }];
    }
    case 'history': {
      if (w.kind === 'status') return [NO_TARGET];
      return [{ kind: 'older', count: Math.min(c.count ?? HISTORY_DEFAULT, HISTORY_MAX) }];
    }
    case 'help':
      return clientHelpLines(options).map((text) => ({ kind: 'notice', level: 'info', text }));
    case 'quit':
      return [{ kind: 'quit', ...(c.reason ? { reason: c.reason } : {}) }];
    case 'register':
      return [{ kind: 'request', frame: { type: 'register', password: c.password } }];
    case 'login':
      return [{ kind: 'notice', level: 'error', text: 'already logged in: pass --password to teamchat connect for a registered nick' }];
    case 'mode': {
      const change = c.change;
      const frame: Request = !change
        ? { type: 'mode', room: c.room }
        : change.mode === '+k'
          ? { type: 'mode', room: c.room, key: change.key }
          : change.mode === '-k'
            ? { type: 'mode', room: c.room, key: null }
            : { type: 'mode', room: c.room, inviteOnly: change.mode === '+i' };
      return [{ kind: 'request', frame }];
    }
    case 'invite': {
      const room = c.room ?? (w.kind === 'room' ? w.name : undefined);
      if (!room) return [NO_TARGET];
      return [{ kind: 'request', frame: { type: 'invite', nick: c.nick, room } }];
    }
  }
}

/** The frame that fetches `count` messages older than the window's oldest one. */
export function olderRequest(w: InputWindow, count: number): Request | null {
  const before = w.oldestId ?? undefined;
  const limit = Math.max(1, Math.min(count, HISTORY_MAX));
  if (w.kind === 'room') return { type: 'history', room: w.name, limit, ...(before !== undefined ? { before } : {}) };
  if (w.kind === 'pm') return { type: 'pm-history', with: w.name, limit, ...(before !== undefined ? { before } : {}) };
  return null;
}
