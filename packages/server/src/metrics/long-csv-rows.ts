/**
 * The long ("tidy") CSV of metrics snapshots: one row per snapshot and room, plus one `(total)` row
 * per snapshot. A fixed set of columns whatever the number of rooms, and no empty cells for rooms
 * absent from a snapshot, so spreadsheets (filter, pivot table) and pandas / R read it as is:
 *
 * ```
 * ts,room,mps,moving_avg,joins,leaves,joins_total,leaves_total,members,messages,messages_total,rooms,private_messages,private_messages_total,connections,rooms_omitted
 * 2026-11-24T09:00:02.000Z,general,3.5,2.8,1,0,40,33,7,7,1204,1,,,,
 * 2026-11-24T09:00:02.000Z,(private),0.5,0.3,0,0,5,2,2,1,88,1,,,,
 * 2026-11-24T09:00:02.000Z,(total),4,3.1,1,0,,,,8,1830,3,1,52,9,0
 * ```
 *
 * Rows of a snapshot: named rooms in name order, then `(other)`, `(private)`, then `(total)`. A name
 * in parentheses is never a room's own name (room-labels.ts). Columns that have no meaning for a
 * row are empty: a room has no private messages or connections; the totals have no cumulative joins
 * and leaves and no members (a person in two rooms is counted in both: `connections` counts people).
 */
import type { MetricSnapshot, RoomSnapshot } from './metric-snapshot.js';
import { OTHER_ROOMS, PRIVATE_ROOMS, isAggregateLabel } from './room-labels.js';

/** The `room` of the row that holds a snapshot's totals. */
export const TOTAL_ROW = '(total)';

/** Columns of the long CSV, in order. */
export const LONG_CSV_COLUMNS = [
  'ts',
  'room',
  'mps',
  'moving_avg',
  'joins',
  'leaves',
  'joins_total',
  'leaves_total',
  'members',
  'messages',
  'messages_total',
  'rooms',
  'private_messages',
  'private_messages_total',
  'connections',
  'rooms_omitted',
] as const;

/** The header line, with its newline. */
export const LONG_CSV_HEADER = LONG_CSV_COLUMNS.join(',') + '\n';

type Cell = string | number | undefined;

/**
 * The rows of one snapshot (with their newlines): its rooms, then its `(total)` row. A snapshot
 * read without its rooms (`roomsOmitted`: stored by an older server) has the `(total)` row only,
 * with `rooms_omitted` 1.
 *
 * @example
 * longCsvRows({ ts: 0, intervalMs: 2000, rooms: {}, totals })
 * // '1970-01-01T00:00:00.000Z,(total),0,0,0,0,,,,0,0,0,0,0,1,0\n'
 */
export function longCsvRows(snapshot: MetricSnapshot): string {
  const ts = new Date(snapshot.ts).toISOString();
  let out = '';
  for (const room of roomOrder(Object.keys(snapshot.rooms))) out += roomRow(ts, room, snapshot.rooms[room]);
  const t = snapshot.totals;
  out += line([
    ts,
    TOTAL_ROW,
    t.mps,
    t.avgMps,
    t.joins,
    t.leaves,
    undefined,
    undefined,
    undefined,
    t.messages,
    t.messagesTotal,
    t.rooms,
    t.privateMessages,
    t.privateMessagesTotal,
    t.connections,
    snapshot.roomsOmitted ? 1 : 0,
  ]);
  return out;
}

function roomRow(ts: string, room: string, r: RoomSnapshot): string {
  return line([
    ts,
    room,
    r.mps,
    r.avgMps,
    r.joins,
    r.leaves,
    r.joinsTotal,
    r.leavesTotal,
    r.members,
    r.messages,
    r.messagesTotal,
    isAggregateLabel(room) ? r.rooms : 1,
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
}

/** Room names in name order, then `(other)`, then `(private)`. */
function roomOrder(keys: string[]): string[] {
  const names = keys.filter((k) => !isAggregateLabel(k)).sort();
  for (const aggregate of [OTHER_ROOMS, PRIVATE_ROOMS]) if (keys.includes(aggregate)) names.push(aggregate);
  return names;
}

function line(cells: readonly Cell[]): string {
  return cells.map(cell).join(',') + '\n';
}

function cell(value: Cell): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
