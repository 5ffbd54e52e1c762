import { describe, expect, it } from 'vitest';
import {
  applyListChange,
  checkListChanges,
  checkMemberChanges,
  completeMask,
  maskMatches,
  tooManyChanges,
} from './room-modes.js';

describe('room modes', () => {
  it('completes a mask the way IRC servers do', () => {
    expect(completeMask('bob')).toBe('bob!*@*');
    expect(completeMask('*@spam.example')).toBe('*!*@spam.example');
    expect(completeMask('bob!*')).toBe('bob!*@*');
    expect(completeMask('a@b!c')).toBeNull();
    expect(completeMask(' ')).toBeNull();
    expect(completeMask('x'.repeat(101))).toBeNull();
  });

  it('matches masks case-insensitively with * and ?, and stays linear on hostile patterns', () => {
    expect(maskMatches('bob!*@*', 'Bob!user@127.0.0.1')).toBe(true);
    expect(maskMatches('b?b!*@*', 'bab!u@h')).toBe(true);
    expect(maskMatches('*!*@10.*', 'eve!e@10.0.0.9')).toBe(true);
    expect(maskMatches('bob!*@*', 'bobby!u@h')).toBe(false);
    const started = performance.now();
    expect(maskMatches('*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(100))).toBe(false);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('checks the shape and the count of changes', () => {
    expect(checkMemberChanges([{ nick: 'bob', role: 'op', add: true }])).toEqual([
      { nick: 'bob', role: 'op', add: true },
    ]);
    expect(checkMemberChanges([{ nick: 'bob', role: 'owner', add: true }])).toMatchObject({ code: 'TC_ERR_BAD_MODE' });
    expect(checkListChanges([{ list: 'ban', mask: 'eve', add: true }])).toEqual([
      { list: 'ban', mask: 'eve!*@*', add: true },
    ]);
    expect(checkListChanges([{ list: 'quiet', mask: 'eve', add: true }])).toMatchObject({ code: 'TC_ERR_BAD_MODE' });
    const lists = Array.from({ length: 7 }, (_, i) => ({ list: 'ban' as const, mask: `u${i}`, add: true }));
    expect(tooManyChanges({ type: 'mode', room: 'r', lists })).toMatchObject({ code: 'TC_ERR_BAD_MODE' });
  });

  it('adds a mask once, removes it whatever its case, and keeps a list bounded', () => {
    const list: { mask: string; by: string; ts: number }[] = [];
    expect(applyListChange(list, { list: 'ban', mask: 'Eve!*@*', add: true }, 'op', 1)).toBe(true);
    expect(applyListChange(list, { list: 'ban', mask: 'eve!*@*', add: true }, 'op', 2)).toBe(false);
    expect(applyListChange(list, { list: 'ban', mask: 'EVE!*@*', add: false }, 'op', 3)).toBe(true);
    for (let i = 0; i < 60; i++) applyListChange(list, { list: 'ban', mask: `u${i}!*@*`, add: true }, 'op', i);
    expect(list).toHaveLength(50);
  });
});
