import { describe, expect, it } from 'vitest';
import { codedError } from './errors.js';
import type { RoomMessage } from './frames.js';
import {
  errorSentence,
  formatPlain,
  nickProblem,
  parseUserInput,
  plainErrorLine,
  roomNameProblem,
} from './plain-text.js';

describe('parseUserInput', () => {
  it.each([
    ['hello', { kind: 'text', text: 'hello' }],
    ['//not a command', { kind: 'text', text: '/not a command' }],
    ['   ', { kind: 'empty' }],
    ['/join room2', { kind: 'command', command: { name: 'join', room: 'room2' } }],
    ['/msg bob hi  there', { kind: 'command', command: { name: 'pm', to: 'bob', text: 'hi  there' } }],
    ['/PM bob x', { kind: 'command', command: { name: 'pm', to: 'bob', text: 'x' } }],
    ['/topic', { kind: 'command', command: { name: 'topic' } }],
    ['/topic Ship it', { kind: 'command', command: { name: 'topic', topic: 'Ship it' } }],
    ['/history 20', { kind: 'command', command: { name: 'history', count: 20 } }],
    ['/me waves', { kind: 'command', command: { name: 'me', text: 'waves' } }],
    ['/quit gone fishing', { kind: 'command', command: { name: 'quit', reason: 'gone fishing' } }],
    ['/join vault s3cret', { kind: 'command', command: { name: 'join', room: 'vault', key: 's3cret' } }],
    ['/register my long password', { kind: 'command', command: { name: 'register', password: 'my long password' } }],
    ['/login hunter2hunter2', { kind: 'command', command: { name: 'login', password: 'hunter2hunter2' } }],
    ['/mode vault', { kind: 'command', command: { name: 'mode', room: 'vault' } }],
    [
      '/mode vault +k s3cret',
      { kind: 'command', command: { name: 'mode', room: 'vault', change: { mode: '+k', key: 's3cret' } } },
    ],
    ['/mode vault -k', { kind: 'command', command: { name: 'mode', room: 'vault', change: { mode: '-k' } } }],
    ['/mode vault +i', { kind: 'command', command: { name: 'mode', room: 'vault', change: { mode: '+i' } } }],
    ['/invite bob', { kind: 'command', command: { name: 'invite', nick: 'bob' } }],
    ['/invite bob vault', { kind: 'command', command: { name: 'invite', nick: 'bob', room: 'vault' } }],
  ])('parses %j', (line, expected) => {
    expect(parseUserInput(line)).toEqual(expected);
  });

  it.each([
    ['/dance', 'TC_ERR_UNKNOWN_COMMAND'],
    ['/join', 'TC_ERR_BAD_ARGUMENT'],
    ['/pm bob', 'TC_ERR_BAD_ARGUMENT'],
    ['/history many', 'TC_ERR_BAD_ARGUMENT'],
    ['/nick a b', 'TC_ERR_BAD_ARGUMENT'],
    ['/register', 'TC_ERR_BAD_ARGUMENT'],
    ['/mode', 'TC_ERR_BAD_ARGUMENT'],
    ['/mode vault +k', 'TC_ERR_BAD_ARGUMENT'],
    ['/mode vault +x', 'TC_ERR_BAD_ARGUMENT'],
    ['/invite', 'TC_ERR_BAD_ARGUMENT'],
    ['/join a b c', 'TC_ERR_BAD_ARGUMENT'],
  ])('rejects %j with %s', (line, code) => {
    const r = parseUserInput(line);
    expect(r.kind).toBe('error');
    if (r.kind === 'error') expect(r.error.code).toBe(code);
  });
});

