import { describe, expect, it } from 'vitest';
import { csvHeader, csvRooms, csvRow, snapshotsToCsv, type CsvSnapshot } from './metrics-csv.js';

const totals = { mps: 1.5, avgMps: 1.25, messagesTotal: 42, connections: 3 };
const room = (mps: number, members: number) => ({ mps, avgMps: mps / 2, joins: 1, leaves: 0, members });

describe('metrics CSV', () => {
  it('writes the timestamp, five columns per room in name order, then the totals', () => {
    const snapshots: CsvSnapshot[] = [
      { ts: Date.UTC(2026, 10, 24, 10, 0, 0), rooms: { general: room(1, 2) }, totals },
      { ts: Date.UTC(2026, 10, 24, 10, 0, 2), rooms: { general: room(0.5, 2), dev: room(1, 1) }, totals },
    ];
    expect(snapshotsToCsv(snapshots)).toBe(
      [
        'timestamp,dev_mps,dev_avg_mps,dev_joins,dev_leaves,dev_members,general_mps,general_avg_mps,general_joins,general_leaves,general_members,total_mps,total_avg_mps,total_messages,connections',
        // dev did not exist yet: its cells are empty, not zero.
        '2026-11-24T10:00:00.000Z,,,,,,1,0.5,1,0,2,1.5,1.25,42,3',
        '2026-11-24T10:00:02.000Z,1,0.5,1,0,1,0.5,0.25,1,0,2,1.5,1.25,42,3',
        '',
      ].join('\n'),
    );
  });

  it('writes only the header and totals columns when there are no rooms', () => {
    expect(csvHeader([])).toBe('timestamp,total_mps,total_avg_mps,total_messages,connections\n');
    expect(snapshotsToCsv([])).toBe('timestamp,total_mps,total_avg_mps,total_messages,connections\n');
  });

  it('quotes a cell that holds a comma or a quote', () => {
    const rooms = csvRooms([{ rooms: { 'a,"b': {} } }]);
    expect(csvHeader(rooms)).toContain('"a,""b_mps"');
    expect(csvRow({ ts: 0, rooms: {}, totals }, rooms).split(',')).toHaveLength(1 + 5 + 4);
  });
});
