/**
 * Step 3 of the delivery pipeline in a cluster (see README.md): the bus between nodes, NATS core
 * pub/sub. Each committed batch is published once, after its commit, on one subject; every node
 * subscribes. NATS gives no order across publishers and no delivery guarantee: the ordered stream
 * puts batches in order by number and reads what never arrives from Postgres, so the bus only
 * has to be fast, not reliable.
 *
 * The client reconnects forever (with NATS's own backoff); while it is away, the node keeps
 * chatting locally and `onStatus` tells the runtime, which tells clients.
 *
 * @example
 * const bus = await NatsBus.connect('nats://127.0.0.1:4222', { instance, onBatch, onStatus });
 * bus.publish(42, entries);
 */
import { connect, Events, type NatsConnection, type Subscription } from 'nats';
import type { MetricSnapshot } from '../metrics/metric-snapshot.js';
import type { StreamEntry } from './batch-writer.js';

export const STREAM_SUBJECT = 'teamchat.stream';
/** Each node's metrics snapshots, so every node's dashboard shows the cluster's sum. */
export const METRICS_SUBJECT = 'teamchat.metrics';
/** Below NATS's default 1 MiB max_payload; a bigger batch is not published (others read it from Postgres). */
const MAX_PAYLOAD = 900 * 1024;

export interface NatsBusOptions {
  /** This node process: its own batches coming back from NATS are ignored. */
  instance: string;
  onBatch(number: number, entries: StreamEntry[]): void;
  onMetrics?(snapshot: MetricSnapshot): void;
  onStatus(up: boolean): void;
  log(line: string): void;
}

interface WireBatch {
  n: number;
  i: string;
  e: StreamEntry[];
}

export class NatsBus {
  readonly #nc: NatsConnection;
  readonly #sub: Subscription;
  readonly #metricsSub: Subscription;
  readonly #options: NatsBusOptions;
  #up = true;
  #oversized = 0;

  private constructor(nc: NatsConnection, options: NatsBusOptions) {
    this.#nc = nc;
    this.#options = options;
    this.#sub = nc.subscribe(STREAM_SUBJECT, {
      callback: (err, msg) => {
        if (err) return options.log(`error: cluster bus: ${err.message}`);
        let batch: WireBatch;
        try {
          batch = JSON.parse(Buffer.from(msg.data).toString('utf8')) as WireBatch;
        } catch {
          return options.log('error: cluster bus: a batch that is not JSON was ignored');
        }
        if (batch.i === options.instance || typeof batch.n !== 'number' || !Array.isArray(batch.e)) return;
        options.onBatch(batch.n, batch.e);
      },
    });
    this.#metricsSub = nc.subscribe(METRICS_SUBJECT, {
      callback: (err, msg) => {
        if (err || !options.onMetrics) return;
        try {
          options.onMetrics(JSON.parse(Buffer.from(msg.data).toString('utf8')) as MetricSnapshot);
        } catch {
          // A malformed snapshot is ignored: metrics are best effort between nodes.
        }
      },
    });
    void this.#watch();
  }

  publishMetrics(snapshot: MetricSnapshot): void {
    try {
      this.#nc.publish(METRICS_SUBJECT, Buffer.from(JSON.stringify(snapshot)));
    } catch {
      // The bus is away: the others show this node again with its next snapshot.
    }
  }

  /** Connects (retrying until NATS answers: in a compose file it may start after this node). */
  static async connect(url: string, options: NatsBusOptions): Promise<NatsBus> {
    const nc = await connect({
      servers: url.split(','),
      name: `teamchat ${options.instance}`,
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      pingInterval: 2_000,
      maxPingOut: 2,
    });
    return new NatsBus(nc, options);
  }

  get up(): boolean {
    return this.#up;
  }

  publish(number: number, entries: StreamEntry[]): void {
    const payload = Buffer.from(
      JSON.stringify({ n: number, i: this.#options.instance, e: entries } satisfies WireBatch),
    );
    if (payload.length > MAX_PAYLOAD) {
      if (this.#oversized++ % 100 === 0)
        this.#options.log(
          `cluster bus: batch ${number} is ${payload.length} bytes: the other nodes read it from the database`,
        );
      return;
    }
    try {
      this.#nc.publish(STREAM_SUBJECT, payload);
    } catch (err) {
      // Closed or draining: the other nodes read this batch from the database.
      this.#options.log(`error: cluster bus: publish failed: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    this.#sub.unsubscribe();
    this.#metricsSub.unsubscribe();
    await this.#nc.drain().catch(() => this.#nc.close());
  }

  async #watch(): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (status.type === Events.Disconnect && this.#up) {
        this.#up = false;
        this.#options.onStatus(false);
      } else if (status.type === Events.Reconnect && !this.#up) {
        this.#up = true;
        this.#options.onStatus(true);
      }
    }
  }
}
