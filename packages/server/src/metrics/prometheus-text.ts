/**
 * Renders current counters in the Prometheus text exposition format (version 0.0.4).
 *
 * Per-room series come from the last snapshot, so they are as bounded as it is: the named rooms,
 * `room="(other)"` and `room="(private)"`. A series counts what was counted under its label, so it
 * only grows; a room that drops out of the snapshots and is forgotten starts again from 0 when it
 * returns, which Prometheus handles as a counter reset.
 */
import type { HistogramSnapshot } from './latency-histogram.js';
import type { LiveCounters } from './metrics-counters.js';
import type { MetricSnapshot, RoomSnapshot } from './metric-snapshot.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface PrometheusInput {
  /** Cumulative totals, the interval being counted included. */
  counters: LiveCounters;
  connections: number;
  /** The last snapshot, for the per-room series and per-second gauges (absent before the first one). */
  latest: MetricSnapshot | undefined;
  /** This node's messages, from accepted to handed to their deliveries (absent: not rendered). */
  deliveryLatency?: HistogramSnapshot;
}

/**
 * @example
 * prometheusText({ counters, connections: 3, latest })
 * // '# HELP teamchat_room_messages_total ...\nteamchat_room_messages_total{room="general"} 12\n...'
 */
export function prometheusText(input: PrometheusInput): string {
  const { counters, latest } = input;
  const rooms = Object.entries(latest?.rooms ?? {});
  const out: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[string, number]>) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${labels} ${formatValue(value)}`);
  };
  const perRoom = (pick: (room: RoomSnapshot) => number): Array<[string, number]> =>
    rooms.map(([room, r]) => [`{room="${escapeLabel(room)}"}`, pick(r) ?? 0]);

  const of = ' Keyed and invite-only rooms are summed under room="(private)", rooms past the cap under room="(other)".';
  family(
    'teamchat_room_messages_total',
    'counter',
    `Room messages, per room (as of the last snapshot).${of}`,
    perRoom((r) => r.messagesTotal),
  );
  family(
    'teamchat_room_joins_total',
    'counter',
    'Room joins, per room (as of the last snapshot).',
    perRoom((r) => r.joinsTotal),
  );
  family(
    'teamchat_room_leaves_total',
    'counter',
    'Room leaves (part, quit, disconnect), per room (as of the last snapshot).',
    perRoom((r) => r.leavesTotal),
  );
  family(
    'teamchat_room_members',
    'gauge',
    'Members online, per room, in the last snapshot.',
    perRoom((r) => r.members),
  );
  family(
    'teamchat_room_messages_per_second',
    'gauge',
    'Instant messages per second over the last snapshot interval, per room.',
    perRoom((r) => r.mps),
  );
  family(
    'teamchat_room_messages_per_second_avg',
    'gauge',
    'Moving average of messages per second, per room.',
    perRoom((r) => r.avgMps),
  );
  family('teamchat_messages_total', 'counter', 'Room messages across all rooms.', [['', counters.messagesTotal]]);
  family('teamchat_private_messages_total', 'counter', 'Private messages (a count only).', [
    ['', counters.privateMessagesTotal],
  ]);
  family('teamchat_connections', 'gauge', 'Open client connections.', [['', input.connections]]);
  family('teamchat_connections_opened_total', 'counter', 'Client connections opened since the server started.', [
    ['', counters.connectionsOpenedTotal],
  ]);
  family('teamchat_connections_closed_total', 'counter', 'Client connections closed since the server started.', [
    ['', counters.connectionsClosedTotal],
  ]);
  family(
    'teamchat_connections_refused_total',
    'counter',
    'Client connections refused by the per-address limit (TC_ERR_TOO_MANY_CONNECTIONS) since the server started.',
    [['', counters.connectionsRefusedTotal]],
  );
  family(
    'teamchat_flood_delayed_commands_total',
    'counter',
    "Client commands that waited for their connection's flood budget since the server started.",
    [['', counters.floodDelayedTotal]],
  );
  family('teamchat_rooms', 'gauge', 'Rooms with members or recent activity, in the last snapshot.', [
    ['', latest?.totals.rooms ?? 0],
  ]);
  family(
    'teamchat_messages_per_second',
    'gauge',
    'Instant messages per second across rooms over the last snapshot interval.',
    [['', latest?.totals.mps ?? 0]],
  );
  family('teamchat_messages_per_second_avg', 'gauge', 'Moving average of messages per second across rooms.', [
    ['', latest?.totals.avgMps ?? 0],
  ]);
  if (input.deliveryLatency) {
    const h = input.deliveryLatency;
    const name = 'teamchat_message_delivery_seconds';
    out.push(
      `# HELP ${name} Room and private messages of this node, from accepted to handed to their recipients' connections: the wait for the commit and the fan-out.`,
      `# TYPE ${name} histogram`,
    );
    h.boundsMs.forEach((ms, i) => out.push(`${name}_bucket{le="${ms / 1000}"} ${h.cumulative[i]}`));
    out.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${h.sumMs / 1000}`, `${name}_count ${h.count}`);
  }
  return `${out.join('\n')}\n`;
}

/** Label values escape backslash, double quote and newline. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
