/**
 * The plain-text dialect for `nc` / `telnet` users, and the slash-command parser that every
 * client (plain-text sessions on the server, the terminal client) shares.
 */
import { codedError, ERRORS, isErrorCode, type CodedError, type ErrorCode } from './errors.js';
import type { RoomMessage, ServerFrame } from './frames.js';
import { NICK_MAX_LENGTH, NICK_PATTERN, normalizeRoom, ROOM_MAX_LENGTH } from './limits.js';

/** Sent first, after a short pause, to a connection that has not spoken NDJSON. */
export const NICK_PROMPT = 'Enter nickname: ';
export const ROOM_PROMPT = 'Enter room: ';
/** Asked after a registered nick (and, with --require-accounts, `NEW_PASSWORD_PROMPT` for a new one). */
export const PASSWORD_PROMPT = 'Password: ';
export const NEW_PASSWORD_PROMPT = 'Choose a password (8-128 characters): ';
/** Line ending of plain-text output (CRLF, so telnet renders it too). */
export const PLAIN_EOL = '\r\n';

export type SlashCommand =
  | { name: 'join'; room: string; key?: string }
  | { name: 'part'; room?: string }
  | { name: 'users'; room?: string }
  | { name: 'rooms'; after?: string }
  | { name: 'pm'; to: string; text: string }
  | { name: 'nick'; nick: string }
  | { name: 'me'; text: string }
  | { name: 'topic'; topic?: string }
  | { name: 'history'; count?: number }
  | { name: 'quit'; reason?: string }
  | { name: 'help' }
  | { name: 'register'; password: string }
  | { name: 'login'; password: string }
  | { name: 'mode'; room: string; change?: ModeChange }
  | { name: 'invite'; nick: string; room?: string };

/** One room-mode change of `/mode <room> <change>`. */
export type ModeChange = { mode: '+k'; key: string } | { mode: '-k' } | { mode: '+i' } | { mode: '-i' };

export type UserInput =
  | { kind: 'empty' }
  | { kind: 'text'; text: string }
  | { kind: 'command'; command: SlashCommand }
  | { kind: 'error'; error: CodedError };

export interface CommandHelp {
  name: string;
  aliases: string[];
  usage: string;
  help: string;
}

/** Every slash command with its usage line, for /help and Tab completion. */
export const COMMANDS: readonly CommandHelp[] = [
  {
    name: 'join',
    aliases: [],
    usage: '/join <room> [key]',
    help: 'enter a room (creating it if new; key for a +k room)',
  },
  { name: 'part', aliases: ['leave'], usage: '/part [room]', help: 'leave a room (default: the current one)' },
  { name: 'users', aliases: ['names', 'who'], usage: '/users [room]', help: 'list the users in the room' },
  {
    name: 'rooms',
    aliases: ['list'],
    usage: '/rooms [after]',
    help: 'list rooms with people in them (100 a page; the next page: /rooms <last name shown>)',
  },
  { name: 'pm', aliases: ['msg'], usage: '/pm <nick> <text>', help: 'send a private message' },
  { name: 'nick', aliases: [], usage: '/nick <new>', help: 'change your nick' },
  { name: 'me', aliases: [], usage: '/me <action>', help: 'send an action (* alice waves)' },
  { name: 'topic', aliases: [], usage: '/topic [text]', help: 'show or set the room topic' },
  { name: 'history', aliases: [], usage: '/history [n]', help: 'show n older messages (default 50)' },
  {
    name: 'register',
    aliases: [],
    usage: '/register <password>',
    help: 'protect your nick with a password (8-128 characters)',
  },
  { name: 'login', aliases: [], usage: '/login <password>', help: 'answer the password prompt of a registered nick' },
  {
    name: 'mode',
    aliases: [],
    usage: '/mode <room> [+k key|-k|+i|-i]',
    help: "show or (room creator) set a room's key (+k) or invite-only (+i)",
  },
  { name: 'invite', aliases: [], usage: '/invite <nick> [room]', help: 'let a nick into an invite-only room' },
  { name: 'help', aliases: [], usage: '/help', help: 'list commands' },
  { name: 'quit', aliases: ['exit'], usage: '/quit [reason]', help: 'leave the chat' },
];

const ALIASES = new Map<string, string>(COMMANDS.flatMap((c) => [c.name, ...c.aliases].map((a) => [a, c.name])));

function usage(name: string): CodedError {
  const cmd = COMMANDS.find((c) => c.name === name)!;
  return codedError('TC_ERR_BAD_ARGUMENT', `usage: ${cmd.usage}`);
}

