/**
 * Turns one typed line into effects, for the Ink UI and the line mode alike. The slash commands
 * are the protocol's (`parseUserInput`, shared with the server's plain-text dialect) plus a few
 * client-only ones (CLIENT_COMMANDS). Pure: the caller performs the effects.
 *
 * @example
 * interpretInput('/me waves', { kind: 'room', name: 'general', oldestId: null })
 * // [{ kind: 'send', target: { kind: 'room', room: 'general' }, text: 'waves', action: true }]
 */
import {
  COMMANDS,
  EMOJI_PATTERN,
  HIGHLIGHT_WORD_PATTERN,
  HIGHLIGHT_WORDS_MAX,
  helpLines,
  normalizeRoom,
  parseUserInput,
  HISTORY_DEFAULT,
  HISTORY_MAX,
  isValidNick,
  SEARCH_QUERY_MAX,
  type CommandHelp,
} from '@teamchat/protocol';
import type { ClientFrame, MsgFrame, PmFrame } from '@teamchat/protocol';
import type { Target } from '../connection/chat-connection.js';
import type { HighlightChange } from '../state/highlight-words.js';
import { PASTE_VERIFY_LINES } from './paste.js';

/** The window the line was typed in. */
export interface InputWindow {
  kind: 'status' | 'room' | 'pm';
  /** Room name or peer nick. */
  name: string;
  /** Oldest message id held there (the cursor for /history; in a thread window its oldest reply), or null. */
  oldestId: number | null;
  /** `last` in /edit, /delete, /react: your newest message there. */
  ownLastId?: number | null;
  /** `^` in /reply, /react, /thread: the newest message there. */
  lastId?: number | null;
  /** A thread window: what you type replies to this message. */
  thread?: { room: string; id: number };
  /** A results window (search, mentions): `/more` and `/goto` apply to it. */
  results?: 'search' | 'mentions';
}

export type Request = Exclude<
  ClientFrame,
  MsgFrame | PmFrame | { type: 'hello' } | { type: 'quit' } | { type: 'kick' }
>;

export type InputEffect =
  | { kind: 'send'; target: Target; text: string; action: boolean; replyTo?: number }
  | { kind: 'request'; frame: Request }
  /** `/join`: switch to the room once joined. */
  | { kind: 'focus-room'; room: string }
  | { kind: 'open-pm'; nick: string }
  | { kind: 'switch'; name: string }
  | { kind: 'close' }
  | { kind: 'older'; count: number }
  | { kind: 'notice'; level: 'info' | 'error'; text: string }
  | { kind: 'quit'; reason?: string }
  /** `/search`: open the results window with a new search. */
  | { kind: 'search'; q: string; room?: string; from?: string }
  /** `/more`: the next page of the results window (search or mentions). */
  | { kind: 'more' }
  /** `/goto N`: open result N of the results window. */
  | { kind: 'goto'; n: number }
  | { kind: 'mentions' }
  | { kind: 'thread'; room: string; id: number }
  | { kind: 'toggle-ids' }
  /** `/highlight`: list the highlight words kept on the server, or change them. */
  | { kind: 'highlight'; change: HighlightChange | { op: 'list' } };

