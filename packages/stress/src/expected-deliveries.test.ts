import { describe, expect, it } from 'vitest';
import { expectedDeliveries } from './expected-deliveries.js';

describe('expectedDeliveries', () => {
  it('expects a room message once for every membership window of its room that contains its send time', () => {
    const ledgers = [
      // client A: room 0 from t=10 for good; client B: room 0 from 0 to 25, then room 1 from 30
      { intervals: [0, 10, Infinity, 0, 0, 25, 1, 30, Infinity], sends: [[5, 20, 30], [40]], pmExpected: 0 },
    ];
    // room 0: A expects 20, 30; B expects 5, 20. room 1: B expects 40.
    expect(expectedDeliveries(ledgers, 2)).toBe(5);
  });

  it('merges the sends of every shard and adds private messages', () => {
    const a = { intervals: [0, 0, Infinity], sends: [[1, 2]], pmExpected: 2 };
    const b = { intervals: [0, 1.5, Infinity], sends: [[3]], pmExpected: 4 };
    // a's window sees 1, 2, 3; b's window sees 2, 3.
    expect(expectedDeliveries([a, b], 1)).toBe(5 + 6);
  });

  it('excludes a message sent exactly when the window opened and includes one sent when it closed', () => {
    expect(expectedDeliveries([{ intervals: [0, 10, 20], sends: [[10, 20]], pmExpected: 0 }], 1)).toBe(1);
  });
});