/**
 * Parses one line a user typed. Lines starting with `/` are commands; `//text` sends `/text`.
 *
 * @example
 * parseUserInput('/pm bob hi there') // { kind: 'command', command: { name: 'pm', to: 'bob', text: 'hi there' } }
 */
export function parseUserInput(line: string): UserInput {
  if (line.trim() === '') return { kind: 'empty' };
  if (!line.startsWith('/')) return { kind: 'text', text: line };
  if (line.startsWith('//')) return { kind: 'text', text: line.slice(1) };
  const match = /^\/(\S*)\s*(.*)$/s.exec(line)!;
  const word = match[1].toLowerCase();
  if (word === '')
    return {
      kind: 'error',
      error: codedError('TC_ERR_UNKNOWN_COMMAND', 'a command name must follow "/" (send "//" for a literal slash)'),
    };
  const rest = match[2].trim();
  const name = ALIASES.get(word);
  if (!name) return { kind: 'error', error: codedError('TC_ERR_UNKNOWN_COMMAND', `/${word}`) };
  const [first = '', ...others] = rest === '' ? [] : rest.split(/\s+/);
  const command = ((): SlashCommand | CodedError => {
    switch (name) {
      case 'join':
        if (!first || others.length > 1) return usage(name);
        return others[0] !== undefined ? { name, room: first, key: others[0] } : { name, room: first };
      case 'register':
      case 'login':
        // The password is the rest of the line (it may contain spaces, but not at its ends).
        return rest ? { name, password: rest } : usage(name);
      case 'mode': {
        if (!first) return usage(name);
        if (others.length === 0) return { name, room: first };
        const [flag, ...args] = others;
        if (flag === '+k' && args.length === 1) return { name, room: first, change: { mode: '+k', key: args[0] } };
        if ((flag === '-k' || flag === '+i' || flag === '-i') && args.length === 0)
          return { name, room: first, change: { mode: flag } };
        return usage(name);
      }
      case 'invite':
        if (!first || others.length > 1) return usage(name);
        return others[0] !== undefined ? { name, nick: first, room: others[0] } : { name, nick: first };
      case 'part':
        return first ? { name, room: first } : { name };
      case 'users':
        return first ? { name, room: first } : { name };
      case 'rooms':
        return first ? { name, after: first } : { name };
      case 'help':
        return { name };
      case 'pm': {
        const text = rest.slice(first.length).trim();
        return first && text ? { name, to: first, text } : usage(name);
      }
      case 'nick':
        return first && others.length === 0 ? { name, nick: first } : usage(name);
      case 'me':
        return rest ? { name, text: rest } : usage(name);
      case 'topic':
        return rest ? { name, topic: rest } : { name };
      case 'history': {
        if (!first) return { name };
        const count = Number(first);
        return Number.isSafeInteger(count) && count > 0 ? { name, count } : usage(name);
      }
      case 'quit':
        return rest ? { name, reason: rest } : { name };
      default:
        return codedError('TC_ERR_UNKNOWN_COMMAND', `/${word}`);
    }
  })();
  return 'code' in command ? { kind: 'error', error: command } : { kind: 'command', command };
}

/** One line of help per command. */
export function helpLines(): string[] {
  return COMMANDS.map((c) => {
    const aliases = c.aliases.length ? ` (also /${c.aliases.join(', /')})` : '';
    return `${c.usage.padEnd(20)} ${c.help}${aliases}`;
  });
}

function plainMessage(m: RoomMessage): string {
  return m.action ? `* ${m.nick} ${m.text}` : `${m.nick}: ${m.text}`;
}

/**
 * Formats a server frame for a plain-text user as zero or more lines (without line endings).
 * `self` is the user's nick, used to render their own private messages.
 */
