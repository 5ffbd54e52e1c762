/**
 * A stable colour per nick: the same nick gets the same hue slot in every session and for every
 * user (a hash of the case-folded nick, not a random or per-session choice). The slot becomes a
 * colour through the theme (ui/theme.ts), which has a readable colour per slot for a dark and a
 * light background. Your own nick gets no colour: it is drawn bold in the terminal's default
 * colour, which is readable on any background.
 *
 * @example
 * nickColor('bob', 'alice')   // 'nick:2' — always the same slot for 'bob' (and 'BOB')
 * nickColor('alice', 'alice') // null: bold, default colour
 */
import { nickKey } from '@teamchat/protocol';

/** How many nick colours a theme has. */
export const NICK_SLOTS = 8;

/** A colour token the theme resolves: `nick:0` .. `nick:7`. */
export type NickColor = `nick:${number}`;

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

/** The slot (0..NICK_SLOTS-1) of a nick. */
export function nickSlot(nick: string): number {
  return hashNick(nick) % NICK_SLOTS;
}

/** The colour token of a nick, or null for your own nick (bold in the default colour). */
export function nickColor(nick: string, self?: string): NickColor | null {
  if (self !== undefined && self !== '' && nickKey(nick) === nickKey(self)) return null;
  return `nick:${nickSlot(nick)}`;
}
