/**
 * Text output of a stress run: the live line, the progress bar, the CSV rows and the summary
 * table. Pure functions of the figures, so they are tested without a server.
 *
 * @example
 * process.stderr.write(formatTick(tick) + '\n');
 * console.log(formatSummary(report));
 */
import type { StressReport, StressTick } from './stress-run.js';

const num = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) =>
  Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : Math.round(n).toString()) : '-';

/** One live line: totals, rates, joins/leaves per room, latency so far. */
export function formatTick(t: StressTick): string {
  const rooms = t.rooms
    .filter((r) => r.joins > 0 || r.leaves > 0)
    .map((r) => `${r.room} +${r.joins}/-${r.leaves}`)
    .join(' ');
  const parts = [
    `[${(t.elapsedMs / 1000).toFixed(0).padStart(4)}s ${t.phase}]`,
    `clients ${t.online}${t.failed ? ` (${t.failed} failed)` : ''}${t.disconnected ? ` (${t.disconnected} dropped)` : ''}`,
    `msgs ${num(t.messages)} (${num(t.messagesPerSec)}/s)`,
    `deliveries ${num(t.deliveries)} (${num(t.deliveriesPerSec)}/s)`,
    `p50 ${ms(t.p50Ms)} ms p99 ${ms(t.p99Ms)} ms`,
  ];
  if (t.errors) parts.push(`errors ${num(t.errors)}`);
  if (rooms) parts.push(`rooms ${rooms}`);
  return parts.join('  ');
}

/** A progress bar line (no newline) for the ramp-up and the duration. */
export function formatProgress(label: string, fraction: number, remainingMs: number, width = 30): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `${label.padEnd(8)} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}%  ${Math.ceil(Math.max(0, remainingMs) / 1000)}s left`;
}

export const CSV_HEADER =
  'time,elapsed_s,phase,clients_online,messages,messages_per_s,deliveries,deliveries_per_s,p50_ms,p99_ms,errors,failed,disconnected';

/** One CSV row of periodic figures (matching CSV_HEADER), without newline. */
export function formatCsvRow(t: StressTick, now = new Date()): string {
  const f = (n: number) => (Number.isFinite(n) ? (Math.round(n * 1000) / 1000).toString() : '');
  return [
    now.toISOString(),
    f(t.elapsedMs / 1000),
    t.phase,
    t.online,
    t.messages,
    f(t.messagesPerSec),
    t.deliveries,
    f(t.deliveriesPerSec),
    f(t.p50Ms),
    f(t.p99Ms),
    t.errors,
    t.failed,
    t.disconnected,
  ].join(',');
}

/** The end-of-run table. */
export function formatSummary(r: StressReport): string {
  const rows: Array<[string, string]> = [
    [
      'clients connected',
      `${num(r.clients.connected)} / ${num(r.clients.requested)}${r.clients.failed ? ` (${num(r.clients.failed)} failed)` : ''}${r.clients.disconnected ? ` (${num(r.clients.disconnected)} disconnected)` : ''}`,
    ],
    ['messages sent', `${num(r.messages.sent)} (${num(r.messages.room)} room, ${num(r.messages.private)} private)`],
    [
      'deliveries',
      `${num(r.deliveries.delivered)} of ${num(r.deliveries.expected)} expected (${num(r.deliveries.received)} received in all)`,
    ],
    [
      'delivered',
      `${r.deliveries.deliveredPct}%${r.deliveries.lost ? `  (${num(r.deliveries.lost)} lost)` : ''}${r.deliveries.extra ? `  (${num(r.deliveries.extra)} extra)` : ''}`,
    ],
    ['messages/s', `${num(r.rates.messagesPerSec)} (over ${r.rates.windowSec.toFixed(1)} s after the ramp)`],
    ['deliveries/s', num(r.rates.deliveriesPerSec)],
    ['stored/s', num(r.rates.storedPerSec)],
    ['latency p50', `${ms(r.latencyMs.p50)} ms`],
    ['latency p90', `${ms(r.latencyMs.p90)} ms`],
    ['latency p99', `${ms(r.latencyMs.p99)} ms`],
    ['latency max', `${ms(r.latencyMs.max)} ms`],
    [
      'errors',
      r.errors.total
        ? `${num(r.errors.total)} (${Object.entries(r.errors.byCode)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ')})`
        : '0',
    ],
  ];
  if (r.messages.unanswered) rows.push(['unanswered sends', num(r.messages.unanswered)]);
  if (!r.drained) rows.push(['note', 'some messages were still in flight when the drain time ran out']);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  const head = `teamchat stress: ${r.config.clients} clients, ${r.config.rooms.length} rooms, ${r.config.ratePerClient.toFixed(2)} msg/s each, ${r.config.durationMs / 1000}s${r.stoppedEarly ? ' (stopped early)' : ''}`;
  // Summary rows say what happened; `why` says what held the run back and which flags change it.
  const why = r.notes?.length ? ['', '  why:', ...r.notes.map((n) => `    - ${n.message}`)] : [];
  const tail = r.failures.length ? ['', '  first problems:', ...r.failures.slice(0, 5).map((f) => `    ${f}`)] : [];
  return [head, ...lines, ...why, ...tail].join('\n');
}
