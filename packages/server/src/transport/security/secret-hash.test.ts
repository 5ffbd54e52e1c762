import { describe, expect, it } from 'vitest';
import { hashSecret, verifySecret } from './secret-hash.js';

describe('hashSecret', () => {
  it('stores a salted scrypt hash that verifies the right secret only', async () => {
    const a = await hashSecret('correct horse battery');
    const b = await hashSecret('correct horse battery');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b); // a fresh salt each time
    expect(a).not.toContain('correct');
    expect(await verifySecret('correct horse battery', a)).toBe(true);
    expect(await verifySecret('correct horse batterY', a)).toBe(false);
    expect(await verifySecret('', a)).toBe(false);
  });

  it('treats a malformed stored hash as a mismatch instead of throwing', async () => {
    expect(await verifySecret('x', 'plain-text-password')).toBe(false);
    expect(await verifySecret('x', 'scrypt$0$8$1$c2FsdA==$aGFzaA==')).toBe(false);
    expect(await verifySecret('x', 'scrypt$16384$8$1$c2FsdA==$')).toBe(false);
  });
});
