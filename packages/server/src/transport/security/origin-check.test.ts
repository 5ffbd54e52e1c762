import { describe, expect, it } from 'vitest';
import { originAllowed } from './origin-check.js';

describe('originAllowed', () => {
  it('allows requests without an Origin (non-browser clients)', () => {
    expect(originAllowed({ host: 'chat.example.com:8080' })).toBe(true);
  });

  it('allows the same origin: the Origin host equals the Host header', () => {
    expect(originAllowed({ host: 'chat.example.com:8080', origin: 'http://chat.example.com:8080' })).toBe(true);
    expect(originAllowed({ host: 'Chat.Example.com:8080', origin: 'https://chat.example.com:8080' })).toBe(true);
  });

  it('refuses another site, another port, a sandboxed page (null) and garbage', () => {
    expect(originAllowed({ host: 'chat.example.com:8080', origin: 'http://evil.example' })).toBe(false);
    expect(originAllowed({ host: 'chat.example.com:8080', origin: 'http://chat.example.com:9090' })).toBe(false);
    expect(originAllowed({ host: 'chat.example.com:8080', origin: 'null' })).toBe(false);
    expect(originAllowed({ host: 'chat.example.com:8080', origin: '%%%' })).toBe(false);
  });

  it('allows origins listed with --allow-origin, and any with *', () => {
    expect(originAllowed({ host: 'a:1', origin: 'https://team.example.org' }, ['https://team.example.org/'])).toBe(
      true,
    );
    expect(originAllowed({ host: 'a:1', origin: 'https://other.example.org' }, ['https://team.example.org'])).toBe(
      false,
    );
    expect(originAllowed({ host: 'a:1', origin: 'https://other.example.org' }, ['*'])).toBe(true);
  });
});
