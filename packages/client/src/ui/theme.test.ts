import { describe, expect, it } from 'vitest';
import { NICK_SLOTS } from '../state/nick-color.js';
import { PALETTES, resolveThemeName, themeFromColorFgBg, type Palette } from './theme.js';

/** The RGB of a 256-colour cube entry (16..231), as xterm and nearly every terminal define it. */
function cubeRgb(n: number): [number, number, number] {
  const levels = [0, 95, 135, 175, 215, 255];
  const i = n - 16;
  return [levels[Math.floor(i / 36)], levels[Math.floor(i / 6) % 6], levels[i % 6]];
}

/** WCAG relative luminance and contrast ratio. */
function luminance([r, g, b]: [number, number, number]): number {
  const lin = (v: number) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}
function contrast(a: [number, number, number], b: [number, number, number]): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const BLACK: [number, number, number] = [0, 0, 0];
const WHITE: [number, number, number] = [255, 255, 255];

function colours(p: Palette): string[] {
  return [...p.nicks, p.ok, p.warn, p.error, p.pm];
}

function rgbOf(color: string): [number, number, number] {
  const m = /^ansi256\((\d+)\)$/.exec(color);
  expect(m, `${color} is a 256-colour cube entry`).not.toBeNull();
  const n = Number(m![1]);
  expect(n >= 16 && n <= 231, `${color} is in the colour cube (not the themable 16)`).toBe(true);
  return cubeRgb(n);
}

describe('theme palettes', () => {
  it('have one nick colour per slot, all different', () => {
    for (const p of Object.values(PALETTES)) {
      expect(p.nicks).toHaveLength(NICK_SLOTS);
      expect(new Set(p.nicks).size).toBe(NICK_SLOTS);
    }
  });

  it('are readable on their own background (4.5:1) and still on the other one (3:1)', () => {
    for (const c of colours(PALETTES.dark)) {
      expect(contrast(rgbOf(c), BLACK), `${c} on black`).toBeGreaterThanOrEqual(4.5);
      expect(contrast(rgbOf(c), WHITE), `${c} on white`).toBeGreaterThanOrEqual(3);
    }
    for (const c of colours(PALETTES.light)) {
      expect(contrast(rgbOf(c), WHITE), `${c} on white`).toBeGreaterThanOrEqual(4.5);
      expect(contrast(rgbOf(c), BLACK), `${c} on black`).toBeGreaterThanOrEqual(3);
    }
  });

  it('never use bright yellow or white', () => {
    for (const p of Object.values(PALETTES)) {
      for (const c of colours(p)) {
        const [r, g, b] = rgbOf(c);
        const brightYellow = r > 200 && g > 200 && b < 120;
        const white = r > 200 && g > 200 && b > 200;
        expect(brightYellow || white, c).toBe(false);
      }
    }
  });
});

describe('resolveThemeName', () => {
  it('reads the background from the last field of COLORFGBG', () => {
    expect(themeFromColorFgBg('15;0')).toBe('dark');
    expect(themeFromColorFgBg('0;15')).toBe('light');
    expect(themeFromColorFgBg('0;7')).toBe('light');
    expect(themeFromColorFgBg('15;default;8')).toBe('dark');
    expect(themeFromColorFgBg('12;4')).toBe('dark');
    expect(themeFromColorFgBg('0;11')).toBeNull();
    expect(themeFromColorFgBg('default;default')).toBeNull();
    expect(themeFromColorFgBg(undefined)).toBeNull();
  });

  it('prefers --theme, then COLORFGBG, then dark', () => {
    expect(resolveThemeName('dark', { COLORFGBG: '0;15' })).toBe('dark');
    expect(resolveThemeName(undefined, { COLORFGBG: '0;15' })).toBe('light');
    expect(resolveThemeName(undefined, {})).toBe('dark');
    expect(resolveThemeName(undefined, { COLORFGBG: 'nonsense' })).toBe('dark');
  });
});
