import { describe, expect, it } from 'vitest';
import { interpretInput, type InputWindow } from './interpret-input.js';

const room: InputWindow = { kind: 'room', name: 'general', oldestId: 1, ownLastId: 42, lastId: 50 };

describe('interpretInput: team commands', () => {
  it('searches, with room and nick filters', () => {
    expect(interpretInput('/search deploy-2026', room)).toEqual([{ kind: 'search', q: 'deploy-2026' }]);
    expect(interpretInput('/search in:#ops from:bob rollback plan', room)).toEqual([
      { kind: 'search', q: 'rollback plan', room: 'ops', from: 'bob' },
    ]);
    expect(interpretInput('/search', room)[0]).toMatchObject({ kind: 'notice', level: 'error' });
  });

  it('pages and opens results', () => {
    expect(interpretInput('/more', room)).toEqual([{ kind: 'more' }]);
    expect(interpretInput('/next', room)).toEqual([{ kind: 'more' }]);
    expect(interpretInput('/goto 3', room)).toEqual([{ kind: 'goto', n: 3 }]);
    expect(interpretInput('/goto x', room)[0]).toMatchObject({ kind: 'notice', level: 'error' });
  });

  it('edits and deletes by id or "last" (your newest message here)', () => {
    expect(interpretInput('/edit last fixed typo', room)).toEqual([
      { kind: 'request', frame: { type: 'edit', id: 42, text: 'fixed typo' } },
    ]);
    expect(interpretInput('/edit #7 other', room)).toEqual([
      { kind: 'request', frame: { type: 'edit', id: 7, text: 'other' } },
    ]);
    expect(interpretInput('/delete 7', room)).toEqual([{ kind: 'request', frame: { type: 'delete', id: 7 } }]);
    expect(interpretInput('/delete last', { ...room, ownLastId: null })[0]).toMatchObject({
      kind: 'notice',
      text: expect.stringMatching(/no message/),
    });
    expect(interpretInput('/edit banana text', room)[0]).toMatchObject({
      kind: 'notice',
      text: expect.stringMatching(/not a message id/),
    });
  });

  it('reacts and takes a reaction back; ^ is the newest message here', () => {
    expect(interpretInput('/react ^ 👍', room)).toEqual([
      { kind: 'request', frame: { type: 'react', id: 50, emoji: '👍' } },
    ]);
    expect(interpretInput('/unreact 50 👍', room)).toEqual([
      { kind: 'request', frame: { type: 'react', id: 50, emoji: '👍', remove: true } },
    ]);
    expect(interpretInput('/react 50 two words', room)[0]).toMatchObject({ kind: 'notice', level: 'error' });
  });

  it('replies and opens threads; in a thread window, text replies to its root', () => {
    expect(interpretInput('/reply 7 yes', room)).toEqual([
      { kind: 'send', target: { kind: 'room', room: 'general' }, text: 'yes', action: false, replyTo: 7 },
    ]);
    expect(interpretInput('/thread ^', room)).toEqual([{ kind: 'thread', room: 'general', id: 50 }]);
    const thread: InputWindow = {
      kind: 'status',
      name: 'thread 7',
      oldestId: null,
      thread: { room: 'general', id: 7 },
    };
    expect(interpretInput('me too', thread)).toEqual([
      { kind: 'send', target: { kind: 'room', room: 'general' }, text: 'me too', action: false, replyTo: 7 },
    ]);
  });

  it('lists and changes highlight words, refusing what is not a word', () => {
    expect(interpretInput('/highlight', room)).toEqual([{ kind: 'highlight', change: { op: 'list' } }]);
    expect(interpretInput('/highlight list', room)).toEqual([{ kind: 'highlight', change: { op: 'list' } }]);
    expect(interpretInput('/highlight add deploy on-call', room)).toEqual([
      { kind: 'highlight', change: { op: 'add', words: ['deploy', 'on-call'] } },
    ]);
    expect(interpretInput('/hilight rm deploy', room)).toEqual([
      { kind: 'highlight', change: { op: 'remove', words: ['deploy'] } },
    ]);
    expect(interpretInput('/highlight clear', room)).toEqual([{ kind: 'highlight', change: { op: 'clear' } }]);
    expect(interpretInput('/highlight add a.b', room)[0]).toMatchObject({
      kind: 'notice',
      level: 'error',
      text: expect.stringContaining('TC_ERR_BAD_HIGHLIGHT'),
    });
    expect(interpretInput('/highlight add', room)[0]).toMatchObject({ kind: 'notice', level: 'error' });
    expect(interpretInput('/highlight shout x', room)[0]).toMatchObject({ kind: 'notice', level: 'error' });
  });

  it('lists mentions and toggles ids', () => {
    expect(interpretInput('/mentions', room)).toEqual([{ kind: 'mentions' }]);
    expect(interpretInput('/ids', room)).toEqual([{ kind: 'toggle-ids' }]);
  });
});
