import { describe, expect, it } from 'vitest';
import { RestrictedRooms } from './restricted-rooms.js';

describe('RestrictedRooms', () => {
  it('remembers a room seen restricted until it is seen public', () => {
    const rooms = new RestrictedRooms();
    rooms.mark('staff', true);
    expect(rooms.has('staff')).toBe(true);
    rooms.mark('staff', false);
    expect(rooms.has('staff')).toBe(false);
  });

  it('forgets the oldest name past its capacity', () => {
    const rooms = new RestrictedRooms(2);
    rooms.mark('a', true);
    rooms.mark('b', true);
    rooms.mark('c', true);
    expect([rooms.has('a'), rooms.has('b'), rooms.has('c')]).toEqual([false, true, true]);
    expect(rooms.size).toBe(2);
  });
});
