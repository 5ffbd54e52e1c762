/**
 * Runtime validation: bytes -> a typed frame, or a coded error. Never throws.
 *
 * @example
 * const r = decodeClientFrame(Buffer.from('{"type":"msg","room":"general","text":"hi"}'));
 * if (r.ok) handle(r.frame); else reply(r.error.code);
 */
import { isUtf8 } from 'node:buffer';
import { codedError, type CodedError } from './errors.js';
import type { ClientFrame, ClientFrameType, ServerFrame, ServerFrameType } from './frames.js';
import { HISTORY_MAX, MAX_LINE_BYTES, REF_MAX_LENGTH } from './limits.js';

export type DecodeResult<F> = { ok: true; frame: F } | { ok: false; error: CodedError; ref?: string };

type Kind =
  | 'string'
  | 'int' // non-negative safe integer
  | 'limit' // 1..HISTORY_MAX
  | 'number'
  | 'boolean'
  | 'string|null'
  | 'int|null'
  | 'string[]'
  | 'rooms' // Record<string, int | null>
  | 'cid' // client message id: CID_PATTERN
  | 'object'
  | 'object[]';

/** Field specs; a trailing `?` marks an optional field. */
type Spec = Record<string, `${Kind}` | `${Kind}?`>;

const CLIENT_SPECS: Record<ClientFrameType, Spec> = {
  hello: {
    v: 'int',
    nick: 'string',
    client: 'string?',
    rooms: 'rooms?',
    pmAfter: 'int?',
    password: 'string?',
    register: 'boolean?',
    token: 'string?',
  },
  join: { room: 'string', after: 'int?', key: 'string?' },
  part: { room: 'string', reason: 'string?' },
  kick: { room: 'string', nick: 'string', reason: 'string?' },
  msg: { room: 'string', text: 'string', action: 'boolean?', cid: 'cid?', replyTo: 'int?', notice: 'boolean?' },
  pm: { to: 'string', text: 'string', action: 'boolean?', cid: 'cid?', notice: 'boolean?' },
  users: { room: 'string', after: 'string?' },
  rooms: { after: 'string?' },
  nick: { nick: 'string' },
  topic: { room: 'string', topic: 'string?' },
  history: {
    room: 'string',
    before: 'int?',
    after: 'int?',
    limit: 'limit?',
    thread: 'int?',
    beforeTs: 'int?',
    afterTs: 'int?',
  },
  'pm-history': { with: 'string?', before: 'int?', after: 'int?', limit: 'limit?', beforeTs: 'int?', afterTs: 'int?' },
  quit: { reason: 'string?' },
  ping: { ts: 'number?' },
  register: { password: 'string' },
  mode: {
    room: 'string',
    key: 'string|null?',
    inviteOnly: 'boolean?',
    topicLock: 'boolean?',
    noExternal: 'boolean?',
    moderated: 'boolean?',
    secret: 'boolean?',
    limit: 'int|null?',
    // Entries are checked by the core (shape, count): MODE_CHANGES_MAX.
    members: 'object[]?',
    lists: 'object[]?',
  },
  invite: { nick: 'string', room: 'string' },
  pong: { ts: 'number?' },
  edit: { id: 'int', text: 'string' },
  delete: { id: 'int' },
  react: { id: 'int', emoji: 'string', remove: 'boolean?' },
  search: { q: 'string', room: 'string?', from: 'string?', before: 'int?', limit: 'limit?' },
  mark: { room: 'string?', with: 'string?', id: 'int' },
  unread: {},
  mentions: { before: 'int?', limit: 'limit?' },
  // Each word is checked by the core (HIGHLIGHT_WORD_PATTERN, HIGHLIGHT_WORDS_MAX): TC_ERR_BAD_HIGHLIGHT.
  highlights: { words: 'string[]?' },
};

