/**
 * End to end: a restart of the server process loses no stored message, no membership and no
 * topic, on the embedded database and on a real Postgres server; SIGTERM drains and exits 0.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { JsonClient, PlainClient } from './helpers/chat-clients.js';
import { startPostgres, type PostgresStart } from './helpers/postgres-cluster.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

const postgres: PostgresStart = await startPostgres();
if ('skip' in postgres) console.warn(`serve-restart: Postgres half skipped: ${postgres.skip}`);

const backends = [
  { name: 'PGlite', skip: false, start: () => spawnServer() },
  {
    name: 'Postgres',
    skip: 'skip' in postgres,
    start: () => spawnServer({ databaseUrl: 'url' in postgres ? postgres.url : '' }),
  },
];

afterAll(async () => {
  if ('stop' in postgres) await postgres.stop();
});

describe.each(backends)('teamchat serve on $name: restart', ({ skip, start }) => {
  it.skipIf(skip)('keeps history, memberships and topics across a SIGTERM restart, and exits 0', async () => {
    const server: SpawnedServer = await start();
    try {
      const alice = await JsonClient.connect(server.tcpPort);
      const bob = await PlainClient.connect(server.tcpPort);
      const { token } = await alice.hello('alice');
      await alice.join('general');
      await alice.join('ops');
      await bob.login('bob', 'general');
      alice.send({ type: 'topic', room: 'ops', topic: 'on call: alice' });
      await alice.next('topic', (t) => t.room === 'ops');
      // A burst right before the shutdown: every acknowledged message must survive.
      const acked = new Set<number>();
      for (let i = 0; i < 200; i++)
        alice.send({ type: 'msg', room: i % 2 ? 'general' : 'ops', text: `before restart ${i}`, ref: `r${i}` });
      bob.line('bob was here');
      await bob.expect('bob: bob was here');
      await alice.next('ack', (a) => a.ref === 'r199');
      for (const f of alice.frames) if (f.type === 'ack') acked.add(f.id);
      expect(acked.size).toBe(200);

      const exitCode = await server.stop('SIGTERM');
      expect(exitCode).toBe(0);
      expect(await alice.seen('bye')).toMatchObject({ code: 'TC_ERR_SHUTDOWN' });
      await bob.expect('! Disconnected: server is shutting down');

      await server.restart();
      const again = await JsonClient.connect(server.tcpPort);
      const welcome = await again.hello('ALICE', { token: token! });
      expect(welcome.rooms.sort()).toEqual(['general', 'ops']);
      const ops = await again.seen('joined', (j) => j.room === 'ops');
      await again.seen('joined', (j) => j.room === 'general');
      expect(ops.topic).toBe('on call: alice');
      // Page everything back and compare with what was acknowledged.
      const seen = new Set<number>();
      const texts: string[] = [];
      for (const room of ['general', 'ops']) {
        for (const m of await again.allHistory(room)) {
          expect(seen.has(m.id)).toBe(false);
          seen.add(m.id);
          texts.push(`${m.nick}: ${m.text}`);
        }
      }
      for (const id of acked) expect(seen.has(id)).toBe(true);
      expect(texts).toContain('bob: bob was here');
      again.close();
      alice.close();
      bob.close();
    } finally {
      await server.cleanup();
    }
  });
});
