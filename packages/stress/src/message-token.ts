/**
 * The send-time token every stress message carries at the start of its text, so each receiver
 * can measure latency with a cheap scan instead of parsing JSON: `~<µs since the run epoch, base 36>~ words`.
 *
 * @example
 * const text = stampText(1234567, 'hello there'); // '~qglj~ hello there'
 * readStamp(Buffer.from(text), 0); // 1234567
 */

const TILDE = 0x7e;

/** Prefixes `words` with the send time (µs since the run epoch). */
export function stampText(sendUs: number, words: string): string {
  return `~${Math.max(0, Math.round(sendUs)).toString(36)}~ ${words}`;
}

/**
 * Reads the send time of a stamp starting at `at` (the first `~`), or -1 when there is none.
 * Works on a Buffer so the receiver never decodes the line to a string.
 */
export function readStamp(line: Uint8Array, at: number): number {
  if (line[at] !== TILDE) return -1;
  let value = 0;
  let digits = 0;
  for (let i = at + 1; i < line.length && digits < 12; i++, digits++) {
    const c = line[i];
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x7a) d = c - 0x61 + 10;
    else if (c === TILDE) return digits > 0 ? value : -1;
    else return -1;
    value = value * 36 + d;
  }
  return -1;
}

/** Reads the stamp from a decoded text (the --show path). */
export function stampOf(text: string): { sendUs: number; words: string } | null {
  const m = /^~([0-9a-z]{1,12})~ ?(.*)$/s.exec(text);
  return m ? { sendUs: parseInt(m[1], 36), words: m[2] } : null;
}
