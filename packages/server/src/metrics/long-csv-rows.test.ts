import { describe, expect, it } from 'vitest';
import { LONG_CSV_COLUMNS, LONG_CSV_HEADER, longCsvRows, TOTAL_ROW } from './long-csv-rows.js';
import type { MetricSnapshot, RoomSnapshot } from './metric-snapshot.js';

const TS = Date.UTC(2026, 10, 24, 9, 0, 2);

function room(overrides: Partial<RoomSnapshot> = {}): RoomSnapshot {
  return {
    mps: 0,
    avgMps: 0,
    messages: 0,
    messagesTotal: 0,
    joins: 0,
    leaves: 0,
    joinsTotal: 0,
    leavesTotal: 0,
    members: 0,
    ...overrides,
  };
}

function snapshot(rooms: Record<string, RoomSnapshot>, extra: Partial<MetricSnapshot> = {}): MetricSnapshot {
  return {
    ts: TS,
    intervalMs: 2000,
    v: 2,
    rooms,
    totals: {
      mps: 4,
      avgMps: 3.1,
      messages: 8,
      messagesTotal: 1830,
      privateMessages: 1,
      privateMessagesTotal: 52,
      joins: 1,
      leaves: 0,
      connections: 9,
      rooms: 3,
    },
    ...extra,
  };
}

/** The rows as objects keyed by column, for readable assertions. */
function parse(text: string): Record<string, string>[] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => Object.fromEntries(line.split(',').map((cell, i) => [LONG_CSV_COLUMNS[i], cell])));
}

describe('longCsvRows', () => {
  it('has a fixed header of the columns asked for in the issue, then the extras', () => {
    expect(LONG_CSV_HEADER).toBe(
      'ts,room,mps,moving_avg,joins,leaves,joins_total,leaves_total,members,messages,messages_total,rooms,private_messages,private_messages_total,connections,rooms_omitted\n',
    );
  });

  it('writes a row per room in name order, the aggregates after them, then the totals with private messages', () => {
    const text = longCsvRows(
      snapshot({
        '(private)': room({
          mps: 0.5,
          avgMps: 0.3,
          messages: 1,
          messagesTotal: 88,
          joinsTotal: 5,
          leavesTotal: 2,
          members: 2,
          rooms: 1,
        }),
        random: room({ members: 1, joinsTotal: 1 }),
        '(other)': room({ mps: 0.25, messages: 1, messagesTotal: 9, members: 4, rooms: 12 }),
        general: room({
          mps: 3.5,
          avgMps: 2.8,
          messages: 7,
          messagesTotal: 1204,
          joins: 1,
          joinsTotal: 40,
          leavesTotal: 33,
          members: 7,
        }),
      }),
    );
    expect(text.split('\n').slice(0, -1)).toEqual([
      '2026-11-24T09:00:02.000Z,general,3.5,2.8,1,0,40,33,7,7,1204,1,,,,',
      '2026-11-24T09:00:02.000Z,random,0,0,0,0,1,0,1,0,0,1,,,,',
      '2026-11-24T09:00:02.000Z,(other),0.25,0,0,0,0,0,4,1,9,12,,,,',
      '2026-11-24T09:00:02.000Z,(private),0.5,0.3,0,0,5,2,2,1,88,1,,,,',
      '2026-11-24T09:00:02.000Z,(total),4,3.1,1,0,,,,8,1830,3,1,52,9,0',
    ]);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('keeps every row the width of the header', () => {
    const rows = parse(longCsvRows(snapshot({ general: room(), '(other)': room({ rooms: 2 }) })));
    for (const row of rows) expect(Object.keys(row)).toEqual([...LONG_CSV_COLUMNS]);
  });

  it('writes only the totals row, marked rooms_omitted, for a snapshot read without its rooms', () => {
    const rows = parse(longCsvRows(snapshot({}, { v: undefined, roomsOmitted: true })));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      room: TOTAL_ROW,
      messages_total: '1830',
      private_messages: '1',
      connections: '9',
      rooms_omitted: '1',
    });
  });

  it('writes only the totals row for a quiet snapshot, not marked', () => {
    const rows = parse(
      longCsvRows(snapshot({}, { totals: { ...snapshot({}).totals, mps: 0, messages: 0, rooms: 0 } })),
    );
    expect(rows).toEqual([expect.objectContaining({ room: TOTAL_ROW, mps: '0', rooms: '0', rooms_omitted: '0' })]);
  });

  it('leaves a cell empty where an older snapshot lacks the value', () => {
    const old = snapshot({}, { roomsOmitted: true });
    const { privateMessages: _p, privateMessagesTotal: _t, ...totals } = old.totals;
    const rows = parse(longCsvRows({ ...old, totals: totals as MetricSnapshot['totals'] }));
    expect(rows[0]).toMatchObject({ private_messages: '', private_messages_total: '', messages_total: '1830' });
  });
});
