/** Types of metrics-csv.js (plain JS so that the browser loads the very same file). */
export interface CsvSnapshot {
  ts: number;
  rooms: Record<string, { mps: number; avgMps: number; joins: number; leaves: number; members: number }>;
  totals: { mps: number; avgMps: number; messagesTotal: number; connections: number };
}
export declare const ROOM_COLUMNS: readonly string[];
export declare const TOTAL_COLUMNS: readonly string[];
export declare function csvRooms(snapshots: Iterable<{ rooms: Record<string, unknown> }>): string[];
export declare function csvHeader(rooms: readonly string[]): string;
export declare function csvRow(snapshot: CsvSnapshot, rooms: readonly string[]): string;
export declare function snapshotsToCsv(snapshots: readonly CsvSnapshot[]): string;
