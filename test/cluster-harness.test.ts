/**
 * The cluster test harness itself: a real nats-server that tests can stop (a bus outage) and
 * start again on the same port. The cluster tests (test/helpers/cluster.ts) build on it.
 */
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { readInfo, startNatsServer, type NatsServerStart } from './helpers/nats-server.js';

const nats: NatsServerStart = await startNatsServer();
const skip = 'skip' in nats ? nats.skip : false;
if (skip) console.warn(`cluster-harness: skipped: ${skip}`);

afterAll(async () => {
  if ('cleanup' in nats) await nats.cleanup();
});

/** Resolves with the connection error's code, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe.skipIf(skip)('startNatsServer', () => {
  it('starts a NATS server on 127.0.0.1 that greets a raw TCP client with INFO', async () => {
    if (!('url' in nats)) throw new Error('unreachable');
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    expect(nats.pid).toBeGreaterThan(0);
    const info = await readInfo(nats.port);
    expect(info.port).toBe(nats.port);
    expect(info.server_id).toMatch(/^N/);
    expect(info.version).toMatch(/^2\./);
    expect(info.jetstream ?? false).toBe(false);
  });

  it('refuses connections after stop() and serves the same port again after start()', async () => {
    if (!('url' in nats)) throw new Error('unreachable');
    const { port } = nats;
    const before = await readInfo(port);

    await nats.stop();
    expect(nats.pid).toBeUndefined();
    expect(await tryConnect(port)).toBe('ECONNREFUSED');
    await expect(readInfo(port)).rejects.toThrow();

    await nats.start();
    expect(nats.port).toBe(port);
    const after = await readInfo(port);
    expect(after.port).toBe(port);
    // A new process: NATS picks a fresh server id at every start.
    expect(after.server_id).not.toBe(before.server_id);
  });

  it('survives stop() with SIGKILL (a crash) and a second stop()', async () => {
    if (!('url' in nats)) throw new Error('unreachable');
    await nats.stop('SIGKILL');
    await nats.stop();
    expect(await tryConnect(nats.port)).toBe('ECONNREFUSED');
    await nats.start();
    await nats.start(); // already running: no-op
    expect((await readInfo(nats.port)).port).toBe(nats.port);
  });
});