export function formatPlain(frame: ServerFrame, self: string): string[] {
  switch (frame.type) {
    case 'message':
      return [plainMessage(frame)];
    case 'pm':
      if (frame.from === self && frame.to !== self) {
        return [frame.action ? `[PM -> ${frame.to}] * ${self} ${frame.text}` : `[PM -> ${frame.to}] ${frame.text}`];
      }
      return [frame.action ? `[PM] * ${frame.from} ${frame.text}` : `[PM] ${frame.from}: ${frame.text}`];
    case 'presence': {
      const why = frame.reason ? ` (${frame.reason})` : '';
      switch (frame.event) {
        case 'join':
          return [`* ${frame.nick} has joined ${frame.room}`];
        case 'part':
          return [`* ${frame.nick} has left ${frame.room}${why}`];
        case 'quit':
          return [`* ${frame.nick} has quit${why}`];
        case 'disconnect':
          return [`* ${frame.nick} has disconnected`];
        case 'kick':
          return [`* ${frame.nick} was kicked from ${frame.room} by ${frame.by ?? 'an operator'}${why}`];
      }
      return [];
    }
    case 'nick':
      return frame.room === undefined
        ? [`* You are now known as ${frame.new}`]
        : [`* ${frame.old} is now known as ${frame.new}`];
    case 'topic':
      if (frame.by)
        return [frame.topic ? `* ${frame.by} set the topic to: ${frame.topic}` : `* ${frame.by} cleared the topic`];
      return [frame.topic ? `* Topic for ${frame.room}: ${frame.topic}` : `* No topic is set for ${frame.room}`];
    case 'users':
      return [
        `* Users in ${frame.room} (${frame.users.length}${frame.more ? '+' : ''}): ${frame.users.join(', ')}${frame.more ? ', ...' : ''}`,
      ];
    case 'rooms':
      if (frame.rooms.length === 0) return ['* No rooms yet'];
      return [
        `* Rooms (${frame.rooms.length}):`,
        ...frame.rooms.map(
          (r) => `*   ${r.name} (${r.members} ${r.members === 1 ? 'user' : 'users'})${r.topic ? ` - ${r.topic}` : ''}`,
        ),
        ...(frame.more ? [`* More rooms: /rooms ${frame.rooms.at(-1)!.name}`] : []),
      ];
    case 'joined': {
      const lines = [`* Now talking in ${frame.room}${frame.topic ? ` - ${frame.topic}` : ''}`];
      lines.push(
        `* Users here: ${frame.users.join(', ')}${frame.usersTotal !== undefined ? ` and ${frame.usersTotal - frame.users.length} more` : ''}`,
      );
      if (frame.history.length > 0) {
        lines.push(
          `* --- ${frame.history.length === 1 ? 'last message' : `last ${frame.history.length} messages`} ---`,
        );
        lines.push(...frame.history.map(plainMessage));
        lines.push('* --- end of history ---');
      }
      return lines;
    }
    case 'history':
      if (frame.messages.length === 0) return ['* No older messages'];
      return [
        `* --- ${frame.messages.length} older ${frame.messages.length === 1 ? 'message' : 'messages'}${frame.more ? '' : ' (start of history)'} ---`,
        ...frame.messages.map(plainMessage),
        '* --- end of history ---',
      ];
    case 'pm-history':
      return frame.messages.map((m) => formatPlain({ type: 'pm', ...m }, self)[0]);
    case 'parted':
      if (frame.by !== undefined)
        return [`* You were kicked from ${frame.room} by ${frame.by}${frame.reason ? ` (${frame.reason})` : ''}`];
      return [`* You left ${frame.room}`];
    case 'error':
      return [plainErrorLine(frame)];
    case 'status':
      if (frame.cluster !== undefined && frame.db === 'ok') {
        return [
          frame.cluster === 'ok'
            ? '* Server: the cluster link is back to normal'
            : `! Server: ${frame.message ?? 'the cluster link is degraded'}`,
        ];
      }
      return [
        frame.db === 'ok'
          ? '* Server: storage is back to normal'
          : `! Server: ${frame.message ?? 'storage is degraded'}`,
      ];
    case 'edited':
      return [`* ${frame.by} edited a message: ${frame.text}`];
    case 'deleted':
      return [`* ${frame.by} deleted a message`];
    case 'reaction':
      return frame.added ? [`* ${frame.nick} reacted ${frame.emoji}`] : [];
    case 'search-results':
      if (frame.results.length === 0) return [`* No messages match "${frame.q}"`];
      return [
        `* Search "${frame.q}" (${frame.results.length}${frame.more ? '+' : ''}):`,
        ...frame.results.map((r) => `*   ${r.room ?? `PM ${r.nick} -> ${r.to ?? ''}`} <${r.nick}> ${r.text}`),
      ];
    case 'mentions':
      if (frame.messages.length === 0) return ['* No mentions'];
      return [
        `* Mentions (${frame.messages.length}${frame.more ? '+' : ''}):`,
        ...frame.messages.map((m) => `*   ${m.room} ${plainMessage(m)}`),
      ];
    case 'highlights':
      return [frame.words.length === 0 ? '* No highlight words' : `* Highlight words: ${frame.words.join(', ')}`];
    case 'marker':
    case 'unread':
      return [];
    case 'bye':
      return [`! Disconnected: ${frame.reason}${frame.code ? ` [${frame.code}]` : ''}`];
    case 'pong':
      return ['* pong'];
    case 'registered':
      return [`* Your nick ${frame.nick} is registered: from now on it needs its password`];
    case 'mode': {
      // +n is on for every room: shown only by its absence from nothing (it never limits members).
      const flags = [
        frame.key ? '+k' : '',
        frame.inviteOnly ? '+i' : '',
        frame.topicLock ? '+t' : '',
        frame.moderated ? '+m' : '',
        frame.secret ? '+s' : '',
        frame.limit !== undefined ? `+l ${frame.limit}` : '',
      ];
      const modes = flags.join('') || 'none';
      const roles = (frame.changes ?? []).filter(
        (c) => c.mode === 'o' || c.mode === 'v' || c.mode === 'b' || c.mode === 'e' || c.mode === 'I',
      );
      if (frame.by && roles.length > 0)
        return roles.map((c) => `* ${frame.by} set ${c.add ? '+' : '-'}${c.mode} ${c.arg ?? ''} in ${frame.room}`);
      return frame.by
        ? [`* ${frame.by} set the modes of ${frame.room} to: ${modes}`]
        : [`* Modes of ${frame.room}: ${modes}`];
    }
    case 'invite':
      return frame.nick.toLowerCase() === self.toLowerCase()
        ? [`* ${frame.by} invites you to ${frame.room}: /join ${frame.room}`]
        : [`* You invited ${frame.nick} to ${frame.room}`];
    case 'ping':
      return [];
    case 'welcome':
    case 'ack':
      return [];
  }
}

