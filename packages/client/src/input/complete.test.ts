import { describe, expect, it } from 'vitest';
import { applyCompletion, completions } from './complete.js';
import { InputHistory } from './input-history.js';

const sources = { commands: ['join', 'part', 'pm', 'msg'], nicks: ['bob', 'Bobby', 'carol'] };

describe('completions', () => {
  it('completes commands at the start of the line', () => {
    expect(completions('/jo', 3, sources)).toEqual(['/join ']);
    expect(completions('/p', 2, sources)).toEqual(['/part ', '/pm ']);
  });

  it('completes nicks, with a colon at the start of the line', () => {
    expect(completions('bo', 2, sources)).toEqual(['bob: ', 'Bobby: ']);
    expect(completions('hi ca', 5, sources)).toEqual(['carol ']);
  });

  it('replaces only the word before the cursor', () => {
    expect(applyCompletion('hi ca and more', 5, 'carol ')).toEqual({ line: 'hi carol and more', cursor: 8 });
  });
});

describe('InputHistory', () => {
  it('recalls earlier lines with up and returns to the draft with down', () => {
    let h = InputHistory.empty().push('one').push('two');
    let r = h.up('draft');
    expect(r.line).toBe('two');
    r = r.history.up(r.line);
    expect(r.line).toBe('one');
    r = r.history.down(r.line);
    expect(r.line).toBe('two');
    r = r.history.down(r.line);
    expect(r.line).toBe('draft');
    h = r.history;
    expect(h.up('x').line).toBe('two');
  });
});
