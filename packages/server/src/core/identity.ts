/**
 * Owners: who holds memberships, invites, room-creator rights and private history.
 *
 * - A session logged in to an account is owned by the account's key (the nick key it was
 *   registered under), whatever nick it uses now.
 * - Anyone else is `~<identity id>`: a resume identity, proven by the secret token the server gave
 *   that client in `welcome`. A client that does not present it (a stranger taking a free nick, or
 *   a plain-text user) starts a fresh, empty identity.
 *
 * `~` cannot start a nick, so account owners and identity owners never collide.
 */

export const IDENTITY_PREFIX = '~';

/** A resume identity owner, as opposed to an account. */
export function isIdentityOwner(owner: string): boolean {
  return owner.startsWith(IDENTITY_PREFIX);
}

export function identityOwner(id: string): string {
  return IDENTITY_PREFIX + id;
}

/** A token is `<id>.<secret>`: the id names the identity, the secret proves it. */
export function parseToken(token: string): { id: string; secret: string } | null {
  const m = /^([0-9a-f]{16})\.([A-Za-z0-9_-]{16,64})$/.exec(token);
  return m ? { id: m[1], secret: m[2] } : null;
}

/** A new identity, as made by the runtime (randomness and hashing are I/O to the core). */
export interface NewIdentity {
  id: string;
  /** Given to the client once, in `welcome`. */
  token: string;
  /** What is stored: SHA-256 of the secret, hex. */
  secretHash: string;
}
