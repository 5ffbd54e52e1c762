import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { suiteBackends } from '../../../../test/helpers/store-backends.js';
import { openDatabase, type Database } from './database.js';
import { KyselyMessageStore } from './kysely-message-store.js';
import type { NewMessage } from './message-store.js';
import {
  findMatches,
  MessageSearch,
  SEARCH_BACKLOG_WALK_MAX,
  SEARCH_PARTIAL_CURSOR,
  SEARCH_QUERY_MAX,
  SEARCH_KEYS_PARTS,
  SEARCH_KEYS_WORDS,
  SEARCH_SNIPPET_MAX,
  snippet,
  type SearchHit,
  type SearchQuery,
} from './message-search.js';
import { migrate } from './migrator.js';
import { SearchIndexer } from './search-indexer.js';
import { StoreError } from './store-error.js';

const backends = await suiteBackends('teamchat-search-');
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

/** A room message by an account (its owner is its nick key). */
function say(room: string, nick: string, text: string, ts = T0): NewMessage {
  return { kind: 'room', room, nick, owner: nick.toLowerCase(), text, action: false, ts };
}
function pm(from: string, to: string, text: string, ts = T0): NewMessage {
  return { kind: 'pm', from, to, fromOwner: from.toLowerCase(), toOwner: to.toLowerCase(), text, action: false, ts };
}
const texts = (hits: SearchHit[]) => hits.map((h) => h.text);
/** The highlighted parts of a hit's snippet. */
const marked = (hit: SearchHit) => hit.highlights.map(([s, e]) => hit.text.slice(s, e));

async function expectBadInput(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  expect((err as StoreError).code).toBe('TC_STORE_BAD_INPUT');
}

describe('snippet', () => {
  it('keeps a short text whole, with its highlights', () => {
    expect(snippet('deploy done', [[0, 6]])).toEqual({ text: 'deploy done', highlights: [[0, 6]] });
  });

  it('cuts a long text around the first match, marks the cuts and moves the highlights', () => {
    const text = `${'lorem ipsum '.repeat(30)}the NEEDLE is here ${'dolor sit '.repeat(30)}`;
    const at = text.indexOf('NEEDLE');
    const s = snippet(text, [[at, at + 6]]);
    expect(s.text.length).toBeLessThanOrEqual(SEARCH_SNIPPET_MAX);
    expect(s.text.startsWith('…')).toBe(true);
    expect(s.text.endsWith('…')).toBe(true);
    expect(s.highlights).toHaveLength(1);
    const [start, end] = s.highlights[0];
    expect(s.text.slice(start, end)).toBe('NEEDLE');
    // It starts at a word, not in the middle of one.
    expect(s.text.slice(1)).toMatch(/^(lorem|ipsum|the) /);
  });

  it('never splits a surrogate pair at a cut', () => {
    const text = '🎉'.repeat(150) + ' needle ' + '🎉'.repeat(150);
    const at = text.indexOf('needle');
    for (const shift of [0, 1, 2, 3]) {
      const s = snippet(text.slice(shift), [[at - shift, at - shift + 6]]);
      expect(s.text.length).toBeLessThanOrEqual(SEARCH_SNIPPET_MAX);
      // A lone surrogate would not survive a round trip through UTF-8.
      expect(Buffer.from(s.text, 'utf8').toString('utf8')).toBe(s.text);
      const [a, b] = s.highlights[0];
      expect(s.text.slice(a, b)).toBe('needle');
    }
  });

  it('finds words case-insensitively, prefers whole words, and merges overlaps', () => {
    expect(findMatches('Deploy the deployment: DEPLOY', ['deploy'], true)).toEqual([
      [0, 6],
      [23, 29],
    ]);
    expect(findMatches('redeploy', ['deploy'], true)).toEqual([[2, 8]]);
    expect(findMatches('getUserById', ['userby', 'ById'], false)).toEqual([[3, 11]]);
    expect(findMatches('Ärger über ÄRGER', ['ärger'], true)).toEqual([
      [0, 5],
      [11, 16],
    ]);
    // Regular-expression characters in the query stand for themselves.
    expect(findMatches('a (b) c.d [e]', ['(b)', 'c.d', '[e]'], false)).toEqual([
      [2, 5],
      [6, 9],
      [10, 13],
    ]);
  });
});

