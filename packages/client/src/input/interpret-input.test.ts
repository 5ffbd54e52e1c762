import { describe, expect, it } from 'vitest';
import { interpretInput, olderRequest, type InputWindow } from './interpret-input.js';

const room: InputWindow = { kind: 'room', name: 'general', oldestId: 40 };
const pm: InputWindow = { kind: 'pm', name: 'bob', oldestId: null };
const status: InputWindow = { kind: 'status', name: 'teamchat', oldestId: null };

describe('interpretInput', () => {
  it('sends plain text to the current room or conversation', () => {
    expect(interpretInput('hello', room)).toEqual([
      { kind: 'send', target: { kind: 'room', room: 'general' }, text: 'hello', action: false },
    ]);
    expect(interpretInput('hello', pm)).toEqual([
      { kind: 'send', target: { kind: 'pm', nick: 'bob' }, text: 'hello', action: false },
    ]);
  });

  it('refuses text in the status window with a hint', () => {
    const [effect] = interpretInput('hello', status);
    expect(effect).toMatchObject({ kind: 'notice', level: 'error' });
  });

  it('maps /me to an action and /join to a join that takes the focus', () => {
    expect(interpretInput('/me waves', room)).toEqual([
      { kind: 'send', target: { kind: 'room', room: 'general' }, text: 'waves', action: true },
    ]);
    expect(interpretInput('/join #Dev', room)).toEqual([
      { kind: 'focus-room', room: 'dev' },
      { kind: 'request', frame: { type: 'join', room: 'dev' } },
    ]);
  });

  it('sends /pm with text, and opens a conversation for /pm or /query without text', () => {
    expect(interpretInput('/msg bob hi there', room)).toEqual([
      { kind: 'send', target: { kind: 'pm', nick: 'bob' }, text: 'hi there', action: false },
    ]);
    expect(interpretInput('/pm bob', room)).toEqual([{ kind: 'open-pm', nick: 'bob' }]);
    expect(interpretInput('/query carol', room)).toEqual([{ kind: 'open-pm', nick: 'carol' }]);
  });

  it('defaults /part, /users and /topic to the current room', () => {
    expect(interpretInput('/part', room)).toEqual([{ kind: 'request', frame: { type: 'part', room: 'general' } }]);
    expect(interpretInput('/users', room)).toEqual([{ kind: 'request', frame: { type: 'users', room: 'general' } }]);
    expect(interpretInput('/topic ship it', room)).toEqual([
      { kind: 'request', frame: { type: 'topic', room: 'general', topic: 'ship it' } },
    ]);
  });

  it('reports unknown commands and bad arguments with their codes', () => {
    expect(interpretInput('/frobnicate', room)[0]).toMatchObject({
      kind: 'notice',
      level: 'error',
      text: expect.stringContaining('[TC_ERR_UNKNOWN_COMMAND]'),
    });
    expect(interpretInput('/join', room)[0]).toMatchObject({
      kind: 'notice',
      text: expect.stringContaining('[TC_ERR_BAD_ARGUMENT]'),
    });
  });

  it('lists the client-only commands in /help', () => {
    const text = interpretInput('/help', room)
      .map((e) => (e.kind === 'notice' ? e.text : ''))
      .join('\n');
    expect(text).toContain('/switch <room|nick>');
    expect(text).toContain('/join <room>');
  });

  it('names Ctrl+T for the user list in the full-screen /help (Ctrl+U clears the input), and no keys in line mode', () => {
    const tui = interpretInput('/help', room, { keys: true })
      .map((e) => (e.kind === 'notice' ? e.text : ''))
      .join('\n');
    expect(tui).toMatch(/Ctrl\+T shows or hides the user list/);
    expect(tui).toMatch(/Ctrl\+U \/ Ctrl\+K delete to the start \/ end/);
    expect(tui).not.toMatch(/Ctrl\+U toggles/);
    const line = interpretInput('/help', room)
      .map((e) => (e.kind === 'notice' ? e.text : ''))
      .join('\n');
    expect(line).not.toContain('Ctrl+');
  });
});

describe('olderRequest', () => {
  it('asks for messages before the oldest one held', () => {
    expect(olderRequest(room, 20)).toEqual({ type: 'history', room: 'general', limit: 20, before: 40 });
    expect(olderRequest(pm, 50)).toEqual({ type: 'pm-history', with: 'bob', limit: 50 });
  });
});
