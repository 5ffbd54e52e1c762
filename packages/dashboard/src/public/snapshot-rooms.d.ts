/** Types of snapshot-rooms.js (plain JS so that the browser loads the very same file). */
export declare const OTHER_ROOMS: '(other)';
export declare const PRIVATE_ROOMS: '(private)';
export declare function isAggregate(room: string): boolean;
export declare function foldSnapshot<S extends { rooms: Record<string, object> }>(
  snapshot: S,
  keep: ReadonlySet<string>,
): S;
export declare function compactSnapshot<S extends { rooms: Record<string, object> }>(snapshot: S, keep: number): S;
export declare function pickRooms(snapshots: Iterable<{ rooms: Record<string, object> }>, max: number): string[];
