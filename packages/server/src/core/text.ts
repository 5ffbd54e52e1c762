/**
 * Text as the server stores and relays it (message text, topics, quit reasons). Three kinds of
 * characters never reach another user as sent:
 *
 * - **Line breakers → one space.** C0 and C1 control characters except TAB (they could break a
 *   plain-text line or drive another user's terminal: ESC starts ANSI sequences, so `\x1b[31m`
 *   arrives as ` [31m`; NUL is refused by Postgres), and U+2028 / U+2029 (LINE and PARAGRAPH
 *   SEPARATOR, which some clients render as a new line). A space, not nothing, because they
 *   separate words.
 * - **Non-characters → U+FFFD.** Unpaired UTF-16 surrogates (not encodable as UTF-8; NDJSON input
 *   carrying one is already refused by the decoder, this covers every other path) and the 66
 *   noncharacters (U+FDD0..FDEF and U+xxFFFE/xxFFFF). The replacement character is what a UTF-8
 *   decoder shows for a broken sequence, and it stays visible.
 * - **Invisible characters → removed.** Every Default_Ignorable_Code_Point and the interlinear
 *   annotation controls (U+FFF9..FFFB, which can hide text): the bidi embeddings, overrides and
 *   isolates (U+202A..202E, U+2066..2069; an unclosed one reorders whatever the client draws after
 *   it, the "Trojan Source" trick), ZWSP, WORD JOINER, the invisible math operators, BOM/ZWNBSP,
 *   soft hyphen, CGJ, Hangul fillers (U+3164 is the usual "invisible" nick or message), the
 *   discouraged Khmer inherent vowels, deprecated format controls and the unassigned ignorables.
 *   Removed rather than replaced by a space: they are not seen, so the text reads the same
 *   without them.
 *
 * Some invisible characters are needed in context, and are kept there only:
 *
 * - **LRM, RLM, ALM** (U+200E, U+200F, U+061C) are always kept. They are stateless marks that
 *   right-to-left writers need (to place punctuation and numbers); unlike the embeddings they open
 *   nothing, so they cannot reorder text beyond the neutral characters next to them.
 * - **ZWNJ and ZWJ** (U+200C, U+200D), as IDNA's CONTEXTJ rules (RFC 5892 A.1, A.2) allow them:
 *   after a virama (Indic conjuncts, Sinhala "ශ්‍රී", Malayalam chillus), or between a letter and
 *   a virama, or between two letters of a cursive-joining script (Persian "می‌خواهم"; Arabic, Syriac,
 *   N'Ko, Mongolian...). ZWJ is also kept between two pictographs (👨‍👩‍👧, 🏳️‍🌈, 🧑🏽‍💻). Elsewhere
 *   (inside a Latin word, at either end) they only hide a word boundary, and are removed.
 * - **Variation selectors** (U+FE00..FE0F, U+E0100..E01EF) after a visible base character (❤️,
 *   keycaps, ideographic variants); a second one in a row, or one after nothing visible, is
 *   removed (runs of them can smuggle hidden data).
 * - **Tag characters** (U+E0020..E007F) only inside an emoji flag tag sequence (🏴 + 2..6
 *   lowercase letters or digits + CANCEL TAG, as in 🏴󠁧󠁢󠁳󠁣󠁴󠁿); anywhere else they are invisible ASCII.
 * - **Mongolian selectors**: free variation selectors (U+180B..180D, U+180F) after a Mongolian
 *   letter, VOWEL SEPARATOR (U+180E) between a Mongolian letter and a final A or E.
 *
 * Visible format characters (Arabic number signs U+0600..0605, U+06DD, Syriac U+070F, Egyptian
 * hieroglyph controls...) and private-use characters are kept. TAB is kept.
 *
 * The result is idempotent, and the same for every transport.
 *
 * @example
 * sanitizeText('evil\u202Etxt.exe'); // 'eviltxt.exe'
 * sanitizeText('a\u2028b');          // 'a b'
 */

/** C0 and C1 controls except TAB, LINE SEPARATOR, PARAGRAPH SEPARATOR. */
const BREAKING = String.raw`\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029`;

/** Noncharacters (unpaired surrogates are replaced before the regex runs, by `toWellFormed`). */
const NOT_CHARACTERS =
  String.raw`\ufdd0-\ufdef\ufffe\uffff` +
  Array.from({ length: 16 }, (_, i) => `\\u{${(i + 1).toString(16)}fffe}\\u{${(i + 1).toString(16)}ffff}`).join('');

/** Removed wherever they are (Default_Ignorable_Code_Point minus the contextual ones below, plus U+FFF9..FFFB). */
const INVISIBLE = String.raw`\u00ad\u034f\u115f\u1160\u17b4\u17b5\u200b\u202a-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff0-\ufffb\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0000}-\u{e001f}\u{e0080}-\u{e00ff}\u{e01f0}-\u{e0fff}`;

const JOINERS = String.raw`\u200c\u200d`;
const VARIATION_SELECTORS = String.raw`\ufe00-\ufe0f\u{e0100}-\u{e01ef}`;
const MONGOLIAN_SELECTORS = String.raw`\u180b-\u180d\u180f`;
const MONGOLIAN_LETTER = String.raw`[\u1820-\u1878\u1880-\u18aa]`;
const TAGS = String.raw`\u{e0020}-\u{e007f}`;

