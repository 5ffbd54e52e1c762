/**
 * What the stress run hands a shard (a group of clients in one thread), and what a shard reports.
 * Everything here is structured-clone friendly: it crosses worker_threads boundaries.
 */

export interface ShardConfig {
  host: string;
  port: number;
  /** Cluster nodes besides host:port: client i connects to address i mod n (host:port is address 0). */
  moreAddresses?: { host: string; port: number }[];
  /** Nick of client i is `${nickPrefix}${i}`. */
  nickPrefix: string;
  /** Global indexes of the clients this shard owns. */
  clients: number[];
  /** Room index each owned client joins first (same order as `clients`). */
  initialRooms: number[];
  /** When each owned client connects, µs after the run epoch (the ramp; see StressShard.start). */
  connectAtUs: number[];
  totalClients: number;
  rooms: string[];
  /** Mean time between two actions of one client; each wait is drawn from 0.5x..1.5x. */
  intervalMs: number;
  switchChance: number;
  pmChance: number;
  /** Start of the measured window (end of the ramp), µs after the epoch. */
  windowStartUs: number;
  /** Clients connect during the ramp but send nothing until it ends (a steady-state measurement). */
  quietRamp: boolean;
  /**
   * A switching client stops counting deliveries for its old room this long before it sends
   * `part`, so messages in flight when it leaves are neither expected nor counted.
   */
  leaveGuardMs: number;
  connectTimeoutMs: number;
  /** Forward every received message (for `--show`). */
  show: boolean;
  /** One byte per global client: 1 while it is registered (shared by all shards, for PM targets). */
  online: SharedArrayBuffer;
}

/** Cumulative figures of one shard. */
export interface ShardStats {
  /** Clients that reached their first room. */
  connected: number;
  /** Clients that never got there (refused, timed out, nick rejected). */
  failed: number;
  /** Clients that lost their connection after connecting, not because the run ended. */
  disconnected: number;
  /** Clients connected right now. */
  online: number;
  /** Room messages written to the socket. */
  sent: number;
  pmSent: number;
  /** Sends the server acknowledged (stored and delivered). */
  acked: number;
  /** Sends the server refused with an error (not counted as expected). */
  rejected: number;
  /** Sends neither acknowledged nor refused yet. */
  pending: number;
  /** Every error frame received, and every coded `bye` the run did not ask for (a refused connection). */
  errors: number;
  errorCodes: Record<string, number>;
  /** Stamped `message` and `pm` frames received, all of them. */
  deliveries: number;
  /** Room deliveries received inside an accountable membership window (see ShardLedger). */
  roomDelivered: number;
  /** Private-message deliveries received (recipient and sender copies). */
  pmDelivered: number;
  /** Messages received without a stamp (not sent by this run). */
  foreign: number;
  /** Deliveries, sends and acks inside the measured window (after the ramp, before the stop). */
  windowDeliveries: number;
  windowSent: number;
  windowAcked: number;
  /** Joins and leaves done by this shard's clients, per room index. */
  joins: number[];
  leaves: number[];
  /** Latency histogram (µs) of deliveries of messages sent in the measured window. */
  latencyCounts: Uint32Array;
  latencyMaxUs: number;
  /** The first few failure and disconnect reasons. */
  failures: string[];
}

/**
 * What a shard knows for exact loss accounting, handed over after the stop:
 * - `intervals`: for each membership window, `[roomIndex, joinUs, endUs]` flattened. A window
 *   starts when the client received `joined` and ends when it decided to leave (`leaveGuardMs`
 *   before sending `part`), or when its connection was lost; `Infinity` when still open.
 * - `sends`: per room, the send stamps of the room messages the server did not refuse.
 * - `pmExpected`: 2 per private message not refused (the recipient and the sender's copy).
 * A room message is expected by every window of its room that contains its send time.
 */
export interface ShardLedger {
  intervals: number[];
  sends: number[][];
  pmExpected: number;
}

/** A received message, for `--show`. */
export interface ShowEvent {
  client: number;
  nick: string;
  kind: 'message' | 'pm';
  room?: string;
  from: string;
  to?: string;
  text: string;
  latencyUs: number;
}

/** The counters a shard keeps itself (the rest of ShardStats is filled in when it reports). */
export type ShardCounters = Omit<ShardStats, 'latencyCounts' | 'latencyMaxUs' | 'pending' | 'online'>;

/** Every counter at zero, for `roomCount` rooms. */
export function emptyCounters(roomCount: number): ShardCounters {
  return {
    connected: 0,
    failed: 0,
    disconnected: 0,
    sent: 0,
    pmSent: 0,
    acked: 0,
    rejected: 0,
    errors: 0,
    errorCodes: {},
    deliveries: 0,
    roomDelivered: 0,
    pmDelivered: 0,
    foreign: 0,
    windowDeliveries: 0,
    windowSent: 0,
    windowAcked: 0,
    joins: Array<number>(roomCount).fill(0),
    leaves: Array<number>(roomCount).fill(0),
    failures: [],
  };
}