const SERVER_SPECS: Record<ServerFrameType, Spec> = {
  welcome: {
    v: 'int',
    nick: 'string',
    server: 'string',
    rooms: 'string[]',
    limits: 'object',
    account: 'boolean?',
    token: 'string?',
  },
  joined: {
    room: 'string',
    topic: 'string|null',
    topicBy: 'string?',
    topicAt: 'number?',
    users: 'string[]',
    usersTotal: 'int?',
    history: 'object[]',
    more: 'boolean',
  },
  parted: { room: 'string', by: 'string?', reason: 'string?' },
  message: { id: 'int', ts: 'number', room: 'string', nick: 'string', text: 'string', action: 'boolean?' },
  pm: { id: 'int', ts: 'number', from: 'string', to: 'string', text: 'string', action: 'boolean?' },
  ack: { ref: 'string', id: 'int', ts: 'number', cid: 'string?' },
  presence: { room: 'string', nick: 'string', event: 'string', ts: 'number', reason: 'string?', by: 'string?' },
  nick: { room: 'string?', old: 'string', new: 'string', ts: 'number' },
  topic: { room: 'string', topic: 'string|null', by: 'string?', ts: 'number' },
  users: { room: 'string', users: 'string[]', more: 'boolean?' },
  rooms: { rooms: 'object[]', more: 'boolean?' },
  history: { room: 'string', messages: 'object[]', more: 'boolean' },
  'pm-history': { with: 'string?', messages: 'object[]', more: 'boolean' },
  error: { code: 'string', message: 'string' },
  status: { db: 'string', cluster: 'string?', message: 'string?' },
  bye: { code: 'string?', reason: 'string' },
  pong: { ts: 'number?' },
  registered: { nick: 'string' },
  mode: {
    room: 'string',
    key: 'boolean',
    inviteOnly: 'boolean',
    creator: 'string|null',
    by: 'string?',
    ts: 'number',
    limit: 'int?',
    changes: 'object[]?',
  },
  invite: { room: 'string', nick: 'string', by: 'string', ts: 'number' },
  ping: { ts: 'number' },
  edited: { id: 'int', room: 'string', text: 'string', edited: 'number', by: 'string' },
  deleted: { id: 'int', room: 'string', by: 'string', ts: 'number' },
  reaction: {
    id: 'int',
    room: 'string',
    emoji: 'string',
    nick: 'string',
    added: 'boolean',
    count: 'int',
    ts: 'number',
  },
  'search-results': { q: 'string', results: 'object[]', more: 'boolean', next: 'int?' },
  marker: { room: 'string?', with: 'string?', id: 'int' },
  unread: { rooms: 'object', pms: 'object?' },
  mentions: { messages: 'object[]', more: 'boolean' },
  highlights: { words: 'string[]' },
};

/** A client message id (`cid` of `msg` and `pm`): 1-64 characters of `A-Za-z0-9_-` (base64url). */
export const CID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** True when `value` may be sent as the `cid` of a `msg` or `pm`. */
export function isValidCid(value: unknown): value is string {
  return typeof value === 'string' && CID_PATTERN.test(value);
}

