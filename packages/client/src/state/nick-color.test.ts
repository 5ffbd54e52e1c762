import { describe, expect, it } from 'vitest';
import { NICK_PALETTE, nickColor, SELF_COLOR } from './nick-color.js';

describe('nickColor', () => {
  it('gives the same nick the same colour every time, whatever its case', () => {
    expect(nickColor('bob')).toBe(nickColor('bob'));
    expect(nickColor('Bob')).toBe(nickColor('bob'));
  });

  it('is stable across versions: known nicks keep their colours', () => {
    // A change here would recolour every user: keep the hash.
    expect(['alice', 'bob', 'carol'].map((n) => nickColor(n))).toEqual(['cyanBright', 'yellowBright', 'yellow']);
  });

  it('spreads nicks over the palette', () => {
    const used = new Set(Array.from({ length: 200 }, (_, i) => nickColor(`user${i}`)));
    expect(used.size).toBe(NICK_PALETTE.length);
  });

  it('gives your own nick a colour no one else gets', () => {
    expect(nickColor('alice', 'alice')).toBe(SELF_COLOR);
    expect(NICK_PALETTE).not.toContain(SELF_COLOR);
  });
});