/**
 * A coded error as one plain-text line: `! <sentence> [<code>]`.
 *
 * @example
 * plainErrorLine(codedError('TC_ERR_BAD_ROOM', 'bad room!'))
 * // '! That is not a valid room name: "bad room!" (spaces and "!" are not allowed; use 1-32 letters, digits, _ . or -) [TC_ERR_BAD_ROOM]'
 */
export function plainErrorLine(error: { code: string; message: string }): string {
  return `! ${errorSentence(error)} [${error.code}]`;
}

/**
 * A coded error as a sentence for a person: the catalogue message with its detail worked into it
 * (`codedError` appends the detail after a colon; some read better with it inside), control and
 * formatting characters escaped so that an echoed input cannot act on the terminal.
 */
export function errorSentence(error: { code: string; message: string }): string {
  let sentence: string | undefined;
  if (isErrorCode(error.code)) {
    const base = ERRORS[error.code].message;
    const detail =
      error.message === base
        ? undefined
        : error.message.startsWith(`${base}: `)
          ? error.message.slice(base.length + 2)
          : null;
    // null: a message written for this case (not the catalogue's), shown as it is.
    if (detail !== null) sentence = SENTENCES[error.code]?.(detail);
  }
  return escapeControls(sentence ?? capitalize(error.message));
}

/**
 * Why a room name is not valid, as a clause (`spaces and "!" are not allowed`), or null when it is
 * valid: the error for a bad room name says what to change.
 */
export function roomNameProblem(raw: string): string | null {
  if (normalizeRoom(raw) !== null) return null;
  const bare = raw.startsWith('#') ? raw.slice(1) : raw;
  return nameProblem(bare, ROOM_MAX_LENGTH, /[A-Za-z0-9_.-]/, /^[A-Za-z0-9]/, 'a letter or digit');
}

/** Why a nick is not valid, as a clause, or null when it is valid. */
export function nickProblem(nick: string): string | null {
  if (NICK_PATTERN.test(nick)) return null;
  return nameProblem(nick, NICK_MAX_LENGTH, /[A-Za-z0-9_-]/, /^[A-Za-z]/, 'a letter');
}

function nameProblem(name: string, max: number, allowed: RegExp, start: RegExp, startWith: string): string {
  if (name === '') return 'it is empty';
  const problems: string[] = [];
  const refused = new Set<string>();
  let spaces = false;
  for (const char of name) {
    if (/\s/u.test(char)) spaces = true;
    else if (!allowed.test(char)) refused.add(char);
  }
  const named = [...(spaces ? ['spaces'] : []), ...[...refused].slice(0, 5).map((c) => JSON.stringify(c))];
  if (named.length > 0) {
    const list = named.length === 1 ? named[0] : `${named.slice(0, -1).join(', ')} and ${named.at(-1)}`;
    problems.push(`${list} ${named.length === 1 && !spaces ? 'is' : 'are'} not allowed`);
  }
  if ([...name].length > max) problems.push(`it is longer than ${max} characters`);
  if (!start.test(name) && !/^\s/u.test(name) && !refused.has([...name][0]))
    problems.push(`it must start with ${startWith}`);
  return problems.join('; ') || 'it is not allowed';
}

