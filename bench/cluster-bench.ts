/**
 * `npm run bench -- cluster`: three `teamchat serve` nodes on this machine, one real Postgres, one
 * real nats-server; clients spread evenly over the nodes, every room holding members of every
 * node. Each sender stamps its messages with the time it sent them; each receiver measures the
 * latency of every delivery and files it as same-node (sender and receiver on one node) or
 * cross-node. Reports deliveries/s, loss, p50/p99 of both, and what crossing nodes adds to p99.
 *
 *   npm run bench -- cluster [--quick]
 *
 * One generator process for all clients (on this 2-core machine the generator, three servers,
 * Postgres and NATS share the cores: the figures are for comparison, not capacity).
 * Writes bench/results/cluster.json and its own section of BENCHMARKS.md.
 */
import net from 'node:net';
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeServerFrame, encodeFrame, PROTOCOL_VERSION } from '@teamchat/protocol';
import { startNatsServer } from '../test/helpers/nats-server.js';
import { startPostgres } from '../test/helpers/postgres-cluster.js';
import { spawnServer, type SpawnedServer } from '../test/helpers/spawn-server.js';
import { LatencyHistogram } from '../packages/stress/src/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NODES = 3;
const LIMITS = ['--no-flood-control', '--max-connections-per-ip', '0', '--host', '127.0.0.1'];

export interface ClusterBenchOptions {
  quick: boolean;
}

interface Shape {
  clientsPerNode: number;
  rooms: number;
  /** Messages per second per client. */
  rate: number;
  seconds: number;
}

interface Client {
  node: number;
  nick: string;
  socket: net.Socket;
  room: string;
}

export async function clusterBench({ quick }: ClusterBenchOptions): Promise<Record<string, unknown> | null> {
  const postgres = await startPostgres();
  if ('skip' in postgres) {
    console.log(`  cluster: skipped (${postgres.skip})`);
    return null;
  }
  const nats = await startNatsServer();
  if ('skip' in nats) {
    await postgres.stop();
    console.log(`  cluster: skipped (${nats.skip})`);
    return null;
  }
  const nodes: SpawnedServer[] = [];
  try {
    for (let i = 0; i < NODES; i++) {
      nodes.push(
        await spawnServer({
          databaseUrl: postgres.url,
          args: ['--nats', nats.url, '--node-id', `b${i + 1}`, ...LIMITS],
        }),
      );
    }
    const shapes: Shape[] = quick
      ? [{ clientsPerNode: 10, rooms: 3, rate: 2, seconds: 3 }]
      : [
          { clientsPerNode: 50, rooms: 10, rate: 1, seconds: 10 },
          { clientsPerNode: 100, rooms: 10, rate: 2, seconds: 10 },
        ];
    const results = [];
    for (const shape of shapes) {
      const result = await runShape(nodes, shape);
      console.log(
        `  ${shape.clientsPerNode * NODES} clients, ${shape.rate} msg/s each: ${result.deliveriesPerSec} deliveries/s, ${result.deliveredPct}% delivered; ` +
          `same node p50/p99 ${result.sameNode.p50}/${result.sameNode.p99} ms, cross node ${result.crossNode.p50}/${result.crossNode.p99} ms (+${result.addedP99Ms} ms at p99)`,
      );
      results.push({ shape, ...result });
    }
    const record = {
      scenario: 'cluster',
      command: 'npm run bench -- cluster',
      at: new Date().toISOString(),
      nodes: NODES,
      results,
    };
    if (!quick) {
      writeFileSync(path.join(ROOT, 'bench', 'results', 'cluster.json'), `${JSON.stringify(record, null, 2)}\n`);
      writeSection(record);
    }
    return record;
  } finally {
    for (const node of nodes) await node.cleanup();
    await nats.cleanup();
    await postgres.stop();
  }
}

