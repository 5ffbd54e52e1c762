/**
 * Entry of a stress worker thread: owns one StressShard and answers the main thread's requests
 * (`start`, `stop`, `stats`, `ledger`, `close`) with `{ id, result }` messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ShardConfig } from './shard-types.js';
import { StressShard } from './stress-shard.js';

export interface ShardRequest {
  id: number;
  op: 'start' | 'stop' | 'stats' | 'ledger' | 'close';
  /** With `start`: the run epoch (see StressShard.start). */
  epochUs?: number;
}

const shard = new StressShard(workerData as ShardConfig);
const port = parentPort!;
port.on('message', (req: ShardRequest) => void handle(req));

async function handle(req: ShardRequest): Promise<void> {
  switch (req.op) {
    case 'start':
      shard.start(req.epochUs!);
      return port.postMessage({ id: req.id, result: null });
    case 'stop':
      shard.stop();
      return port.postMessage({ id: req.id, result: null });
    case 'stats':
      return port.postMessage({ id: req.id, result: shard.stats() });
    case 'ledger':
      return port.postMessage({ id: req.id, result: shard.ledger() });
    case 'close':
      await shard.close();
      port.postMessage({ id: req.id, result: null });
      return port.close();
  }
}
port.postMessage({ ready: true });