describe('formatPlain', () => {
  it('renders room messages, actions and private messages as the original design did', () => {
    expect(formatPlain({ type: 'message', id: 1, ts: 0, room: 'r', nick: 'bob', text: 'hi' }, 'me')).toEqual([
      'bob: hi',
    ]);
    expect(
      formatPlain({ type: 'message', id: 1, ts: 0, room: 'r', nick: 'bob', text: 'waves', action: true }, 'me'),
    ).toEqual(['* bob waves']);
    expect(formatPlain({ type: 'pm', id: 1, ts: 0, from: 'bob', to: 'me', text: 'psst' }, 'me')).toEqual([
      '[PM] bob: psst',
    ]);
    expect(formatPlain({ type: 'pm', id: 1, ts: 0, from: 'me', to: 'bob', text: 'psst' }, 'me')).toEqual([
      '[PM -> bob] psst',
    ]);
  });

  it('renders highlight words as one line, and unread counts not at all', () => {
    expect(formatPlain({ type: 'highlights', words: ['deploy', 'oncall'] }, 'me')).toEqual([
      '* Highlight words: deploy, oncall',
    ]);
    expect(formatPlain({ type: 'highlights', words: [] }, 'me')).toEqual(['* No highlight words']);
    expect(
      formatPlain({ type: 'unread', rooms: {}, pms: { bob: { unread: 1, mentions: 1, marker: 0 } } }, 'me'),
    ).toEqual([]);
  });
});

describe('formatPlain counts in words', () => {
  const message = (id: number): RoomMessage => ({ id, ts: 0, room: 'r', nick: 'bob', text: `m${id}` });
  const joined = (history: RoomMessage[]) =>
    formatPlain({ type: 'joined', room: 'r', topic: null, users: ['bob', 'me'], history, more: false }, 'me');

  it('heads a history of one with "last message" and of more with "last n messages"', () => {
    expect(joined([message(1)])).toEqual([
      '* Now talking in r',
      '* Users here: bob, me',
      '* --- last message ---',
      'bob: m1',
      '* --- end of history ---',
    ]);
    expect(joined([message(1), message(2)])[2]).toBe('* --- last 2 messages ---');
    expect(joined([])).toEqual(['* Now talking in r', '* Users here: bob, me']);
  });

  it('heads an older page of one with "1 older message"', () => {
    expect(formatPlain({ type: 'history', room: 'r', messages: [message(1)], more: false }, 'me')[0]).toBe(
      '* --- 1 older message (start of history) ---',
    );
    expect(formatPlain({ type: 'history', room: 'r', messages: [message(1), message(2)], more: true }, 'me')[0]).toBe(
      '* --- 2 older messages ---',
    );
  });

  it('tells the renamed user and the others differently', () => {
    expect(formatPlain({ type: 'nick', old: 'bob', new: 'robert', ts: 0 }, 'robert')).toEqual([
      '* You are now known as robert',
    ]);
    expect(formatPlain({ type: 'nick', room: 'r', old: 'bob', new: 'robert', ts: 0 }, 'me')).toEqual([
      '* bob is now known as robert',
    ]);
  });
});

