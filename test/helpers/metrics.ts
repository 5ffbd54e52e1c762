/**
 * Waiting for the server's stored metric snapshots in end-to-end tests.
 *
 * @example
 * const snapshots = await waitForSnapshots(server.url, (s) => s.some((x) => x.totals.messagesTotal >= 4));
 */
import type { MetricSnapshot } from '@teamchat/server';

/** Polls `GET /api/metrics<query>` until `done` accepts the stored snapshots; returns them. */
export async function waitForSnapshots(
  baseUrl: string,
  done: (snapshots: MetricSnapshot[]) => boolean,
  query = '',
  timeoutMs = 20_000,
): Promise<MetricSnapshot[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = (await (await fetch(`${baseUrl}/api/metrics${query}`)).json()) as { snapshots: MetricSnapshot[] };
    if (done(body.snapshots)) return body.snapshots;
    if (Date.now() > deadline) throw new Error(`stored snapshots never matched; last: ${JSON.stringify(body.snapshots.slice(-2))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
