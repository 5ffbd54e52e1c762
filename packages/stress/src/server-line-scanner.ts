/**
 * Classifies one NDJSON line from the server without parsing it when it is a delivery: at
 * hundreds of thousands of deliveries a second, `JSON.parse` of every line would cost more than
 * the server's work. Only rare frames (welcome, joined, error, bye) are parsed, by the caller.
 * The scan matches JSON syntax (`"text":"~`), which cannot occur inside an escaped string value,
 * so it does not depend on the order in which the server writes the fields.
 *
 * @example
 * const kind = scanServerLine(line); // LINE_MESSAGE
 * const sendUs = stampOfDelivery(line); // µs since the run epoch, or -1 for a foreign message
 */
import { readStamp } from './message-token.js';

export const LINE_OTHER = 0;
export const LINE_MESSAGE = 1;
export const LINE_PM = 2;
export const LINE_ACK = 3;
export const LINE_PRESENCE = 4;
export type LineKind =
  typeof LINE_OTHER | typeof LINE_MESSAGE | typeof LINE_PM | typeof LINE_ACK | typeof LINE_PRESENCE;

const TYPE_PREFIX = Buffer.from('{"type":"');
const PREFIXES: Array<[Buffer, LineKind]> = [
  [Buffer.from('message"'), LINE_MESSAGE],
  [Buffer.from('pm"'), LINE_PM],
  [Buffer.from('ack"'), LINE_ACK],
  [Buffer.from('presence"'), LINE_PRESENCE],
];
const TEXT_STAMP = Buffer.from('"text":"~');

function matchesAt(line: Uint8Array, at: number, pattern: Uint8Array): boolean {
  if (line.length < at + pattern.length) return false;
  for (let i = 0; i < pattern.length; i++) if (line[at + i] !== pattern[i]) return false;
  return true;
}

/** What kind of frame a server line is; LINE_OTHER means "parse it yourself". */
export function scanServerLine(line: Buffer): LineKind {
  if (!matchesAt(line, 0, TYPE_PREFIX)) return LINE_OTHER;
  for (const [pattern, kind] of PREFIXES) if (matchesAt(line, TYPE_PREFIX.length, pattern)) return kind;
  return LINE_OTHER;
}

/** The send time stamped in a `message` or `pm` line's text, or -1 when it carries none. */
export function stampOfDelivery(line: Buffer): number {
  const at = line.indexOf(TEXT_STAMP);
  return at < 0 ? -1 : readStamp(line, at + TEXT_STAMP.length - 1);
}

/** The `"room":"name"` bytes a delivery to `room` contains (closing quote included, so room1 never matches room10). */
export function roomPattern(room: string): Buffer {
  return Buffer.from(`"room":${JSON.stringify(room)}`);
}
