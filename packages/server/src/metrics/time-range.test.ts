import { describe, expect, it } from 'vitest';
import { parseTime, parseTimeRange, TimeRangeError } from './time-range.js';

describe('parseTime', () => {
  it('reads ISO 8601 dates and date-times, with or without a zone, and epoch milliseconds', () => {
    expect(parseTime('2026-11-24T10:00:00Z', 'from')).toBe(Date.UTC(2026, 10, 24, 10));
    expect(parseTime('2026-11-24T10:00:00.250+02:00', 'from')).toBe(Date.UTC(2026, 10, 24, 8, 0, 0, 250));
    expect(parseTime('2026-11-24', 'from')).toBe(Date.UTC(2026, 10, 24));
    expect(parseTime('1795514400000', 'from')).toBe(1795514400000);
    expect(parseTime('2026-11-24T10:00', 'from')).toBe(new Date(2026, 10, 24, 10).getTime());
  });

  it.each([
    'yesterday',
    '',
    '2026-02-30',
    '2026-13-01',
    '2026-11-24T24:00:00Z',
    '2026-11-24T10:61Z',
    '1e12',
    '-5',
    '99999999999999999',
  ])('rejects %j with a coded error naming the parameter', (value) => {
    let error: unknown;
    try {
      parseTime(value, 'from');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TimeRangeError);
    expect((error as TimeRangeError).code).toBe('TC_METRICS_BAD_TIME');
    expect((error as TimeRangeError).message).toMatch(/^from: /);
  });
});

describe('parseTimeRange', () => {
  it('defaults to everything up to now', () => {
    expect(parseTimeRange({}, 5000)).toEqual({ from: 0, to: 5000 });
    expect(parseTimeRange({ from: '', to: null }, 5000)).toEqual({ from: 0, to: 5000 });
  });

  it('rejects a range that ends before it starts', () => {
    expect(() => parseTimeRange({ from: '2000', to: '1000' }, 0)).toThrow(
      expect.objectContaining({ code: 'TC_METRICS_BAD_RANGE' }),
    );
  });
});