for (const backend of backends) {
  const title = backend.skip
    ? `MessageSearch on ${backend.name} (skipped: ${backend.skip})`
    : `MessageSearch on ${backend.name}`;

  describe.skipIf(backend.skip !== undefined)(title, () => {
    let database: Database;
    let store: KyselyMessageStore;
    let search: MessageSearch;
    /** The same search with tiny bounds, so that small tables take every step of the plan. */
    let stepwise: MessageSearch;
    /** And with the scope checked on the rows rather than asked of the index. */
    let stepwiseByRow: MessageSearch;
    /** Fills the index (the server runs it on a schedule; here, when a test says so). */
    let indexer: SearchIndexer;
    /** Whether the database folds case beyond ASCII (a C-locale Postgres does not). */
    let foldsUnicode = false;

    beforeAll(async () => {
      database = await openDatabase(backend.config());
      await migrate(database);
      store = new KyselyMessageStore(database);
      search = new MessageSearch(database);
      indexer = new SearchIndexer(database, { chunk: 7 });
      stepwise = new MessageSearch(database, {
        plan: { recentWindow: 2, probeCap: 2, indexCap: 3, blocksPerStep: 2 },
      });
      stepwiseByRow = new MessageSearch(database, {
        plan: { recentWindow: 2, probeCap: 3, indexCap: 3, blocksPerStep: 2, indexedScopeMax: 0 },
      });
      const folded = await sql<{ ok: boolean }>`SELECT lower('É') = 'é' AS ok`.execute(database.kysely);
      foldsUnicode = folded.rows[0].ok;
    });
    afterAll(async () => {
      await database?.close();
    });

    async function write(messages: NewMessage[]): Promise<number[]> {
      return (await store.writeBatch({ messages, state: [] })).ids;
    }
    /**
     * Ann's search: an account in `rooms`. The same answer before the indexer has run (messages
     * above its mark are walked) and after, and from every step of the plan.
     */
    async function find(rooms: string[], q: string, more: Partial<SearchQuery> = {}) {
      const query: SearchQuery = { owner: 'ann', rooms, q, limit: 20, ...more };
      const walked = await stepwise.search(query);
      await indexer.catchUp();
      expect(await indexer.backlog()).toBe(0);
      const page = await search.search(query);
      expect(page).toEqual(walked);
      expect(await stepwise.search(query)).toEqual(page);
      expect(await stepwiseByRow.search(query)).toEqual(page);
      return page;
    }

    it('finds whole words, case-insensitively, newest first, with highlights', async () => {
      const ids = await write([
        say('w-ops', 'Bob', 'the Deploy went fine', T0 + 1),
        say('w-ops', 'Cid', 'nothing to see', T0 + 2),
        say('w-ops', 'Bob', 'DEPLOY again tomorrow', T0 + 3),
      ]);
      const page = await find(['w-ops'], 'deploy');
      expect(page.more).toBe(false);
      expect(page.results).toEqual([
        { id: ids[2], ts: T0 + 3, room: 'w-ops', nick: 'Bob', text: 'DEPLOY again tomorrow', highlights: [[0, 6]] },
        { id: ids[0], ts: T0 + 1, room: 'w-ops', nick: 'Bob', text: 'the Deploy went fine', highlights: [[4, 10]] },
      ]);
      // Every word of the query, in any order.
      expect(texts((await find(['w-ops'], 'fine DEPLOY')).results)).toEqual(['the Deploy went fine']);
    });

    it('does not stem: a word finds itself, not its other forms, as a whole word', async () => {
      await write([
        say('w-stem', 'Bob', 'deploying now', T0 + 1),
        say('w-stem', 'Bob', 'deployed it', T0 + 2),
        say('w-stem', 'Bob', 'deploy', T0 + 3),
      ]);
      const page = await find(['w-stem'], 'deploy');
      // `deploy` first (the whole word), then the longer words that contain it.
      expect(texts(page.results)).toEqual(['deploy', 'deployed it', 'deploying now']);
      expect(texts((await find(['w-stem'], 'deployed')).results)).toEqual(['deployed it']);
    });

    it('finds parts of words, ranked after whole words', async () => {
      await write([
        say('w-part', 'Bob', 'the reconnection logic', T0 + 1),
        say('w-part', 'Bob', 'we connect at noon', T0 + 2),
        say('w-part', 'Bob', 'disconnected again', T0 + 3),
      ]);
      const page = await find(['w-part'], 'connect');
      expect(texts(page.results)).toEqual(['we connect at noon', 'disconnected again', 'the reconnection logic']);
      expect(page.results.map(marked)).toEqual([['connect'], ['connect'], ['connect']]);
      expect(texts((await find(['w-part'], 'ONNEC')).results)).toHaveLength(3);
    });

    it('finds parts of several words, short and common ones included (tested on the rows, not the index)', async () => {
      await write([
        say('w-multi', 'Bob', 'the zorblatx went', T0 + 1),
        say('w-multi', 'Bob', 'zorblatx alone', T0 + 2),
        say('w-multi', 'Bob', 'other zorblat', T0 + 3),
        say('w-multi', 'Bob', 'the zorblat', T0 + 4),
        say('w-multi', 'Bob', 'my zorblaty', T0 + 5),
      ]);
      // `the` (one trigram) and `my` (none) are checked on the rows that `zorblat` gives.
      expect(texts((await find(['w-multi'], 'the zorblat')).results)).toEqual([
        'the zorblat',
        'other zorblat',
        'the zorblatx went',
      ]);
      expect(texts((await find(['w-multi'], 'zorblat my')).results)).toEqual(['my zorblaty']);
      expect(texts((await find(['w-multi'], 'ZORBLATX the')).results)).toEqual(['the zorblatx went']);
    });

    it('finds code identifiers whole and by their parts', async () => {
      const ids = await write([
        say('w-code', 'Bob', 'call getUserById() here', T0 + 1),
        say('w-code', 'Bob', 'branch deploy-2026 is green', T0 + 2),
        say('w-code', 'Bob', 'the year 2026 was long', T0 + 3),
        say('w-code', 'Bob', 'see user_id and src/app/main.ts', T0 + 4),
      ]);
      expect((await find(['w-code'], 'getUserById')).results.map((h) => h.id)).toEqual([ids[0]]);
      const byPart = await find(['w-code'], 'UserBy');
      expect(byPart.results.map((h) => h.id)).toEqual([ids[0]]);
      expect(marked(byPart.results[0])).toEqual(['UserBy']);
      expect((await find(['w-code'], 'deploy-2026')).results.map((h) => h.id)).toEqual([ids[1]]);
      // `2026` as a word first, then inside `deploy-2026`.
      expect((await find(['w-code'], '2026')).results.map((h) => h.id)).toEqual([ids[2], ids[1]]);
      expect((await find(['w-code'], 'user_id')).results.map((h) => h.id)).toEqual([ids[3]]);
      expect((await find(['w-code'], 'main.ts')).results.map((h) => h.id)).toEqual([ids[3]]);
    });

    it('finds text beyond ASCII: accents, Cyrillic, and Japanese inside a longer run', async () => {
      const ids = await write([
        say('w-uni', 'Bob', 'un café crème', T0 + 1),
        say('w-uni', 'Bob', '今日は日本語を勉強します', T0 + 2),
        say('w-uni', 'Bob', 'Привет, мир', T0 + 3),
        say('w-uni', 'Bob', 'cafe without accent', T0 + 4),
      ]);
      expect((await find(['w-uni'], 'café')).results.map((h) => h.id)).toEqual([ids[0]]);
      const japanese = await find(['w-uni'], '日本語');
      expect(japanese.results.map((h) => h.id)).toEqual([ids[1]]);
      expect(marked(japanese.results[0])).toEqual(['日本語']);
      expect((await find(['w-uni'], 'привет')).results.map((h) => h.id)).toEqual(foldsUnicode ? [ids[2]] : []);
      expect((await find(['w-uni'], 'Привет')).results.map((h) => h.id)).toEqual([ids[2]]);
      if (foldsUnicode) expect((await find(['w-uni'], 'CAFÉ')).results.map((h) => h.id)).toEqual([ids[0]]);
    });

    it('treats the query as plain text: operators, quotes and wildcards are just characters', async () => {
      const ids = await write([
        say('w-plain', 'Bob', 'use a & b | c', T0 + 1),
        say('w-plain', 'Bob', '100% done_now', T0 + 2),
        say('w-plain', 'Bob', "it's a back\\slash", T0 + 3),
        say('w-plain', 'Bob', '100 percent done', T0 + 4),
        say('w-plain', 'Bob', '1000 done', T0 + 5),
        say('w-plain', 'Bob', 'someone now', T0 + 6),
      ]);
      for (const q of ['& | !', "'", ':*', '!(', '<->', '\\', "a' | 'b", 'foo:* & !bar', '(((']) {
        const page = await find(['w-plain'], q);
        expect(page.results.length).toBeLessThanOrEqual(2);
      }
      // `100` is a whole word of two messages; `%` is no wildcard (it would find `1000 done`).
      expect((await find(['w-plain'], '100%')).results.map((h) => h.id)).toEqual([ids[3], ids[1]]);
      // `_` is no wildcard either (it would find `someone now`).
      expect((await find(['w-plain'], 'one_no')).results.map((h) => h.id)).toEqual([ids[1]]);
      expect((await find(['w-plain'], 'back\\slash')).results.map((h) => h.id)).toEqual([ids[2]]);
      expect((await find(['w-plain'], "it's")).results.map((h) => h.id)).toEqual([ids[2]]);
    });

    it('never returns a room outside `rooms`, nor anybody else’s private messages', async () => {
      const ids = await write([
        say('w-open', 'Bob', 'secret plan alpha', T0 + 1),
        say('w-closed', 'Bob', 'secret plan beta', T0 + 2),
        pm('Bob', 'Ann', 'secret plan gamma', T0 + 3),
        pm('Ann', 'Cid', 'secret plan delta', T0 + 4),
        pm('Bob', 'Cid', 'secret plan epsilon', T0 + 5),
        pm('Cid', 'Cid', 'secret plan zeta', T0 + 6),
      ]);
      const page = await find(['w-open'], 'secret plan');
      expect(page.results.map((h) => h.id)).toEqual([ids[3], ids[2], ids[0]]);
      expect(page.results[0]).toMatchObject({ room: null, nick: 'Ann', to: 'Cid' });
      expect(page.results[1]).toMatchObject({ room: null, nick: 'Bob', to: 'Ann' });
      expect(page.results[2]).toMatchObject({ room: 'w-open', nick: 'Bob' });
      expect(page.results[2]).not.toHaveProperty('to');
      // Parts of words reach no further than whole words.
      expect((await find(['w-open'], 'ecre')).results.map((h) => h.id)).toEqual([ids[3], ids[2], ids[0]]);
      // A room filter outside `rooms` finds nothing; inside, only that room (no private messages).
      expect((await find(['w-open'], 'secret', { room: 'w-closed' })).results).toEqual([]);
      expect((await find(['w-open'], 'secret', { room: 'w-open' })).results.map((h) => h.id)).toEqual([ids[0]]);
      // A stranger who takes the nick `Ann` later (another owner) reads none of Ann's conversations.
      const stranger = await search.search({ owner: '~stranger', rooms: [], q: 'secret', limit: 20 });
      expect(stranger.results).toEqual([]);
      // Cid's own view.
      const cid = await search.search({ owner: 'cid', rooms: [], q: 'plan', limit: 20 });
      expect(await stepwise.search({ owner: 'cid', rooms: [], q: 'plan', limit: 20 })).toEqual(cid);
      expect(await stepwiseByRow.search({ owner: 'cid', rooms: [], q: 'plan', limit: 20 })).toEqual(cid);
      expect(cid.results.map((h) => h.id)).toEqual([ids[5], ids[4], ids[3]]);
    });

    it('filters by sender nick, case-insensitively', async () => {
      const ids = await write([
        say('w-from', 'Bob', 'status green', T0 + 1),
        say('w-from', 'Cid', 'status red', T0 + 2),
        pm('Bob', 'Ann', 'status private', T0 + 3),
      ]);
      expect((await find(['w-from'], 'status', { from: 'BOB' })).results.map((h) => h.id)).toEqual([ids[2], ids[0]]);
      expect((await find(['w-from'], 'tatu', { from: 'cid' })).results.map((h) => h.id)).toEqual([ids[1]]);
    });

    it('pages through every match once, whole words first, with a cursor', async () => {
      const messages: NewMessage[] = [];
      for (let i = 0; i < 23; i++)
        messages.push(say('w-page', 'Bob', i % 2 ? `alpha word ${i}` : `alphabet soup ${i}`, T0 + i));
      messages.push(say('w-page-other', 'Bob', 'alpha elsewhere', T0 + 50));
      const ids = await write(messages);
      const whole = ids.filter((_, i) => i < 23 && i % 2 === 1).reverse();
      const parts = ids.filter((_, i) => i < 23 && i % 2 === 0).reverse();
      for (const limit of [1, 4, 5, 11, 12, 23, 50]) {
        const seen: number[] = [];
        let before: number | undefined;
        for (let n = 0; n < 30; n++) {
          const query: SearchQuery = {
            owner: 'ann',
            rooms: ['w-page'],
            q: 'alpha',
            limit,
            ...(before !== undefined ? { before } : {}),
          };
          const page = await search.search(query);
          expect(await stepwise.search(query)).toEqual(page);
          expect(await stepwiseByRow.search(query)).toEqual(page);
          expect(page.results.length).toBeLessThanOrEqual(limit);
          seen.push(...page.results.map((h) => h.id));
          if (!page.more) {
            expect(page.next).toBeUndefined();
            break;
          }
          expect(page.results).toHaveLength(limit);
          expect(typeof page.next).toBe('number');
          before = page.next;
        }
        expect(seen).toEqual([...whole, ...parts]);
      }
      // A cursor in the parts-of-words rank continues there.
      const first = await search.search({ owner: 'ann', rooms: ['w-page'], q: 'alpha', limit: 13 });
      expect(first.next).toBe(SEARCH_PARTIAL_CURSOR + parts[1]);
    });

    it('finds the newest matches first across blocks of ids, and pages through them all', async () => {
      // Messages far apart in id (the index keys each message by its block of 65,536 ids).
      const ids: number[] = [];
      for (let gap = 0; gap < 4; gap++) {
        await sql`SELECT setval(pg_get_serial_sequence('messages', 'id'), (SELECT max(id) FROM messages) + ${70_000 * (gap + 1)})`.execute(
          database.kysely,
        );
        ids.push(
          ...(await write([
            say('w-blocks', 'Bob', `omega ${gap} a`, T0 + gap),
            say('w-blocks', 'Bob', `omegas ${gap} b`, T0 + gap),
            say('w-blocks-x', 'Bob', `omega ${gap} c`, T0 + gap),
          ])),
        );
      }
      const whole = ids.filter((_, i) => i % 3 === 0).reverse();
      const parts = ids.filter((_, i) => i % 3 === 1).reverse();
      await indexer.catchUp();
      const steps: string[] = [];
      const blockwise = new MessageSearch(database, {
        plan: { recentWindow: 1, probeCap: 1, indexCap: 1, blocksPerStep: 1 },
        trace: (s) => steps.push(s.step),
      });
      for (const searcher of [search, stepwise, stepwiseByRow, blockwise]) {
        const seen: number[] = [];
        let before: number | undefined;
        for (let n = 0; n < 20; n++) {
          const page = await searcher.search({
            owner: 'ann',
            rooms: ['w-blocks'],
            q: 'omega',
            limit: 3,
            ...(before !== undefined ? { before } : {}),
          });
          seen.push(...page.results.map((h) => h.id));
          if (!page.more) break;
          before = page.next;
        }
        expect(seen).toEqual([...whole, ...parts]);
      }
      expect(new Set(steps)).toEqual(new Set(['recent', 'probe', 'index', 'blocks']));
    });

    it('follows edits and never finds a deleted message, indexed or not yet', async () => {
      const edit = (id: number, text: string) =>
        store.writeBatch({ messages: [], state: [{ op: 'edit', id, text, ts: T0 + 9 }] });
      const remove = (id: number) => store.writeBatch({ messages: [], state: [{ op: 'delete', id, ts: T0 + 9 }] });
      // Changed after the indexer copied them, and before.
      const indexed = await write([
        say('w-edit', 'Bob', 'the password is hunter2', T0 + 1),
        say('w-edit', 'Bob', 'typo in teh text', T0 + 2),
      ]);
      await indexer.catchUp();
      await remove(indexed[0]);
      await edit(indexed[1], 'typo in the text');
      const fresh = await write([
        say('w-edit2', 'Bob', 'the password is hunter3', T0 + 1),
        say('w-edit2', 'Bob', 'more teh typos', T0 + 2),
      ]);
      await remove(fresh[0]);
      await edit(fresh[1], 'more the typos');
      for (const [room, typo] of [
        ['w-edit', 'typo in the text'],
        ['w-edit2', 'more the typos'],
      ] as const) {
        expect((await find([room], 'hunter2')).results).toEqual([]);
        expect((await find([room], 'unter')).results).toEqual([]);
        expect((await find([room], 'password')).results).toEqual([]);
        expect((await find([room], 'teh')).results).toEqual([]);
        expect(texts((await find([room], 'the')).results)).toEqual([typo]);
      }
      // The index holds no copy of a deleted text.
      const copies = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM message_search WHERE text LIKE '%hunter%'`.execute(database.kysely);
      expect(copies.rows[0].n).toBe(0);
    });

    it('walks the newest messages above the index mark, at most SEARCH_BACKLOG_WALK_MAX ids of them', async () => {
      await indexer.catchUp();
      const early = await write([say('w-backlog', 'Bob', 'zebracorn early', T0 + 1)]);
      // Far above: more than the walk reaches.
      await sql`SELECT setval(pg_get_serial_sequence('messages', 'id'), (SELECT max(id) FROM messages) + ${SEARCH_BACKLOG_WALK_MAX + 10})`.execute(
        database.kysely,
      );
      const late = await write([say('w-backlog', 'Bob', 'zebracorn late', T0 + 2)]);
      const query: SearchQuery = { owner: 'ann', rooms: ['w-backlog'], q: 'zebracorn', limit: 20 };
      // Not indexed yet: the newest is walked; the early one is beyond the walk until indexed.
      expect((await search.search(query)).results.map((h) => h.id)).toEqual(late);
      await indexer.catchUp();
      expect((await search.search(query)).results.map((h) => h.id)).toEqual([...late, ...early]);
    });

    it('returns a snippet around the match for a long message', async () => {
      const long = `${'filler words go here '.repeat(20)}the incident was resolved ${'more filler text '.repeat(20)}`;
      await write([say('w-long', 'Bob', long, T0 + 1)]);
      const [hit] = (await find(['w-long'], 'incident')).results;
      expect(hit.text.length).toBeLessThanOrEqual(SEARCH_SNIPPET_MAX);
      expect(hit.text).toContain('the incident was resolved');
      expect(marked(hit)).toEqual(['incident']);
    });

    it('finds short words whole only (parts need three letters or digits)', async () => {
      const ids = await write([
        say('w-short', 'Bob', 'go now', T0 + 1),
        say('w-short', 'Bob', 'going home', T0 + 2),
        say('w-short', 'Bob', 'a b c', T0 + 3),
      ]);
      expect((await find(['w-short'], 'go')).results.map((h) => h.id)).toEqual([ids[0]]);
      expect((await find(['w-short'], 'GO')).results.map((h) => h.id)).toEqual([ids[0]]);
      expect((await find(['w-short'], 'goi')).results.map((h) => h.id)).toEqual([ids[1]]);
      expect((await find(['w-short'], '-- ::')).results).toEqual([]);
    });

    it('asks the indexes of message_search for the words, the parts and the keys together', async () => {
      const plan = (where: ReturnType<typeof sql>) =>
        database.kysely.transaction().execute(async (trx) => {
          await sql.raw('SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off').execute(trx);
          const result = await sql<{
            'QUERY PLAN': string;
          }>`EXPLAIN SELECT s.id FROM message_search s WHERE ${where}`.execute(trx);
          return result.rows.map((r) => r['QUERY PLAN']).join('\n');
        });
      const keys = ['#w-ops', '@ann', '^0'];
      const words = await plan(
        sql`to_tsvector('simple', s.text) @@ plainto_tsquery('simple', ${'deploy'}) AND ${SEARCH_KEYS_WORDS} && ${keys}::text[]`,
      );
      expect(words).toMatch(
        /Bitmap Index Scan on message_search_words[^\n]*\n\s+Index Cond: \(+keys && .*to_tsvector/s,
      );
      const parts = await plan(sql`s.text ILIKE ${'%ploy%'} AND ${SEARCH_KEYS_PARTS} && ${keys}::text[]`);
      expect(parts).toMatch(/Bitmap Index Scan on message_search_parts[^\n]*\n\s+Index Cond: \(+\(?keys \|\| .*~~\*/s);
    });

    it('rejects a malformed query', async () => {
      await expectBadInput(find(['x'], ''));
      await expectBadInput(find(['x'], '   '));
      await expectBadInput(find(['x'], 'x'.repeat(SEARCH_QUERY_MAX + 1)));
      await expectBadInput(find(['x'], 'nul\u0000byte'));
      await expectBadInput(find(['x'], 'ok', { limit: 0 }));
      await expectBadInput(find(['x'], 'ok', { limit: 10_000 }));
      await expectBadInput(find(['x'], 'ok', { before: -1 }));
      await expectBadInput(find(['x'], 'ok', { before: 1.5 }));
      await expectBadInput(search.search({ owner: '', rooms: [], q: 'ok', limit: 5 }));
      // The limit counts characters, not UTF-16 units: 200 emoji are accepted.
      expect((await find(['x'], '🎉'.repeat(SEARCH_QUERY_MAX))).results).toEqual([]);
    });
  });
}
