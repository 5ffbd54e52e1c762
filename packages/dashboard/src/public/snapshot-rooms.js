// Keeps what the dashboard holds and draws bounded, however many rooms the server has: a snapshot
// keeps its busiest rooms by name and sums the rest under "(other)", exactly as the server does for
// its answers; "(private)" (keyed and invite-only rooms, summed by the server) is kept as it is.
// Plain ES module: the browser loads it as is, and the tests import it.

/** Public rooms beyond a cap, summed. */
export const OTHER_ROOMS = '(other)';
/** Keyed and invite-only rooms, summed by the server; never named. */
export const PRIVATE_ROOMS = '(private)';

/**
 * @param {string} room
 * @returns {boolean}
 */
export function isAggregate(room) {
  return room === OTHER_ROOMS || room === PRIVATE_ROOMS;
}

/** Count fields that add up when rooms are summed. */
const SUMMED = [
  'mps',
  'avgMps',
  'messages',
  'messagesTotal',
  'joins',
  'leaves',
  'joinsTotal',
  'leavesTotal',
  'members',
];

function activity(r) {
  return (r.messages ?? 0) + (r.joins ?? 0) + (r.leaves ?? 0);
}

/**
 * Busiest first: messages, joins and leaves, then members, then name.
 * @param {[string, { messages?: number, joins?: number, leaves?: number, members?: number }]} a
 * @param {[string, { messages?: number, joins?: number, leaves?: number, members?: number }]} b
 */
function busiest(a, b) {
  return (
    activity(b[1]) - activity(a[1]) ||
    (b[1].members ?? 0) - (a[1].members ?? 0) ||
    (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
  );
}

/**
 * The snapshot with only the rooms of `keep` by name; every other public room is summed under
 * "(other)". The snapshot itself when nothing needs folding (no copy).
 * @template {{ rooms: Record<string, any> }} S
 * @param {S} snapshot
 * @param {ReadonlySet<string>} keep room names to keep
 * @returns {S}
 */
export function foldSnapshot(snapshot, keep) {
  const names = Object.keys(snapshot.rooms);
  if (names.every((room) => isAggregate(room) || keep.has(room))) return snapshot;
  const rooms = {};
  let other = null;
  for (const room of names) {
    const r = snapshot.rooms[room];
    if (isAggregate(room) && room !== OTHER_ROOMS) rooms[room] = r;
    else if (keep.has(room)) rooms[room] = r;
    else {
      other ??= Object.fromEntries([...SUMMED.map((k) => [k, 0]), ['rooms', 0]]);
      for (const k of SUMMED) other[k] += r[k] ?? 0;
      other.rooms += r.rooms ?? 1;
    }
  }
  if (other) {
    for (const k of ['mps', 'avgMps']) other[k] = Math.round(other[k] * 1000) / 1000;
    rooms[OTHER_ROOMS] = other;
  }
  return { ...snapshot, rooms };
}

/**
 * The snapshot with at most `keep` rooms by name (its busiest), the rest summed under "(other)".
 * @template {{ rooms: Record<string, any> }} S
 * @param {S} snapshot
 * @param {number} keep
 * @returns {S}
 */
export function compactSnapshot(snapshot, keep) {
  const named = Object.entries(snapshot.rooms).filter(([room]) => !isAggregate(room));
  if (named.length <= keep) return snapshot;
  return foldSnapshot(
    snapshot,
    new Set(
      named
        .sort(busiest)
        .slice(0, keep)
        .map(([room]) => room),
    ),
  );
}

/**
 * The rooms to draw for some snapshots: the `max` busiest names over all of them, in name order,
 * then "(other)" and "(private)" when the snapshots have them (or rooms past `max`).
 * @param {Iterable<{ rooms: Record<string, any> }>} snapshots
 * @param {number} max
 * @returns {string[]}
 */
export function pickRooms(snapshots, max) {
  const score = new Map();
  let other = false;
  let hidden = false;
  for (const s of snapshots) {
    for (const [room, r] of Object.entries(s.rooms)) {
      if (room === OTHER_ROOMS) other = true;
      else if (room === PRIVATE_ROOMS) hidden = true;
      else {
        const seen = score.get(room) ?? { messages: 0, joins: 0, leaves: 0, members: 0 };
        seen.messages += activity(r);
        seen.members = Math.max(seen.members, r.members ?? 0);
        score.set(room, seen);
      }
    }
  }
  const ranked = [...score].sort(busiest);
  if (ranked.length > max) other = true;
  const rooms = ranked
    .slice(0, max)
    .map(([room]) => room)
    .sort();
  if (other) rooms.push(OTHER_ROOMS);
  if (hidden) rooms.push(PRIVATE_ROOMS);
  return rooms;
}
