/**
 * IRC channel mode strings <-> the core's `mode` frame. `MODE #chan +ob-l alice *!*@spam` becomes
 * one frame with its member, list and flag changes; the core's `changes` become a `MODE` line.
 *
 * Modes (ISUPPORT CHANMODES=beI,k,l,imnst, PREFIX=(ov)@+): lists b e I, key k, limit l, flags
 * i m n s t, member modes o v.
 *
 * @example
 * parseChannelModes('+kl', ['sesame', '10']).frame // { key: 'sesame', limit: 10 }
 */
import {
  MODE_CHANGES_MAX,
  ROOM_KEY_PATTERN,
  type ListModeChange,
  type MemberModeChange,
  type ModeChangeNote,
  type ModeFrame,
} from '@teamchat/protocol';

export type ModeChanges = Omit<ModeFrame, 'type' | 'room' | 'ref'>;

export interface ParsedModes {
  frame: ModeChanges;
  /** List letters asked about without a mask (`+b`): show the list. */
  lists: string[];
  /** Letters teamchat rooms do not have. */
  unknown: string[];
  /** [letter, argument, why]: ERR_INVALIDMODEPARAM (696). */
  invalid: [string, string, string][];
  /** Letters missing their argument. */
  missing: string[];
}

const FLAGS = { i: 'inviteOnly', t: 'topicLock', n: 'noExternal', m: 'moderated', s: 'secret' } as const;
const LISTS: Record<string, ListModeChange['list']> = { b: 'ban', e: 'except', I: 'invex' };

export function parseChannelModes(modes: string, args: string[]): ParsedModes {
  const out: ParsedModes = { frame: {}, lists: [], unknown: [], invalid: [], missing: [] };
  const rest = [...args];
  const members: MemberModeChange[] = [];
  const lists: ListModeChange[] = [];
  let sign = '+';
  let count = 0;
  for (const c of modes) {
    if (c === '+' || c === '-') {
      sign = c;
      continue;
    }
    const add = sign === '+';
    // Past MODES changes in one line, the rest is ignored (as ircds do).
    if (count >= MODE_CHANGES_MAX) break;
    if (c in FLAGS) {
      out.frame[FLAGS[c as keyof typeof FLAGS]] = add;
      count++;
    } else if (c in LISTS) {
      const mask = rest.shift();
      if (mask === undefined || mask === '') {
        if (!out.lists.includes(c)) out.lists.push(c);
        continue;
      }
      lists.push({ list: LISTS[c], mask, add });
      count++;
    } else if (c === 'o' || c === 'v') {
      const nick = rest.shift();
      if (nick === undefined || nick === '') {
        out.missing.push(c);
        continue;
      }
      members.push({ nick, role: c === 'o' ? 'op' : 'voice', add });
      count++;
    } else if (c === 'k') {
      const key = rest.shift();
      if (!add) {
        out.frame.key = null;
        count++;
      } else if (key === undefined) out.missing.push(c);
      else if (!ROOM_KEY_PATTERN.test(key))
        out.invalid.push(['k', '*', 'A room key is 1-64 characters without spaces']);
      else {
        out.frame.key = key;
        count++;
      }
    } else if (c === 'l') {
      if (!add) {
        out.frame.limit = null;
        count++;
        continue;
      }
      const raw = rest.shift();
      if (raw === undefined) {
        out.missing.push(c);
        continue;
      }
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < 1 || n > 100_000)
        out.invalid.push(['l', raw === '' ? '*' : raw, 'A member limit is a number from 1 to 100000']);
      else {
        out.frame.limit = n;
        count++;
      }
    } else out.unknown.push(c);
  }
  if (members.length > 0) out.frame.members = members;
  if (lists.length > 0) out.frame.lists = lists;
  return out;
}

/** The core's applied changes as `MODE` parameters: `['+ob-l', 'alice', '*!*@spam']`. */
export function formatChanges(changes: ModeChangeNote[]): string[] {
  let modes = '';
  let sign = '';
  const args: string[] = [];
  for (const c of changes) {
    const s = c.add ? '+' : '-';
    if (s !== sign) {
      sign = s;
      modes += s;
    }
    modes += c.mode;
    if (c.arg !== undefined) args.push(c.arg);
  }
  return [modes, ...args];
}

/** `+intk key` for RPL_CHANNELMODEIS: the flags set, then the parameters (the key only for members). */
export function modeString(frame: {
  key: boolean;
  inviteOnly: boolean;
  topicLock?: boolean;
  noExternal?: boolean;
  moderated?: boolean;
  secret?: boolean;
  limit?: number;
}): string[] {
  let flags = '+';
  const args: string[] = [];
  if (frame.inviteOnly) flags += 'i';
  if (frame.moderated) flags += 'm';
  if (frame.noExternal) flags += 'n';
  if (frame.secret) flags += 's';
  if (frame.topicLock) flags += 't';
  if (frame.key) {
    flags += 'k';
    args.push('*');
  }
  if (frame.limit !== undefined) {
    flags += 'l';
    args.push(String(frame.limit));
  }
  return [flags, ...args];
}
