/**
 * IRC lines, both directions: `@tags :source COMMAND param ... :trailing` (RFC 1459/2812 with
 * IRCv3 message tags). Parsing never throws: a line that is not a message has an empty command.
 *
 * @example
 * parseIrcLine('@label=1 PRIVMSG #general :hello there')
 * // { tags: Map { 'label' => '1' }, source: null, command: 'PRIVMSG', params: ['#general', 'hello there'] }
 * formatIrcLine({ source: 'irc.example', command: '001', params: ['alice', 'Welcome'] })
 * // ':irc.example 001 alice Welcome'
 */

/** Bytes of a line without its tags, CR LF included (RFC 1459). */
export const IRC_LINE_BYTES = 512;
/** Bytes of the tags a client may send, `@` and the space after them included (IRCv3 message-tags). */
export const IRC_CLIENT_TAG_BYTES = 4096;
/** Bytes of a whole line with tags: 8191 of tags plus the 512 of the message (what the framer accepts). */
export const IRC_MAX_INPUT_BYTES = 8191 + IRC_LINE_BYTES;
/** Parameters the parser keeps (RFC 2812: 15). */
const MAX_PARAMS = 15;

export interface IrcMessage {
  tags: Map<string, string>;
  source: string | null;
  command: string;
  params: string[];
}

export interface OutgoingIrcMessage {
  tags?: Record<string, string | undefined> | Map<string, string>;
  source?: string;
  command: string;
  params?: readonly string[];
}

/** Parses one line (without CR LF). The command is upper-cased. */
export function parseIrcLine(line: string): IrcMessage {
  const tags = new Map<string, string>();
  let rest = line.replace(/^[ ]+/, '');
  if (rest.startsWith('@')) {
    const space = rest.indexOf(' ');
    const raw = space === -1 ? rest.slice(1) : rest.slice(1, space);
    rest = space === -1 ? '' : rest.slice(space + 1).replace(/^[ ]+/, '');
    for (const item of raw.split(';')) {
      if (item === '') continue;
      const eq = item.indexOf('=');
      const key = eq === -1 ? item : item.slice(0, eq);
      tags.set(key, eq === -1 ? '' : unescapeTagValue(item.slice(eq + 1)));
    }
  }
  let source: string | null = null;
  if (rest.startsWith(':')) {
    const space = rest.indexOf(' ');
    source = space === -1 ? rest.slice(1) : rest.slice(1, space);
    rest = space === -1 ? '' : rest.slice(space + 1).replace(/^[ ]+/, '');
  }
  const params: string[] = [];
  let command = '';
  while (rest.length > 0) {
    if (command !== '' && (rest.startsWith(':') || params.length === MAX_PARAMS - 1)) {
      params.push(rest.startsWith(':') ? rest.slice(1) : rest);
      break;
    }
    const space = rest.indexOf(' ');
    const word = space === -1 ? rest : rest.slice(0, space);
    rest = space === -1 ? '' : rest.slice(space + 1).replace(/^[ ]+/, '');
    if (command === '') command = word.toUpperCase();
    else params.push(word);
  }
  return { tags, source, command, params };
}

/** Serializes a message, without CR LF. The last parameter gets a `:` when it needs one. */
export function formatIrcLine(message: OutgoingIrcMessage): string {
  let out = '';
  const tags = message.tags instanceof Map ? [...message.tags] : Object.entries(message.tags ?? {});
  const present = tags.filter(([, v]) => v !== undefined) as [string, string][];
  if (present.length > 0)
    out += '@' + present.map(([k, v]) => (v === '' ? k : `${k}=${escapeTagValue(v)}`)).join(';') + ' ';
  if (message.source) out += ':' + message.source + ' ';
  out += message.command;
  const params = message.params ?? [];
  params.forEach((param, i) => {
    const last = i === params.length - 1;
    // Only the last parameter may hold spaces or start with ':'; others are sanitized.
    if (last && (param === '' || param.includes(' ') || param.startsWith(':'))) out += ' :' + param;
    else out += ' ' + (last ? param : param.replace(/ /g, '_') || '*');
  });
  return out;
}

export function escapeTagValue(value: string): string {
  return value.replace(/[\\; \r\n]/g, (c) => ({ '\\': '\\\\', ';': '\\:', ' ': '\\s', '\r': '\\r', '\n': '\\n' })[c]!);
}

export function unescapeTagValue(value: string): string {
  return value.replace(/\\(.?)/g, (_m, c: string) => ({ ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' })[c] ?? c);
}

/**
 * Cuts a string to at most `bytes` UTF-8 bytes without splitting a character.
 */
export function truncateUtf8(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (used + size > bytes) break;
    out += ch;
    used += size;
  }
  return out;
}