/** Commands only the terminal client knows (the server never sees them). */
export const CLIENT_COMMANDS: readonly CommandHelp[] = [
  {
    name: 'query',
    aliases: [],
    usage: '/query <nick>',
    help: 'open a private conversation (also /pm <nick> with no text)',
  },
  {
    name: 'switch',
    aliases: ['go', 'window'],
    usage: '/switch <room|nick>',
    help: 'make a room or conversation current',
  },
  { name: 'close', aliases: ['wc'], usage: '/close', help: 'close the current conversation (in a room: leave it)' },
  {
    name: 'search',
    aliases: [],
    usage: '/search [in:room] [from:nick] <text>',
    help: 'search all history you may read; results open in a window',
  },
  { name: 'more', aliases: ['next'], usage: '/more', help: 'the next page of search results or mentions' },
  {
    name: 'goto',
    aliases: [],
    usage: '/goto <n>',
    help: 'open result n in its room, in context (Enter opens the selected one)',
  },
  {
    name: 'mentions',
    aliases: [],
    usage: '/mentions',
    help: 'list the messages that mention you (also while you were away)',
  },
  {
    name: 'edit',
    aliases: [],
    usage: '/edit <id|last> <text>',
    help: 'change the text of your message (last: your latest here)',
  },
  {
    name: 'delete',
    aliases: ['del'],
    usage: '/delete <id|last>',
    help: 'delete your message (a room creator: any message of the room)',
  },
  {
    name: 'reply',
    aliases: [],
    usage: '/reply <id|^> <text>',
    help: 'reply to a message (^: the latest here); the reply quotes it',
  },
  {
    name: 'thread',
    aliases: [],
    usage: '/thread <id|^>',
    help: 'show a message and its replies in a window; type there to reply',
  },
  { name: 'react', aliases: [], usage: '/react <id|last|^> <emoji>', help: 'react to a message' },
  { name: 'unreact', aliases: [], usage: '/unreact <id|last|^> <emoji>', help: 'take your reaction back' },
  { name: 'ids', aliases: [], usage: '/ids', help: 'show or hide message ids (#1042) in the message pane' },
  {
    name: 'highlight',
    aliases: ['hilight'],
    usage: '/highlight [add|remove <words>|clear]',
    help: `list or change your highlight words (kept on the server, at most ${HIGHLIGHT_WORDS_MAX}): a message naming one is a mention`,
  },
];

/** Every command name and alias, for Tab completion. */
export const ALL_COMMAND_NAMES: readonly string[] = [...COMMANDS, ...CLIENT_COMMANDS].flatMap((c) => [
  c.name,
  ...c.aliases,
]);

