/**
 * A fresh client message id (`cid` of `msg` and `pm`): 12 random base64url characters (72 bits),
 * so two messages of one identity never share one by chance.
 *
 * @example
 * client.say('general', 'hi', { cid: newCid() });
 */
import { randomBytes } from 'node:crypto';

export function newCid(): string {
  return randomBytes(9).toString('base64url');
}
