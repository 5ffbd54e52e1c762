import { describe, expect, it } from 'vitest';
import { formatPlain, parseUserInput } from './plain-text.js';

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
    ['/mode vault +k s3cret', { kind: 'command', command: { name: 'mode', room: 'vault', change: { mode: '+k', key: 's3cret' } } }],
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
    expect(formatPlain({ type: 'message', id: 1, ts: 0, room: 'r', nick: 'bob', text: 'hi' }, 'me')).toEqual(['bob: hi']);
    expect(formatPlain({ type: 'message', id: 1, ts: 0, room: 'r', nick: 'bob', text: 'waves', action: true }, 'me')).toEqual(['* bob waves']);
    expect(formatPlain({ type: 'pm', id: 1, ts: 0, from: 'bob', to: 'me', text: 'psst' }, 'me')).toEqual(['[PM] bob: psst']);
    expect(formatPlain({ type: 'pm', id: 1, ts: 0, from: 'me', to: 'bob', text: 'psst' }, 'me')).toEqual(['[PM -> bob] psst']);
  });
});
