import { describe, expect, it } from 'vitest';
import { Scrollback } from './scrollback.js';

const line = (id: number) => ({ seq: id, id, ts: id, kind: 'message' as const, nick: 'bob', text: `m${id}` });

describe('Scrollback', () => {
  it('keeps each message id once', () => {
    const sb = new Scrollback(100);
    expect(sb.add(line(1))).toBe(true);
    expect(sb.add(line(1))).toBe(false);
    expect(sb.length).toBe(1);
  });

  it('orders lines by id even when they arrive out of order', () => {
    const sb = new Scrollback(100);
    for (const id of [5, 1, 3, 4, 2]) sb.add(line(id));
    expect(sb.lines.map((l) => l.id)).toEqual([1, 2, 3, 4, 5]);
  });

  it('places a notice after the line before it and before later messages', () => {
    const sb = new Scrollback(100);
    sb.add(line(1));
    sb.addNotice('notice', 'bob has joined', 0);
    sb.add(line(2));
    expect(sb.lines.map((l) => l.text)).toEqual(['m1', 'bob has joined', 'm2']);
  });

  it('never holds much more than its cap, and forgets ids it dropped', () => {
    const sb = new Scrollback(50);
    for (let id = 1; id <= 500; id++) sb.add(line(id));
    expect(sb.length).toBeLessThanOrEqual(55);
    expect(sb.trimmed).toBe(true);
    expect(sb.has(1)).toBe(false);
    expect(sb.has(500)).toBe(true);
    expect(sb.oldestId()).toBe(sb.lines[0].id);
  });
});
