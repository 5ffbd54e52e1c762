/**
 * Room modes beyond the key and invite-only flag: checking the list and member changes of a
 * `mode` frame, and matching `nick!user@host` masks (bans, exceptions, invite exceptions).
 * Pure functions: the core decides with them, nothing here touches a session or the store.
 */
import {
  codedError,
  MASK_LIST_MAX,
  MASK_MAX_LENGTH,
  MODE_CHANGES_MAX,
  type CodedError,
  type ListModeChange,
  type MaskEntry,
  type MemberModeChange,
  type ModeFrame,
} from '@teamchat/protocol';
import type { Room } from './room.js';
import type { Session } from './session.js';

/** Mode changes of one frame, counted as IRC counts them (MODES): each flag, member and mask is one. */
export function countChanges(frame: ModeFrame): number {
  let n = 0;
  for (const k of ['key', 'inviteOnly', 'topicLock', 'noExternal', 'moderated', 'secret', 'limit'] as const)
    if (frame[k] !== undefined) n++;
  return n + (frame.members?.length ?? 0) + (frame.lists?.length ?? 0);
}

/** The shape of `members` entries (the decoder only knows they are objects), or a coded refusal. */
export function checkMemberChanges(entries: unknown[] | undefined): MemberModeChange[] | CodedError {
  const out: MemberModeChange[] = [];
  for (const e of entries ?? []) {
    const { nick, role, add } = e as Record<string, unknown>;
    if (typeof nick !== 'string' || (role !== 'op' && role !== 'voice') || typeof add !== 'boolean') {
      return codedError('TC_ERR_BAD_MODE', 'a member change is {nick, role: "op"|"voice", add}');
    }
    out.push({ nick, role, add });
  }
  return out;
}

/** The shape of `lists` entries, with each mask completed (`bob` -> `bob!*@*`), or a coded refusal. */
export function checkListChanges(entries: unknown[] | undefined): ListModeChange[] | CodedError {
  const out: ListModeChange[] = [];
  for (const e of entries ?? []) {
    const { list, mask, add } = e as Record<string, unknown>;
    if (
      (list !== 'ban' && list !== 'except' && list !== 'invex') ||
      typeof mask !== 'string' ||
      typeof add !== 'boolean'
    ) {
      return codedError('TC_ERR_BAD_MODE', 'a list change is {list: "ban"|"except"|"invex", mask, add}');
    }
    const full = completeMask(mask);
    if (full === null)
      return codedError(
        'TC_ERR_BAD_MODE',
        `a mask is nick!user@host with * and ?, at most ${MASK_MAX_LENGTH} characters`,
      );
    out.push({ list, mask: full, add });
  }
  return out;
}

export function tooManyChanges(frame: ModeFrame): CodedError | null {
  return countChanges(frame) > MODE_CHANGES_MAX
    ? codedError('TC_ERR_BAD_MODE', `at most ${MODE_CHANGES_MAX} changes at once`)
    : null;
}

/** `bob` -> `bob!*@*`, `*@host` -> `*!*@host`; null when it cannot be a mask. */
export function completeMask(raw: string): string | null {
  const mask = raw.trim();
  if (mask === '' || mask.length > MASK_MAX_LENGTH || /[\s\x00-\x1f,]/.test(mask)) return null;
  const bang = mask.indexOf('!');
  const at = mask.indexOf('@');
  if (bang === -1 && at === -1) return `${mask}!*@*`;
  if (bang === -1) return `*!${mask}`;
  if (at === -1) return `${mask}@*`;
  return at > bang ? mask : null;
}

/** Case-insensitive glob match (`*` any run, `?` one character), without backtracking blowups. */
export function maskMatches(mask: string, subject: string): boolean {
  const p = mask.toLowerCase();
  const s = subject.toLowerCase();
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star !== -1) {
      pi = star + 1;
      si = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

export function listOf<S extends Session>(room: Room<S>, list: ListModeChange['list']): MaskEntry[] {
  return list === 'ban' ? room.bans : list === 'except' ? room.excepts : room.invexes;
}

/** Adds or removes a mask; false when nothing changed (already there, absent, or the list is full). */
export function applyListChange(entries: MaskEntry[], change: ListModeChange, by: string, ts: number): boolean {
  const i = entries.findIndex((e) => e.mask.toLowerCase() === change.mask.toLowerCase());
  if (change.add) {
    if (i !== -1 || entries.length >= MASK_LIST_MAX) return false;
    entries.push({ mask: change.mask, by, ts });
    return true;
  }
  if (i === -1) return false;
  entries.splice(i, 1);
  return true;
}

export function matchesAny(entries: MaskEntry[], subject: string): boolean {
  return entries.some((e) => maskMatches(e.mask, subject));
}

/** IRC's letter for a list. */
export function listLetter(list: ListModeChange['list']): string {
  return list === 'ban' ? 'b' : list === 'except' ? 'e' : 'I';
}