/** The keys of the full-screen app (App.tsx and InputLine.tsx), listed by `/help` there. */
export const TUI_KEY_HELP: readonly string[] = [
  'Keys: Ctrl+N / Ctrl+P (or Alt+Down / Alt+Up) next / previous window, Alt+1..9 jump to a window',
  '  PgUp / PgDn scroll, Ctrl+T shows or hides the user list, Ctrl+C quits',
  '  Tab completes commands and nicks (again to cycle), Up / Down recall earlier lines',
  '  In a search or mentions window, on an empty line: Up / Down select a result, Enter opens it',
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

const CLIENT_ALIASES = new Map<string, string>(
  CLIENT_COMMANDS.flatMap((c) => [c.name, ...c.aliases].map((a) => [a, c.name])),
);

function targetOf(w: InputWindow): Target | null {
  if (w.kind === 'room') return { kind: 'room', room: w.name };
  if (w.kind === 'pm') return { kind: 'pm', nick: w.name };
  return null;
}

const NO_TARGET: InputEffect = {
  kind: 'notice',
  level: 'error',
  text: 'You are not in a room: /join <room> first (or /query <nick>)',
};

function usage(text: string): InputEffect[] {
  return [{ kind: 'notice', level: 'error', text: `usage: ${text} [TC_ERR_BAD_ARGUMENT]` }];
}

/**
 * A message reference: an id (`1042` or `#1042`), `last` (your newest message in the window) or
 * `^` (the newest message there). A string says why it cannot be resolved.
 */
export function resolveMessageRef(
  ref: string,
  w: InputWindow,
  allow: { last?: boolean; latest?: boolean } = { last: true, latest: true },
): number | string {
  const m = /^#?(\d{1,15})$/.exec(ref);
  if (m) return Number(m[1]);
  if (ref === 'last' && allow.last) return w.ownLastId ?? 'you have no message in this window yet';
  if (ref === '^' && allow.latest) return w.lastId ?? 'there is no message in this window yet';
  return `not a message id: ${ref} (a number; /ids shows them)`;
}

const HIGHLIGHT_USAGE = '/highlight [list] | /highlight add <word>... | /highlight remove <word>... | /highlight clear';

/** The client-only team commands (search, edit, reactions, ...); null when `word` is not one. */
function teamCommand(word: string, rest: string, w: InputWindow): InputEffect[] | null {
  const [first = '', ...others] = rest.split(/\s+/);
  const tail = rest.slice(first.length).trim();
  const ref = (allow: { last?: boolean; latest?: boolean }) => resolveMessageRef(first, w, allow);
  const bad = (why: string): InputEffect[] => [
    { kind: 'notice', level: 'error', text: `${why} [TC_ERR_BAD_ARGUMENT]` },
  ];
  switch (word) {
    case 'search': {
      let q = rest;
      let room: string | undefined;
      let from: string | undefined;
      for (;;) {
        const f = /^(in|from):(\S+)\s*/.exec(q);
        if (!f) break;
        if (f[1] === 'in') {
          const r = normalizeRoom(f[2]);
          if (!r) return bad(`invalid room name: ${f[2]}`);
          room = r;
        } else {
          if (!isValidNick(f[2])) return bad(`invalid nick: ${f[2]}`);
          from = f[2]!;
        }
        q = q.slice(f[0].length);
      }
      q = q.trim();
      if (q === '') return usage('/search [in:room] [from:nick] <text>');
      if ([...q].length > SEARCH_QUERY_MAX) return bad(`a search is at most ${SEARCH_QUERY_MAX} characters`);
      return [{ kind: 'search', q, ...(room ? { room } : {}), ...(from ? { from } : {}) }];
    }
    case 'more':
    case 'next':
      return [{ kind: 'more' }];
    case 'goto': {
      if (!/^\d+$/.test(rest) || Number(rest) < 1) return usage('/goto <n> (a result number)');
      return [{ kind: 'goto', n: Number(rest) }];
    }
    case 'mentions':
      return [{ kind: 'mentions' }];
    case 'ids':
      return [{ kind: 'toggle-ids' }];
    case 'highlight':
    case 'hilight': {
      const words = others.filter((x) => x !== '');
      const op = first.toLowerCase();
      if (op === '' || op === 'list')
        return words.length > 0 ? usage(HIGHLIGHT_USAGE) : [{ kind: 'highlight', change: { op: 'list' } }];
      if (op === 'clear')
        return words.length > 0 ? usage(HIGHLIGHT_USAGE) : [{ kind: 'highlight', change: { op: 'clear' } }];
      if (op !== 'add' && op !== 'remove' && op !== 'rm' && op !== 'del') return usage(HIGHLIGHT_USAGE);
      if (words.length === 0) return usage(HIGHLIGHT_USAGE);
      const bad = words.find((x) => !HIGHLIGHT_WORD_PATTERN.test(x));
      if (bad !== undefined)
        return [
          {
            kind: 'notice',
            level: 'error',
            text: `not a highlight word: ${bad} (1-32 letters, digits, _ or -) [TC_ERR_BAD_HIGHLIGHT]`,
          },
        ];
      return [{ kind: 'highlight', change: { op: op === 'add' ? 'add' : 'remove', words } }];
    }
    case 'edit': {
      if (first === '' || tail === '') return usage('/edit <id|last> <text>');
      const id = ref({ last: true });
      if (typeof id === 'string') return bad(id);
      return [{ kind: 'request', frame: { type: 'edit', id, text: tail } }];
    }
    case 'delete':
    case 'del': {
      if (first === '' || others.length > 0) return usage('/delete <id|last>');
      const id = ref({ last: true });
      if (typeof id === 'string') return bad(id);
      return [{ kind: 'request', frame: { type: 'delete', id } }];
    }
    case 'react':
    case 'unreact': {
      const emoji = tail;
      if (first === '' || emoji === '') return usage(`/${word} <id|last|^> <emoji>`);
      if (!EMOJI_PATTERN.test(emoji)) return bad('a reaction is one emoji (or a short :name:), without spaces');
      const id = ref({ last: true, latest: true });
      if (typeof id === 'string') return bad(id);
      return [
        { kind: 'request', frame: { type: 'react', id, emoji, ...(word === 'unreact' ? { remove: true } : {}) } },
      ];
    }
    case 'reply': {
      if (first === '' || tail === '') return usage('/reply <id|^> <text>');
      const room = w.thread?.room ?? (w.kind === 'room' ? w.name : null);
      if (room === null) return [{ kind: 'notice', level: 'error', text: '/reply works in a room window' }];
      const id = ref({ latest: true, last: true });
      if (typeof id === 'string') return bad(id);
      return [{ kind: 'send', target: { kind: 'room', room }, text: tail, action: false, replyTo: id }];
    }
    case 'thread': {
      if (first === '' || others.length > 0) return usage('/thread <id|^>');
      const room = w.thread?.room ?? (w.kind === 'room' ? w.name : null);
      if (room === null) return [{ kind: 'notice', level: 'error', text: '/thread works in a room window' }];
      const id = ref({ latest: true, last: true });
      if (typeof id === 'string') return bad(id);
      return [{ kind: 'thread', room, id }];
    }
  }
  return null;
}

export function interpretInput(line: string, w: InputWindow, options: InterpretOptions = {}): InputEffect[] {
  const local = /^\/(\S+)\s*(.*)$/s.exec(line);
  if (local && !line.startsWith('//')) {
    const word = local[1].toLowerCase();
    const rest = local[2].trim();
    const name = CLIENT_ALIASES.get(word);
    const pmOpen = (word === 'pm' || word === 'msg') && rest !== '' && !/\s/.test(rest);
    if (name === 'query' || pmOpen) {
      if (!isValidNick(rest))
        return [{ kind: 'notice', level: 'error', text: 'usage: /query <nick> [TC_ERR_BAD_ARGUMENT]' }];
      return [{ kind: 'open-pm', nick: rest }];
    }
    if (name === 'switch') {
      if (rest === '')
        return [{ kind: 'notice', level: 'error', text: 'usage: /switch <room|nick> [TC_ERR_BAD_ARGUMENT]' }];
      return [{ kind: 'switch', name: rest }];
    }
    if (name === 'close') return [{ kind: 'close' }];
    const team = teamCommand(word, rest, w);
    if (team) return team;
  }

  const input = parseUserInput(line);
  switch (input.kind) {
    case 'empty':
      return [];
    case 'error':
      return [{ kind: 'notice', level: 'error', text: `${input.error.message} [${input.error.code}]` }];
    case 'text': {
      if (w.thread)
        return [
          {
            kind: 'send',
            target: { kind: 'room', room: w.thread.room },
            text: input.text,
            action: false,
            replyTo: w.thread.id,
          },
        ];
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
      return [
        { kind: 'focus-room', room },
        { kind: 'request', frame: { type: 'join', room, ...(c.key !== undefined ? { key: c.key } : {}) } },
      ];
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
      return [
        {
          kind: 'request',
          frame: { type: 'topic', room: w.name, ...(c.topic !== undefined ? { topic: c.topic } : {}) },
        },
      ];
    }
    case 'history': {
      // A thread window pages back through the thread's replies.
      if (w.kind === 'status' && !w.thread) return [NO_TARGET];
      return [{ kind: 'older', count: Math.min(c.count ?? HISTORY_DEFAULT, HISTORY_MAX) }];
    }
    case 'help':
      return clientHelpLines(options).map((text) => ({ kind: 'notice', level: 'info', text }));
    case 'quit':
      return [{ kind: 'quit', ...(c.reason ? { reason: c.reason } : {}) }];
    case 'register':
      return [{ kind: 'request', frame: { type: 'register', password: c.password } }];
    case 'login':
      return [
        {
          kind: 'notice',
          level: 'error',
          text: 'already logged in: pass --password to teamchat connect for a registered nick',
        },
      ];
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

/**
 * The frame that fetches `count` messages older than the window's oldest one; in a thread
 * window, older replies of the thread (`oldestId` is then its oldest reply held).
 */
export function olderRequest(w: InputWindow, count: number): Request | null {
  const before = w.oldestId ?? undefined;
  const limit = Math.max(1, Math.min(count, HISTORY_MAX));
  if (w.thread)
    return { type: 'history', room: w.thread.room, thread: w.thread.id, limit, before: before ?? w.thread.id };
  if (w.kind === 'room') return { type: 'history', room: w.name, limit, ...(before !== undefined ? { before } : {}) };
  if (w.kind === 'pm') return { type: 'pm-history', with: w.name, limit, ...(before !== undefined ? { before } : {}) };
  return null;
}
