import type { ServerFrame } from '@teamchat/protocol';
import { describe, expect, it } from 'vitest';
import { changeHighlightWords, highlightList, mergeHighlightWords } from '../state/highlight-words.js';
import type { CommandFrame } from './chat-connection.js';
import { adoptServerHighlights, changeServerHighlights, type HighlightRequester } from './highlight-sync.js';

/** A server that keeps one list and answers `highlights` as the real one does. */
function fakeServer(words: string[]): HighlightRequester & { sent: CommandFrame[]; words: string[] } {
  const server = {
    words,
    sent: [] as CommandFrame[],
    request(frame: CommandFrame): Promise<ServerFrame | undefined> | null {
      server.sent.push(frame);
      if (frame.type !== 'highlights') return Promise.resolve(undefined);
      if (frame.words !== undefined) server.words = frame.words;
      return Promise.resolve({ type: 'highlights', words: server.words });
    },
  };
  return server;
}

describe('highlight words', () => {
  it('adds, removes and clears words, lower-case and without repeats', () => {
    expect(changeHighlightWords(['deploy'], { op: 'add', words: ['OnCall', 'deploy'] })).toEqual(['deploy', 'oncall']);
    expect(changeHighlightWords(['deploy', 'oncall'], { op: 'remove', words: ['DEPLOY', 'absent'] })).toEqual([
      'oncall',
    ]);
    expect(changeHighlightWords(['deploy'], { op: 'clear' })).toEqual([]);
    expect(highlightList([])).toMatch(/^none/);
    expect(highlightList(['a', 'b'])).toBe('a, b');
  });

  it("merges the command line's words after the server's, dropping what is not a word, at most 16", () => {
    expect(mergeHighlightWords(['deploy'], ['Deploy', 'release', 'v1.2'])).toEqual(['deploy', 'release']);
    const many = Array.from({ length: 16 }, (_, i) => `w${i}`);
    expect(mergeHighlightWords(many, ['extra'])).toEqual(many);
  });

  it("stores a change made to the server's current list, not to a stale copy", async () => {
    const server = fakeServer(['added-elsewhere']);
    expect(await changeServerHighlights(server, { op: 'add', words: ['mine'] })).toEqual(['added-elsewhere', 'mine']);
    expect(server.sent).toEqual([{ type: 'highlights' }, { type: 'highlights', words: ['added-elsewhere', 'mine'] }]);
    // Nothing to change: nothing stored.
    expect(await changeServerHighlights(server, { op: 'remove', words: ['absent'] })).toEqual([
      'added-elsewhere',
      'mine',
    ]);
    expect(server.sent).toHaveLength(3);
  });

  it("at login adopts the server's words and stores --highlight words it lacks", async () => {
    const server = fakeServer(['deploy']);
    expect(await adoptServerHighlights(server, ['deploy'])).toEqual(['deploy']);
    expect(server.sent).toEqual([{ type: 'highlights' }]);
    expect(await adoptServerHighlights(server, ['oncall'])).toEqual(['deploy', 'oncall']);
    expect(server.words).toEqual(['deploy', 'oncall']);
    const offline: HighlightRequester = { request: () => null };
    expect(await adoptServerHighlights(offline, ['x'])).toBeNull();
  });
});
