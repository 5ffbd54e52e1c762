import { describe, expect, it } from 'vitest';
import { applyPaste, isTypedChunk, splitKeys } from './paste.js';

describe('applyPaste', () => {
  it('inserts text without a line end at the cursor', () => {
    expect(applyPaste({ line: 'hi !', cursor: 3 }, 'bob')).toEqual({
      send: [],
      editor: { line: 'hi bob!', cursor: 6 },
    });
  });

  it('sends the whole line at each line end (CR, LF or CRLF) and keeps the rest', () => {
    expect(applyPaste({ line: 'say: ', cursor: 5 }, 'one\r\ntwo\nthr')).toEqual({
      send: ['say: one', 'two'],
      editor: { line: 'thr', cursor: 3 },
    });
    expect(applyPaste({ line: 'hi !', cursor: 3 }, 'bob\r')).toEqual({
      send: ['hi bob!'],
      editor: { line: '', cursor: 0 },
    });
  });

  it('leaves blank lines out and turns tabs into spaces', () => {
    expect(applyPaste({ line: '', cursor: 0 }, 'a\r\r  \r\tb\r').send).toEqual(['a', '    b']);
  });
});

describe('isTypedChunk / splitKeys', () => {
  it('tells coalesced typing (other control keys) from a paste (text, tabs and line ends)', () => {
    expect(isTypedChunk('\x15newcomer\r')).toBe(true);
    expect(isTypedChunk('one\rtwo\tthree\n')).toBe(false);
    expect(isTypedChunk('\x15')).toBe(false);
    expect(splitKeys('\x15new\x7fw\r')).toEqual(['\x15', 'new', '\x7f', 'w', '\r']);
  });
});
