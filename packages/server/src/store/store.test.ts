import { mkdtempSync, rmSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres } from '../../../../test/helpers/postgres-cluster.js';
import { storeBackends } from '../../../../test/helpers/store-backends.js';
import { openDatabase, type Database } from './database.js';
import { ClusterStore } from '../cluster/cluster-store.js';
import { KyselyMessageStore } from './kysely-message-store.js';
import type { NewMessage, StateWrite } from './message-store.js';
import { migrate, MIGRATIONS_DIR } from './migrator.js';
import { StoreError } from './store-error.js';
import { MessageSearch } from './message-search.js';
import { SearchIndexer } from './search-indexer.js';
import { mentionPattern } from './team-features-store.js';

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const postgres = await startPostgres();
afterAll(async () => {
  if ('stop' in postgres) await postgres.stop();
});

let pgliteDir: string | undefined;
const backends = storeBackends(postgres, () => (pgliteDir ??= join(tempDir('teamchat-store-'), 'data')));

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5, 678);

function roomMsg(room: string, nick: string, text: string, ts = T0, action = false): NewMessage {
  return { kind: 'room', room, nick, text, action, ts };
}
/** A private message between two accounts: their owners are their nick keys (see migrations/004). */
function pm(from: string, to: string, text: string, ts = T0): NewMessage {
  return { kind: 'pm', from, to, fromOwner: from.toLowerCase(), toOwner: to.toLowerCase(), text, action: false, ts };
}
async function expectStoreError(promise: Promise<unknown>, code: string): Promise<StoreError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  expect((err as StoreError).code).toBe(code);
  return err as StoreError;
}