function checkKind(kind: Kind, value: unknown): boolean {
  switch (kind) {
    case 'cid':
      return isValidCid(value);
    case 'string':
      return typeof value === 'string';
    case 'int':
      return Number.isSafeInteger(value) && (value as number) >= 0;
    case 'limit':
      return Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= HISTORY_MAX;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'string|null':
      return value === null || typeof value === 'string';
    case 'int|null':
      return value === null || (Number.isSafeInteger(value) && (value as number) >= 0);
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'rooms':
      return (
        isPlainObject(value) &&
        Object.values(value).every((v) => v === null || (Number.isSafeInteger(v) && (v as number) >= 0))
      );
    case 'object':
      return isPlainObject(value);
    case 'object[]':
      return Array.isArray(value) && value.every(isPlainObject);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** ES2024 (Node 20 has it; the project's `lib` is ES2023). */
type WellFormedString = string & { isWellFormed(): boolean };

/** False when the string holds an unpaired UTF-16 surrogate. Native, and O(1) for Latin-1 strings. */
function isWellFormed(s: string): boolean {
  return (s as WellFormedString).isWellFormed();
}

/** True when the string, or a string inside it (a value or a key, at any depth), holds an unpaired surrogate. Iterative: a frame may nest thousands deep. */
function hasUnpairedSurrogate(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (typeof v === 'string') {
      if (!isWellFormed(v)) return true;
    } else if (Array.isArray(v)) {
      for (const item of v) pending.push(item);
    } else if (isPlainObject(v)) {
      for (const key of Object.keys(v)) {
        if (!isWellFormed(key)) return true;
        pending.push(v[key]);
      }
    }
  }
  return false;
}

/**
 * Names the top-level field holding an unpaired surrogate (JSON.parse makes one of `"\ud800"`),
 * if any; a field the frame does not define is not echoed.
 */
function fieldWithUnpairedSurrogate(obj: Record<string, unknown>, spec: Spec): string | undefined {
  for (const key of Object.keys(obj)) {
    if (!isWellFormed(key)) return 'a field name';
    if (hasUnpairedSurrogate(obj[key])) return Object.hasOwn(spec, key) ? `"${key}"` : 'an unknown field';
  }
  return undefined;
}

/**
 * Whether a line may decode to strings with an unpaired surrogate. Bytes reach JSON.parse only
 * after the UTF-8 check, which refuses encoded surrogates (ED A0 80 and the like), so only a
 * `\uD800`..`\uDFFF` escape makes one: testing the line for it spares the walk over the frame for
 * nearly every frame. A string given directly may also hold raw lone surrogates.
 */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
function mayHoldLoneSurrogates(input: Uint8Array | string, text: string): boolean {
  return SURROGATE_ESCAPE.test(text) || (typeof input === 'string' && !isWellFormed(text));
}

/**
 * Checks a parsed frame against the specs. With `checkText`, a frame holding an unpaired surrogate
 * anywhere is refused with TC_ERR_BAD_TEXT (and a `ref` that is not well-formed is not echoed).
 */
function validate<F>(obj: Record<string, unknown>, specs: Record<string, Spec>, checkText: boolean): DecodeResult<F> {
  const refText = typeof obj.ref === 'string' ? obj.ref : undefined;
  const refBroken = checkText && refText !== undefined && !isWellFormed(refText);
  const ref = refText !== undefined && refText.length <= REF_MAX_LENGTH && !refBroken ? refText : undefined;
  const type = obj.type;
  if (typeof type !== 'string' || !Object.hasOwn(specs, type)) {
    return { ok: false, error: codedError('TC_ERR_BAD_FRAME', `unknown type ${JSON.stringify(type)}`), ref };
  }
  if (obj.ref !== undefined && ref === undefined) {
    if (refBroken) return { ok: false, error: codedError('TC_ERR_BAD_TEXT', '"ref"') };
    return {
      ok: false,
      error: codedError('TC_ERR_BAD_FIELD', `"ref" must be a string of at most ${REF_MAX_LENGTH} characters`),
    };
  }
  const spec = specs[type];
  if (checkText) {
    const field = fieldWithUnpairedSurrogate(obj, spec);
    if (field !== undefined) return { ok: false, error: codedError('TC_ERR_BAD_TEXT', field), ref };
  }
  for (const [field, rule] of Object.entries(spec)) {
    const optional = rule.endsWith('?');
    const kind = (optional ? rule.slice(0, -1) : rule) as Kind;
    const value = obj[field];
    if (value === undefined) {
      if (optional) continue;
      return { ok: false, error: codedError('TC_ERR_BAD_FIELD', `"${type}" needs "${field}" (${kind})`), ref };
    }
    if (!checkKind(kind, value)) {
      const want =
        kind === 'limit'
          ? `an integer 1..${HISTORY_MAX}`
          : kind === 'int'
            ? 'a non-negative integer'
            : kind === 'cid'
              ? '1-64 characters of A-Za-z0-9_-'
              : kind;
      return { ok: false, error: codedError('TC_ERR_BAD_FIELD', `"${field}" of "${type}" must be ${want}`), ref };
    }
  }
  return { ok: true, frame: obj as F };
}

function parseLine(
  input: Uint8Array | string,
): { ok: true; value: unknown; text: string } | { ok: false; error: CodedError } {
  let text: string;
  if (typeof input === 'string') {
    text = input;
    if (Buffer.byteLength(text) > MAX_LINE_BYTES) return { ok: false, error: codedError('TC_ERR_LINE_TOO_LONG') };
  } else {
    if (input.byteLength > MAX_LINE_BYTES) return { ok: false, error: codedError('TC_ERR_LINE_TOO_LONG') };
    if (!isUtf8(input)) return { ok: false, error: codedError('TC_ERR_BAD_UTF8') };
    text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  }
  try {
    return { ok: true, value: JSON.parse(text), text };
  } catch (e) {
    return { ok: false, error: codedError('TC_ERR_BAD_JSON', (e as Error).message) };
  }
}

function decodeWith<F>(input: Uint8Array | string, specs: Record<string, Spec>, wellFormed: boolean): DecodeResult<F> {
  const parsed = parseLine(input);
  if (!parsed.ok) return parsed;
  if (!isPlainObject(parsed.value)) return { ok: false, error: codedError('TC_ERR_BAD_FRAME', 'not a JSON object') };
  return validate<F>(parsed.value, specs, wellFormed && mayHoldLoneSurrogates(input, parsed.text));
}

/**
 * Decodes one line (without its newline) sent by a client. Besides the shape of the frame, every
 * string in it (at any depth, keys included) must be well-formed UTF-16: an unpaired surrogate
 * (`"\ud800"`) is refused with TC_ERR_BAD_TEXT, echoing the frame's `ref`.
 */
export function decodeClientFrame(input: Uint8Array | string): DecodeResult<ClientFrame> {
  return decodeWith<ClientFrame>(input, CLIENT_SPECS, true);
}

/** Decodes one line (without its newline) sent by the server. */
export function decodeServerFrame(input: Uint8Array | string): DecodeResult<ServerFrame> {
  return decodeWith<ServerFrame>(input, SERVER_SPECS, false);
}

export const CLIENT_FRAME_TYPES = Object.keys(CLIENT_SPECS) as ClientFrameType[];
export const SERVER_FRAME_TYPES = Object.keys(SERVER_SPECS) as ServerFrameType[];
