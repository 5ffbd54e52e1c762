import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { suiteBackends } from '../../../../test/helpers/store-backends.js';
import { quietPeriod, until } from '../../../../test/helpers/waits.js';
import { openDatabase, type Database } from './database.js';
import { KyselyMessageStore } from './kysely-message-store.js';
import type { NewMessage } from './message-store.js';
import { migrate } from './migrator.js';
import { SearchIndexer } from './search-indexer.js';

const backends = await suiteBackends('teamchat-search-indexer-');

function say(room: string, text: string): NewMessage {
  return { kind: 'room', room, nick: 'Bob', owner: 'bob', text, action: false, ts: Date.now() };
}

for (const backend of backends) {
  const title = backend.skip
    ? `SearchIndexer on ${backend.name} (skipped: ${backend.skip})`
    : `SearchIndexer on ${backend.name}`;

  describe.skipIf(backend.skip !== undefined)(title, () => {
    let database: Database;
    let store: KyselyMessageStore;
    const started: SearchIndexer[] = [];

    beforeAll(async () => {
      database = await openDatabase(backend.config());
      await migrate(database);
      store = new KyselyMessageStore(database);
    });
    afterAll(async () => {
      await database?.close();
    });
    beforeEach(async () => {
      for (const indexer of started.splice(0)) await indexer.stop();
    });

    const write = async (messages: NewMessage[]) => (await store.writeBatch({ messages, state: [] })).ids;
    const copies = async () => {
      const result = await sql<{
        id: string;
        keys: string[];
        text: string;
      }>`SELECT id::text, keys, text FROM message_search ORDER BY id`.execute(database.kysely);
      return result.rows.map((r) => ({ id: Number(r.id), keys: r.keys, text: r.text }));
    };
    const mark = async () =>
      Number(
        (await sql<{ upto: string }>`SELECT indexed_upto::text AS upto FROM search_state`.execute(database.kysely))
          .rows[0].upto,
      );

    it('copies at most a chunk per step, in id order, with the scope keys, and moves the mark', async () => {
      const indexer = new SearchIndexer(database, { chunk: 2 });
      await indexer.catchUp();
      const before = (await copies()).length;
      const ids = await write([say('ix-a', 'one'), say('ix-a', 'two'), say('ix-b', 'three')]);
      expect(await indexer.backlog()).toBe(3);
      expect(await indexer.step()).toBe(2);
      expect(await mark()).toBe(ids[1]);
      expect(await indexer.backlog()).toBe(1);
      expect(await indexer.step()).toBe(1);
      expect(await indexer.step()).toBe(0);
      const rows = (await copies()).slice(before);
      expect(rows.map((r) => r.text)).toEqual(['one', 'two', 'three']);
      expect(rows[2].keys).toEqual(['#ix-b', '!bob', `^${ids[2] >> 16}`]);
    });

    it('skips deleted and empty messages, and never copies one twice', async () => {
      const indexer = new SearchIndexer(database);
      await indexer.catchUp();
      const ids = await write([say('ix-c', 'keep me'), say('ix-c', 'delete me')]);
      await store.writeBatch({ messages: [], state: [{ op: 'delete', id: ids[1], ts: Date.now() }] });
      // Two indexers (two cluster nodes) at once: one holds the mark, the other skips its turn.
      const other = new SearchIndexer(database);
      await Promise.all([indexer.catchUp(), other.catchUp()]);
      const rows = (await copies()).filter((r) => ids.includes(r.id));
      expect(rows.map((r) => r.text)).toEqual(['keep me']);
      expect(await indexer.backlog()).toBe(0);
    });

    it('waits for the writer to be quiet, then indexes on its own', async () => {
      let busy = true;
      const indexer = new SearchIndexer(database, { busy: () => busy, pollMs: 20, maxWaitMs: 60_000 });
      started.push(indexer);
      await indexer.catchUp();
      await write([say('ix-d', 'while busy')]);
      indexer.start();
      // Busy: the schedule checks every 10 ms and steps aside each time.
      const markWhileBusy = await mark();
      await quietPeriod(150, 'fifteen checks of a busy writer: none may start a step');
      expect(await mark()).toBe(markWhileBusy);
      expect(await indexer.backlog()).toBe(1);
      busy = false;
      await until(async () => (await indexer.backlog()) === 0, 'the indexer to catch up once the writer is quiet');
    });

    it('alone on its database, looks again only when the count of stored messages moved', async () => {
      let stored = 0;
      const indexer = new SearchIndexer(database, { pollMs: 10, stored: () => stored });
      started.push(indexer);
      await indexer.catchUp();
      await write([say('ix-f', 'before the start')]);
      indexer.start();
      await until(async () => (await indexer.backlog()) === 0, 'the first look, which always runs');
      // A message the count does not know of (only another process could store it): not looked for.
      await write([say('ix-f', 'unannounced')]);
      await quietPeriod(150, 'fifteen polls with the count unchanged: none may step');
      expect(await indexer.backlog()).toBe(1);
      stored += 1;
      await until(async () => (await indexer.backlog()) === 0, 'a look once the count moved');
    });

    it('indexes a writer that is never quiet, one step every maxWaitMs', async () => {
      const indexer = new SearchIndexer(database, { busy: () => true, pollMs: 20, maxWaitMs: 50 });
      started.push(indexer);
      await indexer.catchUp();
      await write([say('ix-e', 'never quiet')]);
      indexer.start();
      await until(async () => (await indexer.backlog()) === 0, 'a step after maxWaitMs');
    });
  });
}