for (const backend of backends) {
  const title = backend.skip
    ? `KyselyMessageStore on ${backend.name} (skipped: ${backend.skip})`
    : `KyselyMessageStore on ${backend.name}`;

  describe.skipIf(backend.skip !== undefined)(title, () => {
    let database: Database;
    let store: KyselyMessageStore;

    beforeAll(async () => {
      database = await openDatabase(backend.config());
      await migrate(database);
      store = new KyselyMessageStore(database);
    });
    afterAll(async () => {
      await database?.close();
    });

    it('applies migrations once: running them again applies nothing', async () => {
      const again = await migrate(database);
      expect(again.applied).toEqual([]);
      await store.ping();
    });

    it('applies only new migration files, in order, and rolls back a failing one', async () => {
      const dir = tempDir('teamchat-migrations-');
      for (const file of readdirSync(MIGRATIONS_DIR)) copyFileSync(join(MIGRATIONS_DIR, file), join(dir, file));
      const suffix = backend.name.toLowerCase();
      writeFileSync(
        join(dir, `901_probe_${suffix}.sql`),
        `CREATE TABLE probe_${suffix} (x int);\nINSERT INTO probe_${suffix} VALUES (1), (2);`,
      );
      expect((await migrate(database, dir)).applied).toEqual([`901_probe_${suffix}`]);
      expect((await migrate(database, dir)).applied).toEqual([]);

      writeFileSync(join(dir, `902_broken_${suffix}.sql`), `CREATE TABLE half_${suffix} (x int);\nSELEC nonsense;`);
      await expectStoreError(migrate(database, dir), 'TC_STORE_MIGRATION_FAILED');
      // The failed file left nothing behind and is retried (and fails again) next time.
      const tables = await database.kysely
        .selectFrom('information_schema.tables')
        .select('table_name')
        .where('table_name', 'in', [`probe_${suffix}`, `half_${suffix}`])
        .execute();
      expect(tables.map((t) => t.table_name)).toEqual([`probe_${suffix}`]);
      await expectStoreError(migrate(database, dir), 'TC_STORE_MIGRATION_FAILED');

      const badNames = tempDir('teamchat-migrations-');
      writeFileSync(join(badNames, 'add-things.sql'), 'SELECT 1;');
      await expectStoreError(migrate(database, badNames), 'TC_STORE_MIGRATION_FAILED');
    });

    it('stores room and private messages and reads them back exactly', async () => {
      const texts = ['hello', 'a,b', '{x}', '"quoted"', 'back\\slash', 'NULL', '', 'emoji 🎉 é', 'two\nlines', "it's"];
      const messages = texts.map((text, i) => roomMsg('rt-read', i % 2 ? 'Ann' : 'bob', text, T0 + i, i === 3));
      messages.push(pm('Ann', 'Bob', 'psst {,"\\}', T0 + 100));
      const { ids: ids } = await store.writeBatch({ messages, state: [{ op: 'room', room: 'rt-read', ts: T0 }] });
      expect(ids).toHaveLength(messages.length);

      const page = await store.roomHistory('rt-read', { limit: 50 });
      expect(page).toEqual(
        texts.map((text, i) => ({
          id: ids[i],
          ts: T0 + i,
          room: 'rt-read',
          nick: i % 2 ? 'Ann' : 'bob',
          text,
          ...(i === 3 ? { action: true } : {}),
        })),
      );
      expect(await store.privateHistory('ann', { limit: 10 })).toEqual([
        { id: ids[texts.length], ts: T0 + 100, from: 'Ann', to: 'Bob', text: 'psst {,"\\}' },
      ]);
    });

    it('returns ids that increase, in input order, for a batch of thousands of messages', async () => {
      const n = 3000;
      const messages = Array.from({ length: n }, (_, i) =>
        i % 7 === 0
          ? pm(`u${i % 5}`, `u${(i + 1) % 5}`, `order ${i}`, T0 + i)
          : roomMsg(`order-${i % 3}`, 'ann', `order ${i}`, T0 + i),
      );
      const { ids: ids } = await store.writeBatch({ messages, state: [] });
      expect(ids).toHaveLength(n);
      for (let i = 1; i < n; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]);

      const byId = new Map<number, string>();
      for (const room of ['order-0', 'order-1', 'order-2']) {
        for (const m of await store.roomHistory(room, { limit: 5000 })) byId.set(m.id, m.text);
      }
      for (let u = 0; u < 5; u++) {
        for (const m of await store.privateHistory(`u${u}`, { limit: 5000 })) byId.set(m.id, m.text);
      }
      ids.forEach((id, i) => expect(byId.get(id)).toBe(`order ${i}`));

      const { ids: more } = await store.writeBatch({ messages: [roomMsg('order-0', 'ann', 'later')], state: [] });
      expect(more[0]).toBeGreaterThan(ids[n - 1]);
    });

    it('pages through room history by id with no gaps or duplicates', async () => {
      const messages: NewMessage[] = [];
      for (let i = 0; i < 120; i++) {
        messages.push(roomMsg('paging', 'ann', `p${i}`, T0 + i));
        if (i % 3 === 0) messages.push(roomMsg('paging-other', 'bob', `o${i}`, T0 + i));
      }
      const { ids: ids } = await store.writeBatch({ messages, state: [] });
      const expected = ids.filter(
        (_, i) => messages[i].kind === 'room' && (messages[i] as { room: string }).room === 'paging',
      );
      expect(expected).toHaveLength(120);

      const latest = await store.roomHistory('paging', { limit: 25 });
      expect(latest.map((m) => m.id)).toEqual(expected.slice(-25));

      const backwards: number[] = [];
      let before: number | undefined;
      for (;;) {
        const page = await store.roomHistory('paging', { limit: 25, ...(before !== undefined ? { before } : {}) });
        if (page.length === 0) break;
        expect(page.map((m) => m.id)).toEqual([...page.map((m) => m.id)].sort((a, b) => a - b));
        backwards.unshift(...page.map((m) => m.id));
        before = page[0].id;
      }
      expect(backwards).toEqual(expected);

      const forwards: number[] = [];
      let after = 0;
      for (;;) {
        const page = await store.roomHistory('paging', { limit: 25, after });
        if (page.length === 0) break;
        forwards.push(...page.map((m) => m.id));
        after = page[page.length - 1].id;
      }
      expect(forwards).toEqual(expected);

      const window = await store.roomHistory('paging', { after: expected[10], before: expected[20], limit: 100 });
      expect(window.map((m) => m.id)).toEqual(expected.slice(11, 20));
      expect(await store.roomHistory('paging', { limit: 0 })).toEqual([]);
      expect(await store.roomHistory('no-such-room', { limit: 10 })).toEqual([]);
    });

    it('pages room history by time: before, after and between two times, exclusive', async () => {
      const messages: NewMessage[] = [];
      for (let i = 0; i < 10; i++) messages.push(roomMsg('by-time', 'ann', `t${i}`, T0 + i * 1000));
      const { ids } = await store.writeBatch({ messages, state: [] });
      const at = (i: number) => T0 + i * 1000;
      expect((await store.roomHistory('by-time', { beforeTs: at(6), limit: 2 })).map((m) => m.id)).toEqual(
        ids.slice(4, 6),
      );
      expect((await store.roomHistory('by-time', { afterTs: at(3), limit: 3 })).map((m) => m.id)).toEqual(
        ids.slice(4, 7),
      );
      expect(
        (await store.roomHistory('by-time', { afterTs: at(0), beforeTs: at(9), limit: 50 })).map((m) => m.id),
      ).toEqual(ids.slice(1, 9));
      expect(await store.roomHistory('by-time', { beforeTs: at(0), limit: 5 })).toEqual([]);
    });

    it('keeps private messages private: a nick sees only its own conversations', async () => {
      const { ids: ids } = await store.writeBatch({
        messages: [
          pm('Alice', 'Bob', 'a->b 1', T0 + 1),
          pm('Bob', 'alice', 'b->a', T0 + 2),
          pm('Carol', 'Dave', 'c->d secret', T0 + 3),
          pm('alice', 'Carol', 'a->c', T0 + 4),
          roomMsg('pm-room', 'Alice', 'in a room', T0 + 5),
          pm('Alice', 'Alice', 'note to self', T0 + 6),
        ],
        state: [],
      });
      const alice = await store.privateHistory('alice', { limit: 50 });
      expect(alice.map((m) => m.text)).toEqual(['a->b 1', 'b->a', 'a->c', 'note to self']);
      expect(alice.map((m) => m.id)).toEqual([ids[0], ids[1], ids[3], ids[5]]);
      expect(alice[1]).toMatchObject({ from: 'Bob', to: 'alice' });

      expect((await store.privateHistory('bob', { limit: 50, peer: 'ALICE' })).map((m) => m.text)).toEqual([
        'a->b 1',
        'b->a',
      ]);
      expect((await store.privateHistory('alice', { limit: 50, peer: 'dave' })).map((m) => m.text)).toEqual([]);
      expect(await store.privateHistory('erin', { limit: 50 })).toEqual([]);
      expect((await store.privateHistory('dave', { limit: 50 })).map((m) => m.text)).toEqual(['c->d secret']);

      // Paging both ways over the union of sent and received.
      expect((await store.privateHistory('alice', { limit: 2 })).map((m) => m.text)).toEqual(['a->c', 'note to self']);
      expect((await store.privateHistory('alice', { limit: 2, before: ids[3] })).map((m) => m.text)).toEqual([
        'a->b 1',
        'b->a',
      ]);
      expect((await store.privateHistory('alice', { limit: 2, after: ids[0] })).map((m) => m.text)).toEqual([
        'b->a',
        'a->c',
      ]);
    });

    it('returns the latest n messages of every room in the snapshot, oldest first', async () => {
      const messages: NewMessage[] = [];
      for (let i = 0; i < 10; i++) messages.push(roomMsg('snap-busy', 'ann', `busy ${i}`, T0 + i));
      for (let i = 0; i < 3; i++) messages.push(roomMsg('snap-quiet', 'bob', `quiet ${i}`, T0 + i));
      messages.push(pm('ann', 'bob', 'not in any room'));
      await store.writeBatch({
        messages,
        state: [
          { op: 'room', room: 'snap-busy', ts: T0 },
          { op: 'room', room: 'snap-quiet', ts: T0 },
          { op: 'room', room: 'snap-empty', ts: T0 },
        ],
      });
      const snapshot = await store.loadSnapshot(5);
      const texts = (room: string) => snapshot.recent.filter((m) => m.room === room).map((m) => m.text);
      expect(texts('snap-busy')).toEqual(['busy 5', 'busy 6', 'busy 7', 'busy 8', 'busy 9']);
      expect(texts('snap-quiet')).toEqual(['quiet 0', 'quiet 1', 'quiet 2']);
      expect(texts('snap-empty')).toEqual([]);
      expect(snapshot.recent.some((m) => m.text === 'not in any room')).toBe(false);
      expect(snapshot.rooms.find((r) => r.name === 'snap-empty')).toEqual({
        name: 'snap-empty',
        topic: null,
        topicBy: null,
        createdAt: T0,
      });
      expect((await store.loadSnapshot(0)).recent).toEqual([]);
    });

    it('keeps memberships, renames and topics across close and reopen', async () => {
      await store.writeBatch({
        messages: [],
        state: [
          { op: 'user', nick: 'Ann', ts: T0 },
          { op: 'membership-add', nick: 'ann', room: 'm-a', ts: T0 },
          { op: 'membership-add', nick: 'ann', room: 'm-b', ts: T0 },
          { op: 'membership-add', nick: 'bob', room: 'm-b', ts: T0 },
          { op: 'membership-add', nick: 'bob', room: 'm-c', ts: T0 },
          { op: 'membership-add', nick: 'cy', room: 'm-a', ts: T0 },
          { op: 'membership-add', nick: 'cy', room: 'm-a', ts: T0 + 1 },
          { op: 'topic', room: 'm-a', topic: 'plans', by: 'Ann', ts: T0 + 2 },
          { op: 'topic', room: 'm-b', topic: 'old', by: 'Bob', ts: T0 + 2 },
          { op: 'topic', room: 'm-b', topic: null, by: 'Bob', ts: T0 + 3 },
        ],
      });
      // In one batch, in order: ann merges into bob, cy leaves, bob's case-only rename moves nothing.
      await store.writeBatch({
        messages: [roomMsg('m-a', 'Ann', 'before the rename')],
        state: [
          { op: 'membership-rename', from: 'ann', to: 'bob' },
          { op: 'membership-remove', nick: 'cy', room: 'm-a' },
          { op: 'membership-rename', from: 'bob', to: 'BOB' },
        ],
      });

      await database.close();
      database = await openDatabase(backend.config());
      await migrate(database);
      store = new KyselyMessageStore(database);

      const snapshot = await store.loadSnapshot(5);
      const mine = snapshot.memberships.filter((m) => m.room.startsWith('m-'));
      expect(mine).toEqual([
        { nick: 'bob', room: 'm-a' },
        { nick: 'bob', room: 'm-b' },
        { nick: 'bob', room: 'm-c' },
      ]);
      expect(snapshot.rooms.filter((r) => r.name.startsWith('m-'))).toEqual([
        { name: 'm-a', topic: 'plans', topicBy: 'Ann', createdAt: T0 },
        { name: 'm-b', topic: null, topicBy: null, createdAt: T0 },
        { name: 'm-c', topic: null, topicBy: null, createdAt: T0 },
      ]);
      expect(snapshot.recent.filter((m) => m.room === 'm-a').map((m) => m.text)).toEqual(['before the rename']);
      const users = await database.kysely
        .selectFrom('users')
        .select(['nick_key', 'nick'])
        .where('nick_key', '=', 'ann')
        .execute();
      expect(users).toEqual([{ nick_key: 'ann', nick: 'Ann' }]);
    });

    it('reads private history by owner: a later holder of the nick sees nothing, and an owner rename moves everything', async () => {
      await store.writeBatch({
        messages: [
          {
            kind: 'pm',
            from: 'kim',
            to: 'lee',
            fromOwner: '~00000000000000aa',
            toOwner: 'lee',
            text: 'from the first kim',
            action: false,
            ts: T0,
          },
          {
            kind: 'pm',
            from: 'lee',
            to: 'kim',
            fromOwner: 'lee',
            toOwner: '~00000000000000aa',
            text: 'to the first kim',
            action: false,
            ts: T0 + 1,
          },
        ],
        state: [
          { op: 'identity', id: '00000000000000aa', secretHash: 'ab'.repeat(32), ts: T0 },
          { op: 'room', room: 'kims-room', ts: T0, creator: '~00000000000000aa' },
          { op: 'membership-add', nick: '~00000000000000aa', room: 'kims-room', ts: T0 },
          { op: 'invite', room: 'kims-room', nick: '~00000000000000aa', by: 'lee', ts: T0 },
        ],
      });
      expect(await store.identitySecret('00000000000000aa')).toBe('ab'.repeat(32));
      expect(await store.identitySecret('00000000000000bb')).toBeNull();
      // The nick string alone (a stranger who is now "kim") owns nothing.
      expect(await store.privateHistory('kim', { limit: 10 })).toEqual([]);
      expect((await store.privateHistory('~00000000000000aa', { limit: 10 })).map((m) => m.text)).toEqual([
        'from the first kim',
        'to the first kim',
      ]);
      expect((await store.privateHistory('lee', { limit: 10, peer: 'KIM' })).map((m) => m.text)).toEqual([
        'from the first kim',
        'to the first kim',
      ]);

      // kim registers: everything the identity owned passes to the account.
      await store.writeBatch({ messages: [], state: [{ op: 'owner-rename', from: '~00000000000000aa', to: 'kim' }] });
      expect((await store.privateHistory('kim', { limit: 10 })).map((m) => m.text)).toEqual([
        'from the first kim',
        'to the first kim',
      ]);
      expect(await store.privateHistory('~00000000000000aa', { limit: 10 })).toEqual([]);
      const room = await store.loadRoom('kims-room', 10);
      expect(room).toMatchObject({ room: { name: 'kims-room', creator: 'kim' }, invites: ['kim'], recent: [] });
      expect((await store.loadSnapshot(0)).memberships).toContainEqual({ nick: 'kim', room: 'kims-room' });
      expect(await store.loadRoom('never-created', 10)).toBeNull();
    });

    it('reserves blocks of consecutive ids that never overlap, even when asked for at the same time', async () => {
      const blocks = await Promise.all([store.reserveIds(5_000), store.reserveIds(3), store.reserveIds(20_000)]);
      for (const block of blocks) expect(block).toEqual(Array.from({ length: block.length }, (_, i) => block[0] + i));
      const all = blocks.flat().sort((a, b) => a - b);
      expect(new Set(all).size).toBe(all.length);
      // A later block starts above every id handed out before.
      const next = await store.reserveIds(1);
      expect(next[0]).toBeGreaterThan(all.at(-1)!);
    });

    it('numbers ordered (cluster) batches without gaps, ids in commit order even when writers race', async () => {
      const write = (text: string) =>
        store.writeBatch(
          { messages: [roomMsg('ordered', 'ann', text), roomMsg('ordered', 'bob', `${text}'`)], state: [] },
          { ordered: true },
        );
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => write(`w${i}`)));
      const byBatch = [...results].sort((a, b) => a.batch! - b.batch!);
      const first = byBatch[0].batch!;
      expect(byBatch.map((r) => r.batch)).toEqual(Array.from({ length: 8 }, (_, i) => first + i));
      // A later batch holds only higher ids: the id order is the commit order.
      const ids = byBatch.flatMap((r) => r.ids);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      const cluster = new ClusterStore(database, 'test:1', 'test');
      expect(await cluster.streamHead()).toBe(byBatch.at(-1)!.batch);
      const read = await cluster.batches(first, first + 1);
      expect([...read.keys()]).toEqual([first, first + 1]);
      expect(read.get(first)!.map((e) => ('message' in e ? e.message.message.id : 0))).toEqual(byBatch[0].ids);
    });

    it('stores a client id once per owner and answers a repeat with the stored id', async () => {
      const withCid = (text: string, cid: string, owner = 'cid-owner'): NewMessage => ({
        kind: 'room',
        room: 'cids',
        nick: 'ann',
        text,
        action: false,
        ts: T0,
        owner,
        cid,
      });
      const first = await store.writeBatch({ messages: [withCid('one', 'c-1'), withCid('two', 'c-2')], state: [] });
      expect(first.repeated).toEqual([]);
      const again = await store.writeBatch({
        messages: [
          withCid('one again', 'c-1'),
          withCid('three', 'c-3'),
          withCid('other owner', 'c-1', 'someone-else'),
          withCid('three twice', 'c-3'),
        ],
        state: [],
      });
      expect(again.repeated).toEqual([0, 3]);
      expect(again.ids[0]).toBe(first.ids[0]);
      expect(again.ids[3]).toBe(again.ids[1]);
      const history = await store.roomHistory('cids', { limit: 10 });
      expect(history.map((m) => m.text)).toEqual(['one', 'two', 'three', 'other owner']);
    });

    it('gives a nick to one node only, and back to the same owner or after its node is gone', async () => {
      const a = new ClusterStore(database, 'a:1', 'a', 60_000);
      const b = new ClusterStore(database, 'b:1', 'b', 60_000);
      await a.register();
      await b.register();
      expect(await Promise.all([a.claimNick('zoe', 'Zoe', '~z1'), b.claimNick('zoe', 'Zoe', '~z2')])).toEqual(
        expect.arrayContaining([true, false]),
      );
      const holder = (await a.snapshot()).users.find((u) => u.key === 'zoe')!;
      const same = holder.instance === 'a:1' ? b : a;
      // The same owner may take it over (a reconnect after its node died); a stranger may not.
      expect(await same.claimNick('zoe', 'Zoe', holder.owner)).toBe(true);
      expect(await a.claimNick('zoe', 'Zoe', '~stranger')).toBe(false);
      await store.writeBatch({ messages: [], state: [{ op: 'nick-release', key: 'zoe', instance: same.instance }] });
      expect(await a.claimNick('zoe', 'Zoe', '~stranger')).toBe(true);
    });

    it('edits in place, deletes to a tombstone without text, keeps reactions per owner, threads replies', async () => {
      const owned = (text: string, owner: string, nick: string, replyTo?: number): NewMessage => ({
        kind: 'room',
        room: 'tf',
        nick,
        owner,
        text,
        action: false,
        ts: T0,
        ...(replyTo ? { replyTo } : {}),
      });
      const {
        ids: [root],
      } = await store.writeBatch({ messages: [owned('root', 'ann', 'ann')], state: [] });
      const {
        ids: [reply, secret],
      } = await store.writeBatch({
        messages: [owned('a reply', 'bob', 'bob', root), owned('a secret', 'ann', 'ann')],
        state: [],
      });
      await store.writeBatch({
        messages: [],
        state: [
          { op: 'edit', id: root, text: 'root, edited', ts: T0 + 1 },
          { op: 'react', id: root, emoji: '👍', owner: 'bob', nick: 'bob', add: true, ts: T0 + 2 },
          { op: 'react', id: root, emoji: '👍', owner: 'cat', nick: 'cat', add: true, ts: T0 + 3 },
          { op: 'react', id: root, emoji: '👍', owner: 'cat', nick: 'cat', add: true, ts: T0 + 4 },
          { op: 'react', id: root, emoji: '🎉', owner: 'bob', nick: 'bob', add: true, ts: T0 + 5 },
          { op: 'react', id: root, emoji: '🎉', owner: 'bob', nick: 'bob', add: false, ts: T0 + 6 },
          { op: 'delete', id: secret, ts: T0 + 7 },
        ],
      });
      const page = await store.roomHistory('tf', { limit: 10 });
      expect(page).toEqual([
        {
          id: root,
          ts: T0,
          room: 'tf',
          nick: 'ann',
          text: 'root, edited',
          edited: T0 + 1,
          reactions: { '👍': ['bob', 'cat'] },
        },
        { id: reply, ts: T0, room: 'tf', nick: 'bob', text: 'a reply', replyTo: root },
        { id: secret, ts: T0, room: 'tf', nick: 'ann', text: '', deleted: true },
      ]);
      expect((await store.roomHistory('tf', { limit: 10, thread: root })).map((m) => m.id)).toEqual([root, reply]);
      const info = await store.messageInfo(root);
      expect(info).toMatchObject({ room: 'tf', owner: 'ann', deleted: false, reactions: { '👍': ['bob', 'cat'] } });
      expect((await store.messageInfo(secret))?.deleted).toBe(true);
    });

    it('moves read markers only forward and counts unread and mentions after them', async () => {
      const by = (text: string): NewMessage => ({
        kind: 'room',
        room: 'marks',
        nick: 'zed',
        owner: 'zed',
        text,
        action: false,
        ts: T0,
      });
      const { ids } = await store.writeBatch({
        messages: [by('hello'), by('Kim: look'), by('@room standup'), by('kimberly said hi'), by('fine')],
        state: [],
      });
      expect(await store.unreadCounts('kim', 'kim', ['marks', 'empty-room'])).toEqual({
        marks: { unread: 5, mentions: 2, marker: 0 },
        'empty-room': { unread: 0, mentions: 0, marker: 0 },
      });
      await store.writeBatch({
        messages: [],
        state: [{ op: 'marker', owner: 'kim', conversation: 'marks', id: ids[1], ts: T0 }],
      });
      await store.writeBatch({
        messages: [],
        state: [{ op: 'marker', owner: 'kim', conversation: 'marks', id: ids[0], ts: T0 }],
      });
      expect((await store.unreadCounts('kim', 'kim', ['marks'])).marks).toEqual({
        unread: 3,
        mentions: 1,
        marker: ids[1],
      });
      // The owner's own messages are never unread, and never mention them.
      expect((await store.unreadCounts('zed', 'zed', ['marks'])).marks.unread).toBe(0);
      expect((await store.mentions('kim', 'kim', ['marks'], undefined, 10)).map((m) => m.text)).toEqual([
        'Kim: look',
        '@room standup',
      ]);
    });

    it('counts unread private messages per conversation after its marker, newest conversation first', async () => {
      const { ids } = await store.writeBatch({
        messages: [
          pm('Quinn', 'pat', 'one'),
          pm('Quinn', 'pat', 'two'),
          pm('rob', 'pat', 'from rob'),
          pm('pat', 'quinn', 'my reply is not unread'),
          pm('pat', 'pat', 'a note to myself is not unread'),
          pm('rob', 'pat', 'deleted, so not unread'),
          pm('quinn', 'pat', 'three, under a new case'),
          pm('rob', 'someone-else', 'not to pat'),
        ],
        state: [],
      });
      await store.writeBatch({ messages: [], state: [{ op: 'delete', id: ids[5], ts: T0 }] });
      expect(await store.pmUnreadCounts('pat', 50)).toEqual({
        quinn: { unread: 3, mentions: 3, marker: 0 },
        rob: { unread: 1, mentions: 1, marker: 0 },
      });
      expect(Object.keys(await store.pmUnreadCounts('pat', 50))).toEqual(['quinn', 'rob']);
      expect(Object.keys(await store.pmUnreadCounts('pat', 1))).toEqual(['quinn']);

      await store.writeBatch({
        messages: [],
        state: [
          { op: 'marker', owner: 'pat', conversation: '@quinn', id: ids[1], ts: T0 },
          { op: 'marker', owner: 'pat', conversation: '@rob', id: ids[2], ts: T0 },
        ],
      });
      // Read up to rob's last one: that conversation is no longer listed.
      expect(await store.pmUnreadCounts('pat', 50)).toEqual({ quinn: { unread: 1, mentions: 1, marker: ids[1] } });
      expect(await store.pmUnreadCounts('nobody', 50)).toEqual({});
      expect(await store.pmUnreadCounts('pat', 0)).toEqual({});
    });

    it('counts and lists mentions of highlight words, also of messages sent while the owner was away', async () => {
      const by = (text: string): NewMessage => ({
        kind: 'room',
        room: 'hl',
        nick: 'zed',
        owner: 'zed',
        text,
        action: false,
        ts: T0,
      });
      // Sent before Hal ever set a word or connected.
      await store.writeBatch({
        messages: [
          by('the deploy is done'),
          by('redeploy now'),
          by('ON-CALL: please look'),
          by('deploy-2026 is a tag, not the word'),
          by('nothing here'),
          by('a.b is not a highlight word'),
        ],
        state: [],
      });
      expect(await store.highlightWords('hal')).toEqual([]);
      expect((await store.unreadCounts('hal', 'hal', ['hl'])).hl).toMatchObject({ unread: 6, mentions: 0 });

      await store.writeBatch({
        messages: [],
        state: [{ op: 'highlights', owner: 'hal', words: ['deploy', 'on-call'], ts: T0 }],
      });
      expect(await store.highlightWords('hal')).toEqual(['deploy', 'on-call']);
      expect((await store.unreadCounts('hal', 'hal', ['hl'])).hl).toMatchObject({ unread: 6, mentions: 2 });
      expect((await store.mentions('hal', 'hal', ['hl'], undefined, 10)).map((m) => m.text)).toEqual([
        'the deploy is done',
        'ON-CALL: please look',
      ]);
      // Someone else's words are not Hal's.
      expect((await store.unreadCounts('ivy', 'ivy', ['hl'])).hl.mentions).toBe(0);

      // A new list replaces the old one; an empty one removes them.
      await store.writeBatch({ messages: [], state: [{ op: 'highlights', owner: 'hal', words: ['nothing'], ts: T0 }] });
      expect((await store.mentions('hal', 'hal', ['hl'], undefined, 10)).map((m) => m.text)).toEqual(['nothing here']);
      await store.writeBatch({ messages: [], state: [{ op: 'highlights', owner: 'hal', words: [], ts: T0 }] });
      expect(await store.highlightWords('hal')).toEqual([]);
      expect((await store.unreadCounts('hal', 'hal', ['hl'])).hl.mentions).toBe(0);
    });

    it('refuses highlight words that are not plain words, so a pattern is never built from them', async () => {
      for (const words of [['a.b'], ['(x|y)'], ['x'.repeat(33)], Array.from({ length: 17 }, (_, i) => `w${i}`)]) {
        await expectStoreError(
          store.writeBatch({ messages: [], state: [{ op: 'highlights', owner: 'hal2', words, ts: T0 }] }),
          'TC_STORE_BAD_INPUT',
        );
      }
      expect(await store.highlightWords('hal2')).toEqual([]);
      // Built from whatever reaches it, the pattern keeps only plain words, as literals.
      expect(mentionPattern('kim', ['on-call', 'a.*', '(x|y)', ')'])).toBe(
        '(^|[^A-Za-z0-9_-])(@?(kim|on\\-call)|@room|@all|@here)([^A-Za-z0-9_-]|$)',
      );
    });

    it('passes highlight words on when an identity becomes an account', async () => {
      await store.writeBatch({
        messages: [],
        state: [{ op: 'highlights', owner: '~ident-hw', words: ['standup'], ts: T0 }],
      });
      await store.writeBatch({ messages: [], state: [{ op: 'owner-rename', from: '~ident-hw', to: 'newacct' }] });
      expect(await store.highlightWords('newacct')).toEqual(['standup']);
      expect(await store.highlightWords('~ident-hw')).toEqual([]);
    });

    it('passes read markers, reactions and searchable private messages on when an identity becomes an account', async () => {
      const ident = '~ident-mv';
      const toIdent: NewMessage = {
        kind: 'pm',
        from: 'lee',
        to: 'mova',
        fromOwner: 'lee',
        toOwner: ident,
        text: 'quokkaword for the identity',
        action: false,
        ts: T0,
      };
      const {
        ids: [roomId, pmId],
      } = await store.writeBatch({
        messages: [roomMsg('mv-room', 'lee', 'read me', T0), toIdent],
        state: [],
      });
      await store.writeBatch({
        messages: [],
        state: [
          { op: 'marker', owner: ident, conversation: 'mv-room', id: roomId, ts: T0 },
          { op: 'react', id: roomId, emoji: '👍', owner: ident, nick: 'mova', add: true, ts: T0 },
        ],
      });
      // The private message is in the search index before the rename (the indexer's copy must follow).
      await new SearchIndexer(database).catchUp();
      await store.writeBatch({ messages: [], state: [{ op: 'owner-rename', from: ident, to: 'mova' }] });

      expect((await store.unreadCounts('mova', 'mova', ['mv-room']))['mv-room']).toMatchObject({ marker: roomId });
      expect(await store.unreadCounts(ident, 'mova', ['mv-room'])).toMatchObject({ 'mv-room': { marker: 0 } });
      const reacted = await database.kysely
        .selectFrom('message_reactions')
        .select(['owner'])
        .where('message_id', '=', roomId)
        .execute();
      expect(reacted).toEqual([{ owner: 'mova' }]);
      // No walk of the newest messages (which reads their owners from `messages`): the index answers.
      const search = new MessageSearch(database, { plan: { recentWindow: 0 } });
      const found = await search.search({ owner: 'mova', rooms: [], q: 'quokkaword', limit: 5 });
      expect(found.results.map((r) => r.id)).toEqual([pmId]);
      expect((await search.search({ owner: ident, rooms: [], q: 'quokkaword', limit: 5 })).results).toEqual([]);
    });

    it('reads one room back with its latest messages, oldest first', async () => {
      const messages: NewMessage[] = [];
      for (let i = 0; i < 8; i++) messages.push(roomMsg('load-me', 'ann', `m ${i}`, T0 + i));
      await store.writeBatch({
        messages,
        state: [
          { op: 'room', room: 'load-me', ts: T0 },
          { op: 'topic', room: 'load-me', topic: 'kept', by: 'ann', ts: T0 },
        ],
      });
      const loaded = await store.loadRoom('load-me', 3);
      expect(loaded?.room).toMatchObject({ name: 'load-me', topic: 'kept', topicBy: 'ann' });
      expect(loaded?.recent.map((m) => m.text)).toEqual(['m 5', 'm 6', 'm 7']);
    });

    it('applies a burst of state writes in order, with the same result as one by one', async () => {
      const state: StateWrite[] = [];
      for (let i = 0; i < 300; i++)
        state.push({ op: 'membership-add', nick: `Burst${i}`, room: `burst-${i % 4}`, ts: T0 + i });
      state.push({ op: 'membership-add', nick: 'burst0', room: 'burst-0', ts: T0 });
      for (let i = 0; i < 300; i += 2)
        state.push({ op: 'membership-remove', nick: `burst${i}`, room: `burst-${i % 4}` });
      state.push({ op: 'membership-add', nick: 'burst0', room: 'burst-0', ts: T0 + 1000 });
      state.push(
        { op: 'user', nick: 'burster', ts: T0 },
        { op: 'user', nick: 'Burster', ts: T0 + 1 },
        { op: 'user', nick: 'BURSTER', ts: T0 + 2 },
      );
      state.push({ op: 'room', room: 'burst-x', ts: T0 }, { op: 'room', room: 'burst-x', ts: T0 + 5 });
      await store.writeBatch({ messages: [], state });

      const snapshot = await store.loadSnapshot(0);
      const members = snapshot.memberships.filter((m) => m.room.startsWith('burst-'));
      const expected = [{ nick: 'burst0', room: 'burst-0' }];
      for (let i = 1; i < 300; i += 2) expected.push({ nick: `burst${i}`, room: `burst-${i % 4}` });
      const order = (a: { nick: string; room: string }, b: { nick: string; room: string }) =>
        a.room === b.room ? (a.nick < b.nick ? -1 : 1) : a.room < b.room ? -1 : 1;
      expect(members).toEqual(expected.sort(order));
      expect(snapshot.rooms.find((r) => r.name === 'burst-x')?.createdAt).toBe(T0);
      const users = await database.kysely
        .selectFrom('users')
        .select('nick')
        .where('nick_key', '=', 'burster')
        .execute();
      expect(users).toEqual([{ nick: 'BURSTER' }]);
    });

    it('rejects text with a NUL character and stores nothing of that batch', async () => {
      const err = await expectStoreError(
        store.writeBatch({
          messages: [roomMsg('nul-room', 'ann', 'fine'), roomMsg('nul-room', 'ann', 'bad\u0000byte')],
          state: [{ op: 'membership-add', nick: 'ann', room: 'nul-room', ts: T0 }],
        }),
        'TC_STORE_BAD_INPUT',
      );
      expect(err.message).toMatch(/messages\[1\]\.text contains a NUL/);
      expect(await store.roomHistory('nul-room', { limit: 10 })).toEqual([]);
      expect((await store.loadSnapshot(1)).memberships.some((m) => m.room === 'nul-room')).toBe(false);

      await expectStoreError(
        store.writeBatch({ messages: [roomMsg('r', 'ann', 'x', Number.NaN)], state: [] }),
        'TC_STORE_BAD_INPUT',
      );
      await expectStoreError(
        store.writeBatch({ messages: [], state: [{ op: 'explode' } as never] }),
        'TC_STORE_BAD_INPUT',
      );
      await expectStoreError(store.roomHistory('r', { limit: -1 }), 'TC_STORE_BAD_INPUT');
      await expectStoreError(store.privateHistory('ann', { limit: 1.5 }), 'TC_STORE_BAD_INPUT');
    });

    it('rolls back the messages of a batch whose state write fails in the database', async () => {
      // The store accepts any room name; the rooms primary key index rejects (incompressible) keys
      // above ~2.7 kB, which makes the second statement of the transaction fail.
      const hugeRoom = `r${randomBytes(6000).toString('hex')}`;
      const failed = await store
        .writeBatch({
          messages: [roomMsg('rollback-room', 'ann', 'must not survive')],
          state: [{ op: 'membership-add', nick: 'ann', room: hugeRoom, ts: T0 }],
        })
        .then(
          () => false,
          () => true,
        );
      expect(failed).toBe(true);
      expect(await store.roomHistory('rollback-room', { limit: 10 })).toEqual([]);
      await store.ping();
    });
  });
}

