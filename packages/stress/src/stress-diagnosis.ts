/**
 * Says plainly why a stress run went wrong when the server held it back: clients refused by the
 * per-address connection limit, commands refused for speed or for creating rooms, or commands
 * that waited behind flood control. The server does not say when a command waits for flood
 * budget; the run measures it: a high p99 latency at a pace near or over a default server's
 * budget. Each note names the server flags (or stress flags) that change it.
 *
 * @example
 * for (const note of diagnose(report)) console.log(note.message);
 */
import type { StressReport } from './stress-run.js';
import { formatRate, stressPace } from './stress-pace.js';

export type StressNoteCode =
  'connections-refused' | 'rate-limited' | 'room-creation-limited' | 'flood-delayed' | 'over-budget' | 'slow';

export interface StressNote {
  code: StressNoteCode;
  message: string;
}

/** A p99 latency at or above this, at a pace near the flood budget, is commands waiting for it. */
export const FLOOD_LATENCY_MS = 250;
/** A p99 latency at or above this within the budget is a server (or client machine) that cannot keep up. */
export const SLOW_LATENCY_MS = 1_000;

/** What the report shows about the server holding the run back, worst first; empty when nothing did. */
export function diagnose(report: Pick<StressReport, 'config' | 'clients' | 'errors' | 'latencyMs'>): StressNote[] {
  const notes: StressNote[] = [];
  const codes = report.errors.byCode;
  const requested = report.clients.requested;

  const refused = codes.TC_ERR_TOO_MANY_CONNECTIONS ?? 0;
  if (refused > 0) {
    notes.push({
      code: 'connections-refused',
      message:
        `${refused} of ${requested} clients were refused by the server's per-address connection limit (TC_ERR_TOO_MANY_CONNECTIONS, 16 by default). ` +
        `A default server does not apply it to loopback (127.0.0.1, ::1); from another address, or with a server started with --no-exempt-loopback, ` +
        `start it with --max-connections-per-ip 0 (unlimited) or --max-connections-per-ip ${requested}.`,
    });
  }

  const limited = codes.TC_ERR_RATE_LIMITED ?? 0;
  if (limited > 0) {
    notes.push({
      code: 'rate-limited',
      message:
        `the server refused ${limited} command${limited === 1 ? '' : 's'} for sending too fast (TC_ERR_RATE_LIMITED). ` +
        `Lower --rate, or start the server with a larger budget (--flood-rate, --flood-burst) or --no-flood-control.`,
    });
  }

  const rooms = codes.TC_ERR_ROOM_CREATION_LIMITED ?? 0;
  if (rooms > 0) {
    notes.push({
      code: 'room-creation-limited',
      message:
        `the server refused to create ${rooms} room${rooms === 1 ? '' : 's'} (TC_ERR_ROOM_CREATION_LIMITED: by default 10 new rooms a minute per connection, 30 per address). ` +
        `Use fewer rooms (--room-count), or start the server with --new-rooms-per-minute 0 and --new-rooms-per-minute-per-ip 0.`,
    });
  }

  const pace = stressPace({ intervalMs: report.config.intervalMs, switchChance: report.config.switchChance });
  const p99 = report.latencyMs.p99;
  const spend = `each client spent ${formatRate(pace.tokensPerSec)} flood tokens a second (a message 1, a room switch 1.5)`;
  const budget = `a default server refills ${pace.budget.ratePerSecond} a second (burst ${pace.budget.burst})`;
  const nearBudget = pace.tokensPerSec >= 0.9 * pace.budget.ratePerSecond;
  if (nearBudget && p99 >= FLOOD_LATENCY_MS) {
    notes.push({
      code: 'flood-delayed',
      message:
        `latency p99 ${Math.round(p99)} ms: ${spend} and ${budget}, so commands waited behind flood control in the server. ` +
        `Lower --rate (${formatRate(pace.suggestedRatePerClient)} or less at this switch chance), or start the server with --flood-rate ${Math.ceil(pace.tokensPerSec * 1.3)}, a larger --flood-burst, or --no-flood-control.`,
    });
  } else if (!pace.withinBudget) {
    notes.push({
      code: 'over-budget',
      message:
        `${spend}, more than ${budget}. Latency stayed low in this run (the burst absorbed the difference, or this server's budget is larger), ` +
        `but on a default server it grows the longer clients keep this pace: use --rate ${formatRate(pace.suggestedRatePerClient)} or less, or start the server with --flood-rate ${Math.ceil(pace.tokensPerSec * 1.3)} or --no-flood-control.`,
    });
  } else if (p99 >= SLOW_LATENCY_MS) {
    notes.push({
      code: 'slow',
      message:
        `latency p99 ${Math.round(p99)} ms although ${spend}, within a default server's ${pace.budget.ratePerSecond} a second: ` +
        `the server, or this machine running ${requested} clients, could not keep up.`,
    });
  }
  return notes;
}
