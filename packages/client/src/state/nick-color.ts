/**
 * A stable colour per nick: the same nick gets the same colour in every session and for every
 * user (a hash of the case-folded nick, not a random or per-session choice). Your own nick gets
 * a colour that no other nick gets, so it stands out.
 *
 * @example
 * nickColor('bob', 'alice') // e.g. 'cyan' — always the same for 'bob' (and 'BOB')
 */
import { nickKey } from '@teamchat/protocol';

/** Colours other nicks may get (ink / chalk names). */
export const NICK_PALETTE = [
  'red',
  'green',
  'yellow',
  'blue',
  'magenta',
  'cyan',
  'redBright',
  'greenBright',
  'yellowBright',
  'blueBright',
  'magentaBright',
  'cyanBright',
] as const;

/** Reserved for your own nick. */
export const SELF_COLOR = 'whiteBright';

export type NickColor = (typeof NICK_PALETTE)[number] | typeof SELF_COLOR;

/** FNV-1a over UTF-16 code units: small, fast and stable across versions. */
export function hashNick(nick: string): number {
  let h = 0x811c9dc5;
  const key = nickKey(nick);
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function nickColor(nick: string, self?: string): NickColor {
  if (self !== undefined && nickKey(nick) === nickKey(self)) return SELF_COLOR;
  return NICK_PALETTE[hashNick(nick) % NICK_PALETTE.length]!;
}
