/**
 * Fault: `kill -9` of the server while users chat at full speed, then a restart. Every message
 * acknowledged to its sender is in history exactly once, memberships are intact, and a client
 * that resumes from the last id it saw gets exactly what it missed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { JsonClient } from './helpers/chat-clients.js';
import { startPostgres, type PostgresStart } from './helpers/postgres-cluster.js';
import { spawnServer } from './helpers/spawn-server.js';
import { until } from './helpers/waits.js';

const postgres: PostgresStart = await startPostgres();
if ('skip' in postgres) console.warn(`fault-crash: Postgres half skipped: ${postgres.skip}`);
afterAll(async () => {
  if ('stop' in postgres) await postgres.stop();
});

const backends = [
  { name: 'PGlite', skip: false, url: undefined },
  { name: 'Postgres', skip: 'skip' in postgres, url: 'url' in postgres ? postgres.url : undefined },
];

describe.each(backends)('teamchat serve on $name: kill -9 under load', ({ skip, url }) => {
  it.skipIf(skip)('loses no acknowledged message and no membership', async () => {
    const server = await spawnServer(url ? { databaseUrl: url } : {});
    try {
      const rooms = ['crash-a', 'crash-b'];
      const users: JsonClient[] = [];
      /** Each user's resume token: the same person comes back to its rooms. */
      const tokens: string[] = [];
      for (let u = 0; u < 6; u++) {
        const c = await JsonClient.connect(server.tcpPort);
        tokens.push((await c.hello(`user${u}`)).token!);
        await c.join(rooms[u % 2]);
        if (u === 0) await c.join('crash-b');
        users.push(c);
      }
      // Everyone sends as fast as acks come back (a window of 20 in flight) until the kill.
      let stop = false;
      let n = 0;
      let acks = 0;
      const pumps = users.map(async (c, u) => {
        const room = rooms[u % 2];
        let inFlight = 0;
        c.socket.on('data', () => {});
        while (!stop && !c.closed) {
          while (inFlight < 20 && !stop) {
            inFlight++;
            const ref = `u${u}-${n++}`;
            c.send({ type: 'msg', room, text: ref, ref });
            void c
              .seen('ack', (a) => a.ref === ref, 60_000)
              .then(
                () => {
                  inFlight--;
                  acks++;
                },
                () => {},
              );
          }
          // The window is full: wait for an ack to free a place (or for the end).
          await until(() => stop || c.closed || inFlight < 20, 'a place in the window', {
            timeoutMs: 120_000,
            everyMs: 5,
          });
        }
      });
      // Kill it under load: once 500 messages are acknowledged, with the pumps still sending.
      await until(() => acks >= 500, '500 acknowledged messages', { timeoutMs: 60_000 });
      await server.kill();
      stop = true;
      await Promise.all(pumps);
      await Promise.all(users.map((c) => c.waitClosed()));

      const acked = new Map<string, number>();
      for (const c of users) for (const f of c.frames) if (f.type === 'ack') acked.set(f.ref, f.id);
      expect(acked.size).toBeGreaterThan(50);
      // What user1 (in crash-b) saw last before the crash: the resume cursor.
      const lastSeen = users[1].frames.filter((f) => f.type === 'message').at(-1)!;

      await server.restart();
      const check = await JsonClient.connect(server.tcpPort);
      await check.hello('checker');
      await check.join('crash-a');
      await check.join('crash-b');
      const stored = new Map<string, number[]>();
      for (const room of rooms) {
        for (const m of await check.allHistory(room)) stored.set(m.text, [...(stored.get(m.text) ?? []), m.id]);
      }
      let lost = 0;
      for (const [ref, id] of acked) {
        const ids = stored.get(ref);
        if (!ids) lost++;
        else expect(ids).toEqual([id]);
      }
      console.log(`kill -9 (${server.url}): ${acked.size} messages acknowledged before the kill, ${lost} lost`);
      expect(lost).toBe(0);

      // Memberships survived: each user is put back into its rooms.
      for (let u = 0; u < 6; u++) {
        const c = await JsonClient.connect(server.tcpPort);
        const welcome = await c.hello(`user${u}`, {
          token: tokens[u],
          ...(u === 1 ? { rooms: { 'crash-b': lastSeen.id } } : {}),
        });
        expect(welcome.rooms.sort()).toEqual(u === 0 ? ['crash-a', 'crash-b'] : [rooms[u % 2]]);
        if (u === 1) {
          // Resume: exactly the stored messages after the last one seen, no gap, no duplicate.
          const joined = await c.next('joined', (j) => j.room === 'crash-b');
          const after = (await check.allHistory('crash-b')).filter((m) => m.id > lastSeen.id);
          let got = joined.history.map((m) => m.id);
          if (joined.more) {
            c.send({
              type: 'history',
              room: 'crash-b',
              after: lastSeen.id,
              before: joined.history[0].id,
              limit: 500,
              ref: 'gap',
            });
            got = [...(await c.next('history', (h) => h.ref === 'gap')).messages.map((m) => m.id), ...got];
          }
          expect(got).toEqual(after.map((m) => m.id));
        }
        c.close();
      }
      check.close();
    } finally {
      await server.cleanup();
    }
  });
});
