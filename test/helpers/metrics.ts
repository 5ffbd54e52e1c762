/**
 * Waiting for the server's stored metric snapshots in end-to-end tests.
 *
 * @example
 * const snapshots = await waitForSnapshots(server.url, (s) => s.some((x) => x.totals.messagesTotal >= 4));
 */
import type { MetricSnapshot } from '@teamchat/server';
import { until } from './waits.js';

/** Polls `GET /api/metrics<query>` until `done` accepts the stored snapshots; returns them. */
export async function waitForSnapshots(
  baseUrl: string,
  done: (snapshots: MetricSnapshot[]) => boolean,
  query = '',
  timeoutMs = 20_000,
): Promise<MetricSnapshot[]> {
  let last: MetricSnapshot[] = [];
  return until(
    async () => {
      last = ((await (await fetch(`${baseUrl}/api/metrics${query}`)).json()) as { snapshots: MetricSnapshot[] })
        .snapshots;
      return done(last) ? last : undefined;
    },
    'stored snapshots to match',
    { timeoutMs, everyMs: 100, describe: () => JSON.stringify(last.slice(-2)) },
  );
}
