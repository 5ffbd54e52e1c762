// The one CSV writer for metrics snapshots: the server's /api/metrics.csv, `teamchat export-metrics`
// and the dashboard's Export button all use this file (plain ES module: Node and the browser load it as is).
//
// Columns: timestamp (ISO 8601), then for each room (sorted) <room>_mps, <room>_avg_mps, <room>_joins,
// <room>_leaves, <room>_members, then total_mps, total_avg_mps, total_messages, connections.
// A room cell is empty in rows taken before the room existed.

/** Per-room column suffixes, in order. */
export const ROOM_COLUMNS = ['mps', 'avg_mps', 'joins', 'leaves', 'members'];
/** Trailing total columns, in order. */
export const TOTAL_COLUMNS = ['total_mps', 'total_avg_mps', 'total_messages', 'connections'];

/**
 * Sorted union of the rooms of some snapshots.
 * @param {Iterable<{ rooms: Record<string, unknown> }>} snapshots
 * @returns {string[]}
 */
export function csvRooms(snapshots) {
  const names = new Set();
  for (const s of snapshots) for (const room of Object.keys(s.rooms)) names.add(room);
  return [...names].sort();
}

/**
 * The header line (with its newline).
 * @param {readonly string[]} rooms sorted room names
 * @returns {string}
 */
export function csvHeader(rooms) {
  const cells = ['timestamp'];
  for (const room of rooms) for (const column of ROOM_COLUMNS) cells.push(`${room}_${column}`);
  cells.push(...TOTAL_COLUMNS);
  return line(cells);
}

/**
 * One data line (with its newline).
 * @param {{ ts: number, rooms: Record<string, any>, totals: any }} snapshot
 * @param {readonly string[]} rooms the rooms of the header, in order
 * @returns {string}
 */
export function csvRow(snapshot, rooms) {
  const cells = [new Date(snapshot.ts).toISOString()];
  for (const room of rooms) {
    const r = snapshot.rooms[room];
    if (r) cells.push(r.mps, r.avgMps, r.joins, r.leaves, r.members);
    else cells.push('', '', '', '', '');
  }
  const t = snapshot.totals;
  cells.push(t.mps, t.avgMps, t.messagesTotal, t.connections);
  return line(cells);
}

/**
 * A whole CSV document.
 * @example snapshotsToCsv([{ ts: 0, rooms: {}, totals: { mps: 0, avgMps: 0, messagesTotal: 0, connections: 0 } }])
 *   // 'timestamp,total_mps,total_avg_mps,total_messages,connections\n1970-01-01T00:00:00.000Z,0,0,0,0\n'
 * @param {readonly { ts: number, rooms: Record<string, any>, totals: any }[]} snapshots
 * @returns {string}
 */
export function snapshotsToCsv(snapshots) {
  const rooms = csvRooms(snapshots);
  let out = csvHeader(rooms);
  for (const s of snapshots) out += csvRow(s, rooms);
  return out;
}

function line(cells) {
  return cells.map(cell).join(',') + '\n';
}

function cell(value) {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
