import { describe, expect, it } from 'vitest';
import { NICK_SLOTS, nickColor, nickSlot } from './nick-color.js';

describe('nickColor', () => {
  it('gives the same nick the same colour every time, whatever its case', () => {
    expect(nickColor('bob')).toBe(nickColor('bob'));
    expect(nickColor('Bob')).toBe(nickColor('bob'));
  });

  it('is stable across versions: known nicks keep their slots', () => {
    // A change here would recolour every user: keep the hash and the number of slots.
    expect(['alice', 'bob', 'carol'].map((n) => nickSlot(n))).toEqual([7, 4, 2]);
    expect(nickColor('bob', 'alice')).toBe('nick:4');
  });

  it('spreads nicks over every slot', () => {
    const used = new Set(Array.from({ length: 200 }, (_, i) => nickSlot(`user${i}`)));
    expect(used.size).toBe(NICK_SLOTS);
  });

  it('gives your own nick no colour at all (bold in the default colour), whatever its case', () => {
    expect(nickColor('alice', 'alice')).toBeNull();
    expect(nickColor('ALICE', 'alice')).toBeNull();
    expect(nickColor('bob', 'alice')).not.toBeNull();
  });
});