async function runShape(nodes: SpawnedServer[], shape: Shape) {
  const clients: Client[] = [];
  let sameNode = new LatencyHistogram();
  let crossNode = new LatencyHistogram();
  let delivered = 0;
  let expected = 0;
  const run = Date.now().toString(36);
  const membersPerRoom = new Map<string, number>();
  for (let n = 0; n < nodes.length; n++) {
    for (let i = 0; i < shape.clientsPerNode; i++) {
      // Round robin: each room gets members from every node.
      const room = `cb-${run}-${(n * shape.clientsPerNode + i) % shape.rooms}`;
      membersPerRoom.set(room, (membersPerRoom.get(room) ?? 0) + 1);
      clients.push(
        await connect(nodes[n], n, `c${run.slice(-4)}n${n}x${i}`, room, (line) => {
          // Text: "<sender node> <sent at ms>"; only room messages are parsed.
          if (!line.includes('"type":"message"')) return;
          const m = /"text":"(\d+) (\d+(?:\.\d+)?)"/.exec(line);
          if (!m) return;
          delivered++;
          const latency = performance.timeOrigin + performance.now() - Number(m[2]);
          // The one histogram of the project (microseconds), as the stress tool keeps it.
          (Number(m[1]) === n ? sameNode : crossNode).record(Math.max(0, Math.round(latency * 1000)));
        }),
      );
    }
  }
  // Everyone is in; let presence settle before measuring.
  await new Promise((r) => setTimeout(r, 1_000));
  sameNode = new LatencyHistogram();
  crossNode = new LatencyHistogram();
  delivered = 0;
  const started = Date.now();
  const interval = 1000 / shape.rate;
  const timers = clients.map((c, i) =>
    setTimeout(
      () => {
        const tick = setInterval(() => {
          if (Date.now() - started >= shape.seconds * 1000) return clearInterval(tick);
          const now = performance.timeOrigin + performance.now();
          c.socket.write(encodeFrame({ type: 'msg', room: c.room, text: `${c.node} ${now.toFixed(1)}` }));
          expected += membersPerRoom.get(c.room)!;
        }, interval);
      },
      (i * interval) / clients.length,
    ),
  );
  await new Promise((r) => setTimeout(r, shape.seconds * 1000 + 200));
  // Deliveries in flight arrive; then the count is final.
  const deadline = Date.now() + 10_000;
  while (delivered < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const elapsed = (Date.now() - started) / 1000;
  for (const t of timers) clearTimeout(t);
  for (const c of clients) c.socket.destroy();
  const stats = (h: LatencyHistogram) => ({
    count: h.count,
    p50: round(h.percentile(0.5) / 1000),
    p99: round(h.percentile(0.99) / 1000),
  });
  const same = stats(sameNode);
  const cross = stats(crossNode);
  return {
    sent: expected,
    delivered,
    deliveredPct: round((100 * delivered) / Math.max(1, expected)),
    deliveriesPerSec: Math.round(delivered / Math.min(elapsed, shape.seconds)),
    sameNode: same,
    crossNode: cross,
    addedP99Ms: round(cross.p99 - same.p99),
  };
}

function connect(
  node: SpawnedServer,
  index: number,
  nick: string,
  room: string,
  onLine: (line: string) => void,
): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(node.tcpPort, '127.0.0.1');
    let buffered = '';
    let joined = false;
    socket.setEncoding('utf8');
    socket.on('error', reject);
    const timer = setTimeout(() => reject(new Error(`${nick}: no joined within 10 s`)), 10_000);
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!joined) {
          // Until it is in the room, every frame is decoded; after, deliveries are only scanned (onLine).
          const decoded = decodeServerFrame(line);
          if (decoded.ok && decoded.frame.type === 'joined' && decoded.frame.room === room) {
            joined = true;
            clearTimeout(timer);
            resolve({ node: index, nick, socket, room });
          } else if (decoded.ok && decoded.frame.type === 'error') {
            clearTimeout(timer);
            reject(new Error(`${nick}: ${decoded.frame.code}: ${decoded.frame.message}`));
          }
        }
        onLine(line);
      }
    });
    socket.write(encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick }) + encodeFrame({ type: 'join', room }));
  });
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

const MD_START = '<!-- bench:cluster:start -->';
const MD_END = '<!-- bench:cluster:end -->';

function writeSection(record: { at: string; results: (Record<string, unknown> & { shape: Shape })[] }): void {
  const rows = record.results.map((r) => {
    const x = r as unknown as {
      shape: Shape;
      deliveriesPerSec: number;
      deliveredPct: number;
      sameNode: { p50: number; p99: number };
      crossNode: { p50: number; p99: number };
      addedP99Ms: number;
    };
    return `| ${x.shape.clientsPerNode * NODES} (${x.shape.clientsPerNode} per node) / ${x.shape.rooms} | ${x.shape.rate} | ${x.deliveriesPerSec} | ${x.deliveredPct}% | ${x.sameNode.p50} / ${x.sameNode.p99} | ${x.crossNode.p50} / ${x.crossNode.p99} | ${x.addedP99Ms} |`;
  });
  const section = [
    MD_START,
    '## Cluster: 3 nodes, one Postgres, one NATS (`npm run bench -- cluster`)',
    '',
    `Measured ${record.at.slice(0, 16).replace('T', ' ')} UTC on this 2-core machine: three nodes, Postgres, nats-server and the generator share the cores.`,
    "Every room has members on every node; latency is from the sender's write to each receiver's read, filed by whether sender and receiver are on the same node.",
    '',
    '| clients / rooms | msgs/s per client | deliveries/s | delivered | same node p50 / p99 ms | cross node p50 / p99 ms | cross-node added p99 ms |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    MD_END,
  ].join('\n');
  const file = path.join(ROOT, 'BENCHMARKS.md');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(MD_START);
  const end = text.indexOf(MD_END);
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + section + text.slice(end + MD_END.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
  console.log('  BENCHMARKS.md: cluster section written');
}
