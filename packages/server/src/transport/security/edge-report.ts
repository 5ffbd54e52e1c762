/**
 * What the server's edge holds back, told to the operator: connections refused by the per-address
 * limit, and connections whose commands wait for flood budget. Every occurrence is counted in
 * metrics (`teamchat_connections_refused_total`, `teamchat_flood_delayed_commands_total`); the log
 * gets at most one line per address (refusals) or per connection (flood control) a minute, with
 * the count since the previous line (see LogThrottle).
 *
 * @example
 * const report = new EdgeReport({ log, events: metrics });
 * report.connectionRefused('10.0.0.7', 16); // from a listener
 * report.floodDelayed(connection);          // from Connection, when a command waits for budget
 */
import type { EdgeEvents } from '../../metrics/chat-events.js';
import { LogThrottle, type LogThrottleOptions } from './log-throttle.js';

/** What a report line says about a connection. */
export interface ReportedConnection {
  readonly nick: string | null;
  readonly remote: string;
}

export interface EdgeReportOptions extends LogThrottleOptions {
  log: (line: string) => void;
  events?: EdgeEvents;
  /** The flood budget, named in the log line (absent: not named). */
  flood?: { burst: number; ratePerSecond: number } | null;
}

export class EdgeReport {
  readonly #events: EdgeEvents | undefined;
  readonly #refusals: LogThrottle<string>;
  readonly #floods: LogThrottle<ReportedConnection>;
  /** The per-address limit of the latest refusal (it is named in the lines). */
  #limit = 0;

  constructor(options: EdgeReportOptions) {
    const { log, events, flood } = options;
    this.#events = events;
    const per =
      options.intervalMs === undefined || options.intervalMs === 60_000 ? 'a minute' : `${options.intervalMs / 1000} s`;
    this.#refusals = new LogThrottle<string>((ip, count, first) => {
      const why = `TC_ERR_TOO_MANY_CONNECTIONS: at most ${this.#limit} open per address, see --max-connections-per-ip`;
      log(
        first
          ? `refused a connection from ${ip} (${why}); further refusals from ${ip} are counted and logged once ${per}`
          : `refused ${count} more connection${count === 1 ? '' : 's'} from ${ip} since the last line (${why})`,
      );
    }, options);
    const budget = flood
      ? ` (flood budget: burst ${flood.burst}, ${flood.ratePerSecond}/s; see --flood-rate, --flood-burst)`
      : '';
    this.#floods = new LogThrottle<ReportedConnection>((c, count, first) => {
      const who = c.nick ?? c.remote;
      log(
        first
          ? `flood control: ${who} is sending faster than its budget; commands delayed${budget}`
          : `flood control: ${who} is still sending faster than its budget; ${count} more command${count === 1 ? '' : 's'} delayed since the last line`,
      );
    }, options);
  }

  /** A listener refused a connection from `ip`, over the per-address `limit`. */
  connectionRefused(ip: string, limit: number): void {
    this.#limit = limit;
    this.#events?.connectionRefused();
    this.#refusals.note(ip.startsWith('::ffff:') ? ip.slice(7) : ip);
  }

  /** A command of `connection` waits for flood budget. */
  floodDelayed(connection: ReportedConnection): void {
    this.#events?.floodDelayed();
    this.#floods.note(connection);
  }

  /** Logs the counts still pending (at shutdown). */
  flush(): void {
    this.#refusals.flush();
    this.#floods.flush();
  }
}
