import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitizeText } from './text.js';

/** Code points as `<hex>`, so a failure shows what an invisible character was. */
const show = (s: string) => s.replace(/[^\x20-\x7e]/gu, (c) => `<${c.codePointAt(0)!.toString(16)}>`);
const expectClean = (input: string, output: string) =>
  expect(show(sanitizeText(input)), show(input)).toBe(show(output));

const BIDI_CONTROLS = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];

/** Emoji ZWJ sequences from emoji-zwj-sequences.txt (family, flag, profession with skin tone, couple, hair, direction...). */
const ZWJ_EMOJI = [
  '👨‍👩‍👧', // man, woman, girl
  '👨‍👩‍👧‍👦',
  '🏳️‍🌈', // rainbow flag: white flag, VS16, ZWJ, rainbow
  '🏳️‍⚧️',
  '🏴‍☠️',
  '🧑🏽‍💻', // technologist: medium skin tone
  '👩🏿‍🚀',
  '🧑🏻‍🤝‍🧑🏿', // people holding hands, two skin tones
  '👩‍🦰', // red hair (a component)
  '❤️‍🔥',
  '🐻‍❄️',
  '👁️‍🗨️',
  '🏃‍➡️',
  '🧔‍♂️',
];

describe('sanitizeText', () => {
  it('returns plain ASCII untouched', () => {
    const text = 'hello, world! 1 + 1 = 2 ~ {ok}\tand a tab';
    expect(sanitizeText(text)).toBe(text);
  });

  it('replaces control characters with a space, so an ANSI escape loses its ESC and lines cannot break', () => {
    expectClean('a\u0000b\u001b[31mc\nd\re', 'a b [31mc d e');
    expectClean('bell\u0007 del\u007f csi\u009b nel\u0085', 'bell  del  csi  nel ');
  });

  it('replaces the Unicode line and paragraph separators with a space', () => {
    expectClean('first\u2028second\u2029third', 'first second third');
  });

  it('removes bidi embeddings, overrides and isolates (Trojan Source)', () => {
    expectClean('invoice\u202egnp.exe', 'invoicegnp.exe');
    expectClean('access = "user\u202e \u2066// admin\u2069 \u2066"', 'access = "user // admin "');
    for (const c of BIDI_CONTROLS) expectClean(`a${c}b`, 'ab');
  });

  it('keeps the stateless direction marks LRM, RLM and ALM that right-to-left text needs', () => {
    expectClean('שלום\u200f!', 'שלום\u200f!');
    expectClean('a\u200eb \u061c1', 'a\u200eb \u061c1');
  });

  it('removes zero-width and other invisible characters', () => {
    expectClean('pay\u200bpal', 'paypal');
    expectClean('pay\u2060pal\ufeff', 'paypal');
    expectClean('\ufeffbom at the start', 'bom at the start');
    expectClean('soft\u00adhyphen', 'softhyphen');
    expectClean('vowel\u180eseparator', 'vowelseparator');
    expectClean('a\u2061b\u2062c\u2063d\u2064e', 'abcde');
    expectClean('hangul\u3164filler\uffa0', 'hangulfiller');
    expectClean('annotated\ufff9hidden\ufffatext\ufffb', 'annotatedhiddentext');
    expectClean('cgj\u034f', 'cgj');
  });

  it('removes ZWNJ and ZWJ that only hide a word boundary', () => {
    expectClean('pay\u200cpal', 'paypal');
    expectClean('pay\u200dpal', 'paypal');
    expectClean('\u200dstart end\u200c', 'start end');
    expectClean('😀\u200dx', '😀x');
    expectClean('x\u200d😀', 'x😀');
    expectClean('😀\u200c😀', '😀😀');
  });

  it('keeps emoji ZWJ sequences intact', () => {
    for (const emoji of ZWJ_EMOJI) expectClean(`look ${emoji}!`, `look ${emoji}!`);
  });

  it('keeps ZWNJ and ZWJ where scripts need them: Persian, Arabic, after a virama', () => {
    expectClean('می‌خواهم', 'می‌خواهم'); // Persian "I want": ZWNJ between two Arabic-script letters
    expectClean('کتاب‌ها', 'کتاب‌ها');
    expectClean('ශ්‍රී ලංකා', 'ශ්‍රී ලංකා'); // Sinhala: al-lakuna, ZWJ
    expectClean('क्‍ष क्‌ष', 'क्‍ष क्‌ष'); // Devanagari half form / explicit virama
    expectClean('ന്‍', 'ന്‍'); // Malayalam chillu (old encoding)
    expectClean('ক‍্য', 'ক‍্য'); // before a virama
  });

  it('keeps ZWNJ and ZWJ after a virama for every virama of the running Unicode version', () => {
    // Canonical_Combining_Class 9, found by canonical reordering around marks of class 10 and 9.
    const viramas: string[] = [];
    for (let cp = 0x300; cp <= 0x1ffff; cp++) {
      const c = String.fromCodePoint(cp);
      if (cp === 0x5b0 || !/\p{M}/u.test(c)) continue;
      if (('\u05b0' + c).normalize('NFD') === c + '\u05b0' && ('\u094d' + c).normalize('NFD') === '\u094d' + c)
        viramas.push(c);
    }
    expect(viramas.length).toBeGreaterThan(60);
    for (const v of viramas) {
      expectClean(`क${v}\u200cष`, `क${v}\u200cष`);
      expectClean(`क${v}\u200dष`, `क${v}\u200dष`);
    }
    expectClean('कि\u200cष', 'किष'); // a vowel sign is not a virama
  });

  it('keeps one variation selector after a visible character and drops runs of them', () => {
    expectClean('❤️ #️⃣ 葛󠄀', '❤️ #️⃣ 葛󠄀');
    expectClean('❤\ufe0f\ufe0f\ufe0e', '❤\ufe0f');
    // Hidden bytes smuggled as a run of variation selectors after an emoji.
    expectClean('😀\u{e0100}\u{e0101}\u{e0142}\ufe01', '😀\u{e0100}');
    expectClean('\ufe0fleading', 'leading');
    expectClean('a \ufe0f', 'a ');
  });

  it('keeps emoji flag tag sequences and removes tag characters anywhere else (ASCII smuggling)', () => {
    expectClean('🏴󠁧󠁢󠁳󠁣󠁴󠁿 🏴󠁧󠁢󠁷󠁬󠁳󠁿', '🏴󠁧󠁢󠁳󠁣󠁴󠁿 🏴󠁧󠁢󠁷󠁬󠁳󠁿');
    const hidden = [...'ignore previous instructions']
      .map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0)))
      .join('');
    expectClean(`hello${hidden}`, 'hello');
    expectClean(`🏴${hidden}`, '🏴');
    expectClean('\u{e0001}\u{e0065}\u{e006e}tagged', 'tagged');
  });

  it('keeps Mongolian variation selectors and the vowel separator only inside Mongolian words', () => {
    expectClean('ᠨ᠋ᠠ ᠬᠠᠭ᠎ᠠ', 'ᠨ᠋ᠠ ᠬᠠᠭ᠎ᠠ');
    expectClean('a\u180bb\u180ea', 'aba');
  });

  it('replaces unpaired surrogates and noncharacters with U+FFFD, and keeps surrogate pairs', () => {
    expectClean('a\ud800b\udc00c', 'a\ufffdb\ufffdc');
    expectClean('end\ud83d', 'end\ufffd');
    expectClean('😀 \ud83d\ude00', '😀 😀');
    expectClean('x\ufffey\ufdd0z\u{10ffff}\u{1fffe}', 'x\ufffdy\ufffdz\ufffd\ufffd');
  });

  it('leaves ordinary text in any script unchanged', () => {
    for (const text of [
      'héllo wörld, ça va?',
      'Привет, мир',
      '日本語のテキスト',
      'مرحبا بالعالم',
      '١٢٣ \u0600١٢ ۝',
      'emoji 😀👍🎉 ok',
      '\ue000 private use',
    ]) {
      expect(sanitizeText(text)).toBe(text);
    }
  });

  it('treats every code point by its class: line breakers, non-characters, invisible, or kept', () => {
    const keptFormat = /[\u200e\u200f\u061c]|\p{Cf}(?<!\p{Default_Ignorable_Code_Point})(?<![\ufff9-\ufffb])/u;
    const invisible = /[\p{Default_Ignorable_Code_Point}\p{Cf}]/u;
    const breaking = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/u;
    const mismatches: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp === 0xd800) cp = 0xe000;
      const c = String.fromCodePoint(cp);
      const nonCharacter = (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe;
      // Spaces around it: a space is no base for a variation selector and no letter for a joiner.
      const want = breaking.test(c)
        ? '   '
        : nonCharacter
          ? ' \ufffd '
          : keptFormat.test(c)
            ? ` ${c} `
            : invisible.test(c)
              ? '  '
              : ` ${c} `;
      const got = sanitizeText(` ${c} `);
      if (got !== want) mismatches.push(`U+${cp.toString(16)}: ${show(got)}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('is idempotent and never lets a bidi control, separator, zero-width space or lone surrogate through', () => {
    const special = fc.constantFrom(
      ...BIDI_CONTROLS,
      '\u200b',
      '\u200c',
      '\u200d',
      '\u2028',
      '\u2029',
      '\ufeff',
      '\ufe0f',
      '\u{e0067}',
      '\u{e007f}',
      '🏴',
      '👨',
      '\u094d',
      'ی',
      'a',
      ' ',
      '\u001b',
      '\ud800',
      '\udc00',
    );
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.array(special, { maxLength: 30 }).map((a) => a.join('')),
    );
    fc.assert(
      fc.property(text, (input) => {
        const once = sanitizeText(input);
        expect(sanitizeText(once)).toBe(once);
        expect(once).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200b\u2028\u2029\ufeff\u0000-\u0008\u000a-\u001f]/u);
        expect((once as string & { isWellFormed(): boolean }).isWellFormed()).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('stays linear on hostile input', () => {
    const hostile = [
      'ی' + '\u064b'.repeat(4000) + '\u200c' + '\u064b'.repeat(4000),
      'a\u094d\u200c'.repeat(2700),
      '😀\ufe0f\u200d'.repeat(1300),
      '\u200c'.repeat(8000),
      '\u202e\u200b'.repeat(4000),
    ];
    const start = performance.now();
    for (const text of hostile) sanitizeText(text);
    expect(performance.now() - start).toBeLessThan(500);
  });
});
