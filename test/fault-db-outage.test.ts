/**
 * Fault: the Postgres server goes away for 10 s while users chat. Live chat keeps working in a
 * degraded mode clients can see; messages are held in a bounded queue and stored when the
 * database returns; nothing acknowledged is lost; past the bound senders get a coded error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import { startPostgres, type PostgresStart } from './helpers/postgres-cluster.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';
import { pace } from './helpers/waits.js';

const postgres: PostgresStart = await startPostgres();
const skip = 'skip' in postgres ? postgres.skip : false;
if (skip) console.warn(`fault-db-outage: skipped: ${skip}`);

let server: SpawnedServer;
beforeAll(async () => {
  if ('url' in postgres)
    server = await spawnServer({ databaseUrl: postgres.url, args: ['--max-pending-writes', '25'] });
});
afterAll(async () => {
  await server?.cleanup();
  if ('stop' in postgres) await postgres.stop();
});

async function health(): Promise<{ status: number; body: { db: string } }> {
  const res = await fetch(`${server.url}/healthz`);
  return { status: res.status, body: (await res.json()) as { db: string } };
}

describe.skipIf(skip)('teamchat serve: database outage', () => {
  it('keeps live chat going, shows the degraded state, stores every held message when the database returns', async () => {
    if (!('stopServer' in postgres)) throw new Error('unreachable');
    const alice = await JsonClient.connect(server.tcpPort);
    const bob = await JsonClient.connect(server.tcpPort);
    await alice.hello('alice');
    await bob.hello('bob');
    await alice.join('ops');
    await bob.join('ops');
    alice.send({ type: 'msg', room: 'ops', text: 'before the outage', ref: 'b0' });
    await alice.seen('ack', (a) => a.ref === 'b0');
    expect((await health()).body.db).toBe('ok');

    await postgres.stopServer();
    const down = Date.now();
    const sent: { ref: string; by: JsonClient }[] = [];
    let i = 0;
    // Ten seconds of chat with the database gone, each user under the flood-control rate;
    // 2 users x ~16 messages go past the bound of 25 held messages.
    while (Date.now() - down < 10_000) {
      for (const by of [alice, bob]) {
        const ref = `o${i++}`;
        sent.push({ ref, by });
        by.send({ type: 'msg', room: 'ops', text: `during the outage ${ref}`, ref });
      }
      await pace(600, 'each user stays under the flood-control rate (2 a second) while the outage lasts');
    }
    expect(await alice.seen('status', (s) => s.db === 'degraded')).toMatchObject({ db: 'degraded' });
    await bob.seen('status', (s) => s.db === 'degraded');
    const h = await health();
    expect(h.status).toBe(503);
    expect(h.body.db).toBe('down');
    const errors = [...alice.frames, ...bob.frames].filter((f) => f.type === 'error');
    const busy = errors
      .filter((e) => e.type === 'error' && e.code === 'TC_ERR_STORE_BUSY')
      .map((e) => (e as { ref: string }).ref);
    // Past the bound, new messages are refused with a code, not dropped; nothing else went wrong.
    expect(busy.length).toBeGreaterThan(0);
    expect(errors).toHaveLength(busy.length);
    const accepted = sent.filter((s) => !busy.includes(s.ref));
    expect(accepted.length).toBeGreaterThanOrEqual(25);
    // Live: bob saw alice's accepted messages of the outage although none is stored yet...
    for (const { ref } of accepted.filter((s) => s.by === alice))
      await bob.seen('message', (m) => m.text === `during the outage ${ref}`);
    // ...and nobody was told "stored" yet.
    expect([...alice.frames, ...bob.frames].filter((f) => f.type === 'ack' && f.ref !== 'b0')).toEqual([]);

    await postgres.startServer();
    await alice.seen('status', (s) => s.db === 'ok', 30_000);
    // Every accepted message is acknowledged once stored.
    for (const { ref, by } of accepted) {
      await by
        .seen('ack', (a) => a.ref === ref, 30_000)
        .catch((e: Error) => {
          throw new Error(`${ref}: ${e.message.slice(0, 2000)}\n--- server log:\n${server.stderr().slice(-3000)}`);
        });
    }
    expect((await health()).body.db).toBe('ok');

    // And history holds each of them exactly once.
    const carol = await JsonClient.connect(server.tcpPort);
    await carol.hello('carol');
    await carol.join('ops');
    const texts = (await carol.allHistory('ops')).map((m) => m.text);
    const stored = texts.map((t) => t.split(' ').at(-1));
    for (const { ref } of accepted) expect(stored.filter((r) => r === ref)).toHaveLength(1);
    for (const ref of busy) expect(stored).not.toContain(ref);
    console.log(
      `db outage: ${accepted.length} messages accepted during the outage, ${busy.length} refused past the bound, 0 lost`,
    );
    for (const c of [alice, bob, carol]) c.close();
  });
});