describe.skipIf('skip' in postgres)('KyselyMessageStore on a Postgres server that restarts', () => {
  it('fails while the server is down and works again once it is back, without reopening', async () => {
    if ('skip' in postgres) return;
    const database = await openDatabase({ kind: 'postgres', url: postgres.url });
    try {
      await migrate(database);
      const store = new KyselyMessageStore(database);
      const {
        ids: [before],
      } = await store.writeBatch({ messages: [roomMsg('outage', 'ann', 'before')], state: [] });

      await postgres.stopServer();
      try {
        await expect(store.writeBatch({ messages: [roomMsg('outage', 'ann', 'during')], state: [] })).rejects.toThrow();
        await expect(store.ping()).rejects.toThrow();
      } finally {
        await postgres.startServer();
      }

      const {
        ids: [after],
      } = await store.writeBatch({ messages: [roomMsg('outage', 'ann', 'after')], state: [] });
      expect(after).toBeGreaterThan(before);
      expect((await store.roomHistory('outage', { limit: 10 })).map((m) => m.text)).toEqual(['before', 'after']);
    } finally {
      await database.close();
    }
  });
});

describe('openDatabase', () => {
  it('refuses a PGlite folder that is already open, and takes over the lock of a process that is gone', async () => {
    // The PGlite suite's folder (closed by now) when it ran: a new folder costs an initdb.
    const dataDir = pgliteDir ?? join(tempDir('teamchat-lock-'), 'nested', 'data');
    const first = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const err = await expectStoreError(openDatabase({ kind: 'pglite', dataDir }), 'TC_STORE_LOCKED');
      expect(err.message).toContain('only one process may open it');
    } finally {
      await first.close();
    }
    // A lock file left behind by a process that no longer exists does not block the next start.
    writeFileSync(join(dataDir, 'teamchat.lock'), '2147483646\n');
    const again = await openDatabase({ kind: 'pglite', dataDir });
    await new KyselyMessageStore(again).ping();
    await again.close();
    await expect(new KyselyMessageStore(again).ping()).rejects.toThrow();
  });

  it('describes a Postgres database without its password', async () => {
    const db = await openDatabase({
      kind: 'postgres',
      url: 'postgres://chat:s3cret-pw@db.example:6543/teamchat?sslmode=disable',
    });
    try {
      expect(db.description).toBe('postgres://chat@db.example:6543/teamchat');
      expect(db.description).not.toContain('s3cret');
    } finally {
      await db.close();
    }
  });

  it('rejects an unusable Postgres URL with a clear code', async () => {
    await expectStoreError(openDatabase({ kind: 'postgres', url: 'not a url' }), 'TC_STORE_BAD_CONFIG');
    await expectStoreError(openDatabase({ kind: 'postgres', url: 'mysql://x@y/z' }), 'TC_STORE_BAD_CONFIG');
  });
});
