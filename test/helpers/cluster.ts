/**
 * A teamchat cluster for end-to-end tests: one real Postgres, one real NATS server, and N
 * `teamchat serve` processes that share both (`--database-url`, `--nats`, `--node-id n1..nN`).
 *
 * Nodes start one after another: the first applies the migrations, the next ones find them done.
 * Each node listens on its own free TCP and HTTP ports (see `SpawnedServer`), so a test talks to
 * a node as to a single server, and can `kill()` / `restart()` one node, or `nats.stop()` /
 * `nats.start()` and `postgres.stopServer()` / `postgres.startServer()` for outages.
 *
 * Without Postgres or nats-server: `{ skip: 'why' }`, for `describe.skipIf`.
 *
 * @example
 * const cluster = await startCluster({ nodes: 3 });
 * describe.skipIf('skip' in cluster)('cluster', () => { ... });
 * afterAll(() => ('cleanup' in cluster ? cluster.cleanup() : undefined));
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, type NatsServerHandle } from './nats-server.js';
import { startPostgres, type PostgresHandle } from './postgres-cluster.js';
import { spawnServer, type SpawnedServer } from './spawn-server.js';

export interface ClusterOptions {
  /** How many `teamchat serve` nodes; 3 by default. Their ids are n1, n2, ... */
  nodes?: number;
  /** Extra flags for every node's `teamchat serve`, after `--nats URL --node-id ID` (a repeated flag's last value wins). */
  args?: string[];
  /** Extra flags for one node (index from 0), after `args`. */
  nodeArgs?: (index: number) => string[];
  env?: NodeJS.ProcessEnv;
  /** See `SpawnServerOptions.productionLimits`. */
  productionLimits?: boolean;
  /** How long to wait for each node to print its ready line. */
  startTimeoutMs?: number;
}

export interface Cluster {
  /** The nodes, in start order; `nodes[i]` has node id `nodeIds[i]`. */
  nodes: SpawnedServer[];
  /** n1, n2, ... */
  nodeIds: string[];
  nats: NatsServerHandle;
  postgres: PostgresHandle;
  /** Kills every node, then removes the NATS server and the Postgres database. Safe to call twice. */
  cleanup(): Promise<void>;
}

export type ClusterStart = Cluster | { skip: string };

export async function startCluster(options: ClusterOptions = {}): Promise<ClusterStart> {
  const count = options.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`startCluster: nodes must be a positive integer, got ${count}`);

  const postgres = await startPostgres();
  if ('skip' in postgres) return { skip: postgres.skip };
  let nats: Awaited<ReturnType<typeof startNatsServer>>;
  try {
    nats = await startNatsServer();
  } catch (err) {
    await postgres.stop();
    throw err;
  }
  if ('skip' in nats) {
    await postgres.stop();
    return { skip: nats.skip };
  }

  // spawnServer makes an unused temp data folder per server when given none; keep them all here.
  const root = mkdtempSync(join(tmpdir(), 'teamchat-cluster-'));
  const nodes: SpawnedServer[] = [];
  const nodeIds: string[] = [];
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await Promise.allSettled(nodes.map((node) => node.cleanup()));
    await nats.cleanup();
    await postgres.stop();
    rmSync(root, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < count; i++) {
      const id = `n${i + 1}`;
      const dataDir = join(root, id);
      mkdirSync(dataDir);
      // One after another: the first node migrates the shared database.
      const node = await spawnServer({
        databaseUrl: postgres.url,
        dataDir,
        args: ['--nats', nats.url, '--node-id', id, ...(options.args ?? []), ...(options.nodeArgs?.(i) ?? [])],
        env: options.env,
        productionLimits: options.productionLimits,
        startTimeoutMs: options.startTimeoutMs,
      });
      nodes.push(node);
      nodeIds.push(id);
    }
  } catch (err) {
    await cleanup();
    throw new Error(`startCluster: node n${nodes.length + 1} of ${count} did not start: ${(err as Error).message}`);
  }

  return { nodes, nodeIds, nats, postgres, cleanup };
}