describe('plain-text errors', () => {
  it('read as a sentence with the code at the end', () => {
    expect(formatPlain({ type: 'error', ...codedError('TC_ERR_BAD_ROOM', 'bad room name!') }, 'me')).toEqual([
      '! That is not a valid room name: "bad room name!" (spaces and "!" are not allowed; use 1-32 letters, digits, _ . or -) [TC_ERR_BAD_ROOM]',
    ]);
    expect(plainErrorLine(codedError('TC_ERR_BAD_PASSWORD'))).toBe('! Wrong password [TC_ERR_BAD_PASSWORD]');
  });

  it.each([
    [
      codedError('TC_ERR_BAD_NICK', JSON.stringify('9lives')),
      'That is not a valid nick: "9lives" (it must start with a letter; use 1-24 letters, digits, _ or -, starting with a letter)',
    ],
    [codedError('TC_ERR_NICK_IN_USE', 'bob'), 'The nick bob is already in use: choose another'],
    [codedError('TC_ERR_NO_SUCH_USER', 'zed'), 'Nobody called zed is online'],
    [
      codedError('TC_ERR_NO_SUCH_USER', 'zed (invite someone who is online or has an account)'),
      'Nobody called zed is online (invite someone who is online or has an account)',
    ],
    [codedError('TC_ERR_NO_SUCH_ROOM', 'vault'), 'There is no room called vault'],
    [codedError('TC_ERR_NOT_IN_ROOM', 'vault'), 'You are not in vault'],
    [codedError('TC_ERR_BAD_KEY', 'vault'), 'The room vault needs a key: /join vault <key>'],
    [codedError('TC_ERR_BAD_KEY', 'wrong key for vault'), 'That is not the key of vault'],
    [codedError('TC_ERR_INVITE_ONLY', 'vault'), 'The room vault is invite-only: ask its creator for an /invite'],
    [codedError('TC_ERR_TOO_MANY_ROOMS', 'at most 100'), 'You are in too many rooms (at most 100): /part one first'],
    [
      codedError('TC_ERR_NOT_REGISTERED_NICK', 'room modes need a registered nick'),
      'Room modes need a registered nick: /register <password> first',
    ],
    [
      codedError('TC_ERR_NOT_ROOM_CREATOR', 'vault was created by alice'),
      'Only the creator of a room or its operators may change its modes: vault was created by alice',
    ],
    [
      codedError('TC_ERR_STORE_FAILED', 'the topic could not be saved'),
      'The topic could not be saved: try again later',
    ],
    [
      codedError('TC_ERR_LOCKED_OUT', 'account alice is locked; try again in 57 s'),
      'Too many wrong attempts: account alice is locked; try again in 57 s',
    ],
    [
      codedError('TC_ERR_BAD_ARGUMENT', 'you are logged in to the account bob: /nick bob to change its password'),
      'You are logged in to the account bob: /nick bob to change its password',
    ],
    [codedError('TC_ERR_LINE_TOO_LONG'), 'That line is longer than 8192 bytes, so it was discarded'],
  ])('words %j as %j', (error, sentence) => {
    expect(errorSentence(error)).toBe(sentence);
  });

  it("word the parser's refusals as sentences", () => {
    const sentence = (line: string) => {
      const input = parseUserInput(line);
      return input.kind === 'error' ? plainErrorLine(input.error) : null;
    };
    expect(sentence('/dance')).toBe('! There is no command /dance (/help lists them) [TC_ERR_UNKNOWN_COMMAND]');
    expect(sentence('/ x')).toBe(
      '! A command name must follow "/" (send "//" for a literal slash) [TC_ERR_UNKNOWN_COMMAND]',
    );
    expect(sentence('/join')).toBe('! Usage: /join <room> [key] [TC_ERR_BAD_ARGUMENT]');
  });

  it('show a message not from the catalogue as it is, capitalised', () => {
    expect(
      plainErrorLine({ code: 'TC_ERR_NOT_IN_ROOM', message: 'You are not in a room: /join <room> to enter one' }),
    ).toBe('! You are not in a room: /join <room> to enter one [TC_ERR_NOT_IN_ROOM]');
    expect(plainErrorLine({ code: 'TC_ERR_FROM_THE_FUTURE', message: 'something new' })).toBe(
      '! Something new [TC_ERR_FROM_THE_FUTURE]',
    );
  });

  it('never pass control or bidi characters of an echoed input to the terminal', () => {
    const line = plainErrorLine(codedError('TC_ERR_UNKNOWN_COMMAND', '/a\u001b[2Jb\u202e'));
    expect(line).toBe('! There is no command /a\\u001b[2Jb\\u202e (/help lists them) [TC_ERR_UNKNOWN_COMMAND]');
    expect(plainErrorLine(codedError('TC_ERR_BAD_ROOM', 'x\u202ey'))).toContain('"x\\u202ey"');
  });
});

describe('roomNameProblem and nickProblem', () => {
  it.each([
    ['general', null],
    ['#General', null],
    ['', 'it is empty'],
    ['bad room', 'spaces are not allowed'],
    ['bad!', '"!" is not allowed'],
    ['a b?c!', 'spaces, "?" and "!" are not allowed'],
    ['-dash', 'it must start with a letter or digit'],
    ['x'.repeat(33), 'it is longer than 32 characters'],
  ])('says what is wrong with the room name %j: %j', (name, problem) => {
    expect(roomNameProblem(name)).toBe(problem);
  });

  it.each([
    ['alice', null],
    ['9lives', 'it must start with a letter'],
    ['a.b', '"." is not allowed'],
    ['x'.repeat(25), 'it is longer than 24 characters'],
  ])('says what is wrong with the nick %j: %j', (nick, problem) => {
    expect(nickProblem(nick)).toBe(problem);
  });
});
