/**
 * What each client command costs the sender's flood budget (a token bucket per connection, see
 * security/token-bucket.ts). Nothing a client can ask for is free: like ergo's fakelag, every
 * command is charged, queries included, so a connection that sends 10,000 of anything in one write
 * is slowed to its budget instead of costing everyone else. A message costs 1; cheap queries with
 * small, paged answers cost less; commands that hash a password or fan out to many rooms cost more.
 *
 * @example
 * if (bucket.take(costOf(frame))) core.handle(session, frame);
 */
import type { ClientFrame } from '@teamchat/protocol';

/** A decoding error answered with a coded error frame: cheap, but a flood of garbage still pays. */
export const BAD_INPUT_COST = 0.25;
/** `/help` in the plain-text dialect: a few lines of text. */
export const HELP_COST = 0.25;
/** A plain-text line at the nick or room prompt (a login attempt). */
export const PROMPT_COST = 1;
/** A password typed at the plain-text password prompt (an scrypt check). */
export const PASSWORD_COST = 2;

export function costOf(frame: ClientFrame): number {
  switch (frame.type) {
    case 'pong':
    case 'quit':
      return 0; // answers to the server's heartbeat; a quit ends the connection
    case 'ping':
      return 0.1;
    case 'users':
    case 'rooms':
      return 0.5; // answers are paged (USERS_PAGE_MAX, ROOMS_PAGE_MAX)
    case 'topic':
      return frame.topic === undefined ? 0.25 : 1;
    case 'mode':
      // A question is cheap; a change is stored or announced (several changes: still one frame).
      return Object.keys(frame).every((k) => k === 'type' || k === 'room' || k === 'ref') ? 0.25 : 1;
    case 'part':
      return 0.5;
    case 'msg':
    case 'pm':
    case 'join':
    case 'invite':
    case 'kick':
    case 'history':
    case 'pm-history':
      return 1;
    case 'edit':
    case 'delete':
    case 'react':
    case 'mark':
      return 1; // stored, and announced to a room (a marker: to the user's own connections)
    case 'unread':
    case 'mentions':
      return 1; // one query per room the user is in, or one indexed query
    case 'highlights':
      // Asking: one indexed read. Setting: stored, and told to the user's own connections.
      return frame.words === undefined ? 0.5 : 1;
    case 'search':
      return 2; // a full-text query over everything the user may read
    case 'nick':
      return 2; // announced in every room the user is in
    case 'hello':
    case 'register':
      return 2; // may hash or check a password (scrypt)
  }
}