/**
 * Canonical_Combining_Class=Virama (9), as RFC 5892's CONTEXTJ rules use it. Unicode 17; derived
 * with NFD reordering, and checked against the running ICU by text.test.ts.
 */
const VIRAMA = String.raw`[\u094d\u09cd\u0a4d\u0acd\u0b4d\u0bcd\u0c4d\u0ccd\u0d3b\u0d3c\u0d4d\u0dca\u0e3a\u0eba\u0f84\u1039\u103a\u1714\u1715\u1734\u17d2\u1a60\u1b44\u1baa\u1bab\u1bf2\u1bf3\u2d7f\ua806\ua82c\ua8c4\ua953\ua9c0\uaaf6\uabed\u{10a3f}\u{11046}\u{11070}\u{1107f}\u{110b9}\u{11133}\u{11134}\u{111c0}\u{11235}\u{112ea}\u{1134d}\u{113ce}-\u{113d0}\u{11442}\u{114c2}\u{115bf}\u{1163f}\u{116b6}\u{1172b}\u{11839}\u{1193d}\u{1193e}\u{119e0}\u{11a34}\u{11a47}\u{11a99}\u{11c3f}\u{11d44}\u{11d45}\u{11d97}\u{11f41}\u{11f42}\u{1612f}]`;

/** Scripts whose letters join cursively (Joining_Type D, L or R), where ZWNJ/ZWJ select letter forms. */
const JOINING_LETTER = String.raw`[\p{sc=Arabic}\p{sc=Syriac}\p{sc=Nko}\p{sc=Mongolian}\p{sc=Mandaic}\p{sc=Manichaean}\p{sc=Psalter_Pahlavi}\p{sc=Phags_Pa}\p{sc=Sogdian}\p{sc=Old_Uyghur}\p{sc=Chorasmian}\p{sc=Adlam}\p{sc=Hanifi_Rohingya}]`;

const PICTOGRAPH = String.raw`\p{Extended_Pictographic}`;
/** What a ZWJ may follow in an emoji ZWJ sequence: a pictograph, with its VS16 or skin tone. */
const PICTOGRAPH_ELEMENT = String.raw`${PICTOGRAPH}[\ufe0f\p{Emoji_Modifier}]?`;
/** A character a variation selector may follow: anything visible. */
const VARIATION_BASE = String.raw`[^\p{M}\p{Cc}\p{Cf}\p{Z}\p{Default_Ignorable_Code_Point}]`;

/**
 * Contextual characters in a context that allows them, matched (and given back unchanged) before
 * the alternatives that remove them. Each branch consumes its character first and only then looks
 * around, so the lookbehinds run only where such a character is.
 */
const KEEP = [
  String.raw`\u{1f3f4}[\u{e0030}-\u{e0039}\u{e0061}-\u{e007a}]{2,6}\u{e007f}`,
  String.raw`[${JOINERS}](?<=${VIRAMA}[${JOINERS}])`,
  String.raw`[${JOINERS}](?<=\p{L}\p{M}*[${JOINERS}])(?=${VIRAMA})`,
  String.raw`[${JOINERS}](?<=${JOINING_LETTER}\p{M}*[${JOINERS}])(?=\p{M}*${JOINING_LETTER})`,
  String.raw`\u200d(?<=${PICTOGRAPH_ELEMENT}\u200d)(?=${PICTOGRAPH})`,
  String.raw`[${VARIATION_SELECTORS}](?<=${VARIATION_BASE}[${VARIATION_SELECTORS}])`,
  String.raw`[${MONGOLIAN_SELECTORS}](?<=${MONGOLIAN_LETTER}[${MONGOLIAN_SELECTORS}])`,
  String.raw`\u180e(?<=${MONGOLIAN_LETTER}[${MONGOLIAN_SELECTORS}]?\u180e)(?=[\u1820\u1821])`,
].join('|');

const UNSAFE = new RegExp(
  `(${KEEP})|([${BREAKING}])|([${NOT_CHARACTERS}])|[${INVISIBLE}${JOINERS}${VARIATION_SELECTORS}${MONGOLIAN_SELECTORS}\\u180e${TAGS}]`,
  'gu',
);

/** Printable ASCII and TAB: nothing to replace (most messages). */
const PLAIN_ASCII = /^[\t\x20-\x7e]*$/;

function replacement(
  _match: string,
  keep: string | undefined,
  breaking: string | undefined,
  notCharacter: string | undefined,
): string {
  return keep ?? (breaking ? ' ' : notCharacter ? '\ufffd' : '');
}

/**
 * Cleans text from a user before it is stored or relayed (see the rules above). Printable ASCII
 * returns at once; anything else costs a native well-formedness check and one pass of one
 * precompiled regex (a few ns per UTF-16 unit; its lookarounds run only at the rare contextual
 * characters).
 */
export function sanitizeText(text: string): string {
  if (PLAIN_ASCII.test(text)) return text;
  // Unpaired surrogates become U+FFFD first (natively), so the regex only sees whole code points.
  const whole = (text as WellFormedString).isWellFormed() ? text : (text as WellFormedString).toWellFormed();
  return whole.replace(UNSAFE, replacement);
}

/** ES2024 string methods (Node 20 has them; the project's `lib` is ES2023). */
type WellFormedString = string & { isWellFormed(): boolean; toWellFormed(): string };