/** Catalogue errors whose detail reads better inside the sentence; undefined: the message as it is. */
const SENTENCES: Partial<Record<ErrorCode, (detail: string | undefined) => string | undefined>> = {
  TC_ERR_BAD_ROOM: (raw) =>
    raw === undefined
      ? undefined
      : `That is not a valid room name: ${JSON.stringify(raw)} (${because(roomNameProblem(raw))}use 1-32 letters, digits, _ . or -)`,
  TC_ERR_BAD_NICK: (json) => {
    if (json === undefined) return undefined;
    const nick = unquote(json);
    return `That is not a valid nick: ${JSON.stringify(nick)} (${because(nickProblem(nick))}use 1-24 letters, digits, _ or -, starting with a letter)`;
  },
  TC_ERR_NICK_IN_USE: (nick) => (nick === undefined ? undefined : `The nick ${nick} is already in use: choose another`),
  TC_ERR_NO_SUCH_ROOM: (room) => (room === undefined ? undefined : `There is no room called ${room}`),
  TC_ERR_NOT_IN_ROOM: (room) => (room === undefined ? undefined : `You are not in ${room}`),
  TC_ERR_NO_SUCH_USER: (detail) => {
    const m = detail === undefined ? null : /^(\S+)(?: \((.+)\))?$/s.exec(detail);
    return m ? `Nobody called ${m[1]} is online${m[2] ? ` (${m[2]})` : ''}` : undefined;
  },
  TC_ERR_BAD_KEY: (detail) => {
    if (detail === undefined) return undefined;
    const wrong = /^wrong key for (\S+)$/.exec(detail);
    return wrong ? `That is not the key of ${wrong[1]}` : `The room ${detail} needs a key: /join ${detail} <key>`;
  },
  TC_ERR_INVITE_ONLY: (room) =>
    room === undefined ? undefined : `The room ${room} is invite-only: ask its creator for an /invite`,
  TC_ERR_TOO_MANY_ROOMS: (detail) =>
    detail !== undefined && /^at most \d+$/.test(detail)
      ? `You are in too many rooms (${detail}): /part one first`
      : undefined,
  TC_ERR_ROOM_CREATION_LIMITED: (detail) =>
    detail === undefined
      ? undefined
      : `Too many new rooms were created (${detail}): wait a minute before creating another`,
  TC_ERR_UNKNOWN_COMMAND: (detail) =>
    detail === undefined
      ? undefined
      : detail.startsWith('/')
        ? `There is no command ${detail} (/help lists them)`
        : capitalize(detail),
  TC_ERR_BAD_ARGUMENT: (detail) =>
    detail === undefined
      ? undefined
      : detail.startsWith('usage: ')
        ? `Usage: ${detail.slice('usage: '.length)}`
        : capitalize(detail),
  TC_ERR_NOT_REGISTERED_NICK: (detail) =>
    detail === undefined ? undefined : `${capitalize(detail)}: /register <password> first`,
  TC_ERR_STORE_FAILED: (detail) => (detail === undefined ? undefined : `${capitalize(detail)}: try again later`),
  TC_ERR_LOCKED_OUT: (detail) => (detail === undefined ? undefined : `Too many wrong attempts: ${detail}`),
  TC_ERR_RATE_LIMITED: (detail) => (detail === undefined ? undefined : `Slow down: ${detail}`),
  // At the prompts the dialect asks for the password; after them, only `/nick` meets a registered nick.
  TC_ERR_AUTH_REQUIRED: (detail) =>
    detail === undefined
      ? 'That nick is registered: only its owner may use it (they give its password when they connect)'
      : 'This server needs an account for every nick, and that nick has none',
};

function because(problem: string | null): string {
  return problem ? `${problem}; ` : '';
}

function unquote(json: string): string {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'string' ? value : json;
  } catch {
    return json;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Control, formatting (bidi overrides, zero-width) and lone surrogate characters as `\uXXXX`. */
function escapeControls(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Cs}]/gu, (c) => {
    const code = c.codePointAt(0)!;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
