/**
 * Search over the history a user may read: the rooms the caller names (those the user may read)
 * and the user's own private messages, never anything else. Same SQL on PGlite and Postgres, over
 * the two indexes of `message_search` (migrations/007, 008 and 010), which search-indexer.ts fills after
 * the commit; messages stored since (above `search_state.indexed_upto`) are walked instead, the
 * newest SEARCH_BACKLOG_WALK_MAX of them (so a search finds a message as soon as it is stored).
 *
 * Matching (case-insensitive; the query is plain text, never query syntax):
 * - **whole words** (ranked first): every word of the query is a word of the message, through
 *   full-text search with the `simple` configuration (no stemming: `deploy` does not find
 *   `deployed`, and `getUserById` is one exact word);
 * - **parts of words** (ranked after): every word of the query is a part of the message text
 *   (`UserBy` finds `getUserById`, `2026` finds `deploy-2026`, `本語` finds `日本語`), through the
 *   trigram index. Needs a word with a run of at least SEARCH_PARTIAL_MIN letters or digits;
 *   shorter queries (`go`, `日本`) find whole words only.
 * Within each rank, newest first.
 *
 * Paging: `next` is a number to send back as `before`. Below SEARCH_PARTIAL_CURSOR it is a message
 * id in the whole-word rank (that rank continues below it, then the parts-of-words rank starts
 * from the newest); from SEARCH_PARTIAL_CURSOR up it is SEARCH_PARTIAL_CURSOR + a message id in the
 * parts-of-words rank. So a page never repeats a message of an earlier page.
 *
 * @example
 * const search = new MessageSearch(database);
 * const page = await search.search({ owner: 'ann', rooms: ['general', 'ops'], q: 'deploy-2026', limit: 20 });
 * // page.results[0]: { id, ts, room: 'ops', nick: 'bob', text: '…the deploy-2026 branch is…', highlights: [[5, 16]] }
 * const more = page.more ? await search.search({ owner: 'ann', rooms: ['general', 'ops'], q: 'deploy-2026', before: page.next, limit: 20 }) : null;
 */
import { SEARCH_PAGE_MAX, SEARCH_QUERY_MAX, type SearchHit } from '@teamchat/protocol';
import { performance } from 'node:perf_hooks';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { SearchPage, SearchQuery } from '../core/records.js';
import type { Database } from './database.js';
import { StoreError } from './store-error.js';

export { SEARCH_PAGE_MAX, SEARCH_QUERY_MAX };

/** Letters or digits in a row a query word needs for parts-of-words matching (pg_trgm's trigrams). */
export const SEARCH_PARTIAL_MIN = 3;
/** Cursors from this value up page through the parts-of-words rank (see the module comment). */
export const SEARCH_PARTIAL_CURSOR = 1_000_000_000_000_000;
/**
 * Most ids above the index's mark a search walks. The indexer keeps the backlog near zero; it
 * grows only while the writer is never idle (search-indexer.ts), and then a search finds the
 * newest messages by walking and the older ones once the indexer reaches them.
 */
export const SEARCH_BACKLOG_WALK_MAX = 20_000;
/** Longest snippet, in UTF-16 code units (JavaScript string length), ellipses included. */
export const SEARCH_SNIPPET_MAX = 200;

// The shapes are the core's port (core/records.ts) and the protocol's hit: declared once, there.
export type { SearchHit, SearchPage, SearchQuery };

interface HitRow {
  id: number;
  created_at: Date;
  room: string | null;
  sender: string;
  recipient: string | null;
  text: string;
}

type Rank = 'words' | 'parts';

/**
 * How a rank's page is read (see `#rank`): bounded work whatever the word's frequency, without
 * relying on planner statistics (an embedded database is never ANALYZEd by autovacuum).
 */
export interface SearchPlan {
  /** Newest ids looked at first, walking back: enough for a common word. */
  recentWindow: number;
  /** Most blocks of ids (SEARCH_BLOCK_BITS) asked of the index in one step. */
  blocksPerStep: number;
  /**
   * First, matches read from the index without the scope keys (0: none), the scope checked on each
   * row: fewer are all of them. A rare word ends here, cheaply: a GIN scan with the scope keys
   * decodes the long lists of every room's key (1-20 ms on PGlite at 1,000,000 messages for a
   * member of 20 rooms), without them it reads only the word's own list. Not for parts of words
   * when the scope keys are asked of the index, unless the query is a rare whole word (see `rank`);
   * the only index step before the blocks when they are not.
   */
  probeCap: number;
  /**
   * Then (when the scope keys are asked of the index), matches in scope read from the index at once
   * (0: none); fewer are all of them.
   */
  indexCap: number;
  /**
   * Scope keys (rooms + 1) up to this many are asked of the index with the words, so the rows of
   * other rooms are never visited; beyond, the index is asked for the words alone and the scope is
   * checked on each row: a GIN scan advances every key's list for each candidate, which costs more
   * than it saves when the user is in that many rooms (and most messages are in scope anyway).
   */
  indexedScopeMax: number;
}

/** One step of a search, for benchmarks and tests (`MessageSearch` option `trace`). */
export interface SearchStep {
  rank: 'words' | 'parts';
  step: 'recent' | 'probe' | 'index' | 'blocks';
  ms: number;
  rows: number;
}

export const SEARCH_PLAN: Readonly<SearchPlan> = {
  recentWindow: 1_000,
  blocksPerStep: 64,
  probeCap: 100,
  indexCap: 300,
  indexedScopeMax: 32,
};

/**
 * The search indexes key every message by its block of ids, `'^' || (id >> SEARCH_BLOCK_BITS)`
 * (search-indexer.ts, the same number), so that the index can be asked for the newest matches first.
 */
export const SEARCH_BLOCK_BITS = 16;
const SEARCH_BLOCK_SIZE = 2 ** SEARCH_BLOCK_BITS;

type Tx = Kysely<any>;

export class MessageSearch {
  readonly #db: Kysely<any>;
  readonly #plan: SearchPlan;
  readonly #trace: ((step: SearchStep) => void) | undefined;

  /**
   * `plan` changes the bounds of SEARCH_PLAN (tests make them tiny to take every step); `trace`
   * hears of every step taken.
   */
  constructor(database: Database, options: { plan?: Partial<SearchPlan>; trace?: (step: SearchStep) => void } = {}) {
    this.#db = database.kysely;
    this.#plan = { ...SEARCH_PLAN, ...options.plan };
    this.#trace = options.trace;
  }

  /** One page of results, best first. Rejects with TC_STORE_BAD_INPUT on a malformed query. */
  async search(query: SearchQuery): Promise<SearchPage> {
    const q = checkSearch(query);
    if (q.room !== undefined && !q.rooms.includes(q.room)) return { results: [], more: false };
    const words = q.text.split(' ');
    const byWords = /[\p{L}\p{N}]/u.test(q.text);
    const byParts = words.some((w) => PARTIAL_RUN.test(w));
    const hits: { row: HitRow; rank: Rank }[] = [];

    await this.#db.connection().execute(async (conn) => {
      // One transaction, so that its settings are its own: bitmap scans and walks by id only (each
      // step below bounds its work itself; the planner must not trade it for a scan of the table),
      // no parallel workers (their start costs more than a page of results) and no JIT (Postgres
      // would compile the larger plans). Sent as one round trip: on PGlite each is a thread hop.
      await sql
        .raw('BEGIN READ ONLY; SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off')
        .execute(conn);
      try {
        // The newest id: ranks are read from there down (ids are given in order, so an id range is a
        // time range); and the index's mark: ids above it are walked, not asked of the index.
        const newest = await sql<{ top: number | null; upto: number | null }>`
          SELECT max(id) AS top, (SELECT indexed_upto FROM search_state) AS upto FROM messages`.execute(conn);
        const top = Number(newest.rows[0]?.top ?? 0);
        const indexedUpto = Number(newest.rows[0]?.upto ?? 0);
        await sql.raw('SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off').execute(conn);
        const ctx: RankContext = { q, words, byWords, top, indexedUpto, plan: this.#plan, trace: this.#trace };
        // The whole-word rank first (unless the cursor is already past it), then parts of words.
        const inParts = q.before !== undefined && q.before >= SEARCH_PARTIAL_CURSOR;
        if (!inParts && byWords) {
          for (const row of await rank(conn, 'words', ctx, q.before, q.limit + 1)) hits.push({ row, rank: 'words' });
        }
        if (hits.length <= q.limit && byParts) {
          const below = inParts ? q.before! - SEARCH_PARTIAL_CURSOR : undefined;
          for (const row of await rank(conn, 'parts', ctx, below, q.limit + 1 - hits.length))
            hits.push({ row, rank: 'parts' });
        }
      } catch (err) {
        await sql
          .raw('ROLLBACK')
          .execute(conn)
          .catch(() => {});
        throw err;
      }
      await sql.raw('COMMIT').execute(conn);
    });

    const more = hits.length > q.limit;
    const page = hits.slice(0, q.limit);
    const results = page.map(({ row, rank }) => toHit(row, words, rank));
    if (!more) return { results, more };
    const last = page[page.length - 1];
    // A full page of whole words with parts of words still to come: continue below the last word hit.
    const next = last.rank === 'words' ? Number(last.row.id) : SEARCH_PARTIAL_CURSOR + Number(last.row.id);
    return { results, more, next };
  }
}

/** A query word that parts-of-words matching can use: a run of letters or digits pg_trgm indexes. */
const PARTIAL_RUN = new RegExp(`[\\p{L}\\p{N}]{${SEARCH_PARTIAL_MIN}}`, 'u');
/** A query word of more than one trigram. */
const LONGER_RUN = new RegExp(`[\\p{L}\\p{N}]{${SEARCH_PARTIAL_MIN + 1}}`, 'u');

interface RankContext {
  q: CheckedQuery;
  words: string[];
  byWords: boolean;
  /** The newest message id (0: no messages). */
  top: number;
  /** Every message up to this id is in the index (search_state.indexed_upto). */
  indexedUpto: number;
  plan: SearchPlan;
  trace: ((step: SearchStep) => void) | undefined;
  /** The whole-word rank's probe found all its matches, this many (in scope or not). */
  wordsProbed?: number;
}

/**
 * The newest `want` messages of one rank below `before`. No single plan is good for every word:
 * the GIN index finds a rare word at once but must visit every row of a common one (and cannot
 * give them in id order), while walking back from the newest message finds a common word at once
 * and a rare one never. So, each step bounded, and none relying on the planner's statistics:
 *
 * 1. Walk the newest `recentWindow` ids, and all the ids above the index's mark (at most
 *    SEARCH_BACKLOG_WALK_MAX): a common word ends here, and a message not yet indexed is found.
 * 2. Ask the index for all the matches, visiting at most `probeCap` rows, without the scope keys
 *    (the scope is checked on each row): when there are fewer, the newest of those in scope are the
 *    answer (a rare word ends here). Then, when the scope keys are asked of the index
 *    (`indexedScopeMax`), for all the matches in scope, visiting at most `indexCap` rows: the same.
 *    Each skipped when the matches among the newest ids already foretell more than its cap. A
 *    step's bound counts the rows the index gives (what it costs), not the rows that then pass the
 *    rest of the test (RankMatch.exact).
 * 3. Ask the index block by block, newest first: each message is also keyed by its block of
 *    65,536 ids (SEARCH_BLOCK_BITS), so a step visits only the matches in scope of its blocks.
 *    One block first, then as many as the rate found so far promises to fill the page with (four
 *    times as many after a step that found none), at most `blocksPerStep`.
 */
async function rank(
  trx: Tx,
  which: Rank,
  ctx: RankContext,
  before: number | undefined,
  want: number,
): Promise<HitRow[]> {
  const { q, plan } = ctx;
  const match = rankMatch(which, ctx);
  const scope = scopeOf(q);
  const scoped = scopeOfIndexed(q, match.keys, plan.indexedScopeMax);
  const keys = scoped.indexed;
  let t = performance.now();
  const step = (name: SearchStep['step'], rows: number) => {
    const now = performance.now();
    ctx.trace?.({ rank: which, step: name, ms: now - t, rows });
    t = now;
  };

  // 1. The newest messages and those not yet indexed: ids [below, hi).
  const hi = Math.min(before ?? Infinity, ctx.top + 1);
  const backlogFloor = Math.max(ctx.indexedUpto + 1, hi - SEARCH_BACKLOG_WALK_MAX);
  const below = Math.max(1, Math.min(hi - plan.recentWindow, backlogFloor));
  const found = hi <= 1 ? [] : await walk(trx, match, scope, q, below, hi, want);
  step('recent', found.length);
  if (found.length >= want || below <= 1) return found;

  // 2. All the matches, when they are few (bitmap scans only, from here: the transaction's settings).
  const foretold = (found.length * below) / (hi - below);
  const all: { step: 'probe' | 'index'; cap: number; where: RawBuilder<unknown>; inScope: RawBuilder<unknown> }[] = [];
  // Parts of words with the scope keys at hand: no probe, the trigrams of a part are in too many
  // rows (the probe's rows would be visited in vain: measured, p99 up by 5 ms for a member of 20
  // rooms), unless the query is a rare word (its probe found few): then its parts are likely rare too.
  const rareWords = ctx.wordsProbed !== undefined && ctx.wordsProbed > 0 && ctx.wordsProbed < plan.probeCap / 2;
  if (!(scoped.keyed && which === 'parts') || rareWords)
    all.push({ step: 'probe', cap: plan.probeCap, where: scoped.unkeyed, inScope: scoped.byRow });
  if (scoped.keyed) all.push({ step: 'index', cap: plan.indexCap, where: keys, inScope: sql`true` });
  for (const { step: name, cap, where, inScope } of all) {
    if (!(cap > 0 && foretold < cap)) continue;
    // `cap` rows at most of the index (in their order on disk: oldest first); of them, the newest
    // in scope. The exact test (the costlier one: parts of words parse the text) runs on the
    // newest only, until the page is full: OFFSET 0 keeps it above the sort.
    const probe = await sql<HitRow & { candidates: number }>`
      WITH cand AS MATERIALIZED (
        SELECT ${HIT_COLUMNS}, s.keys FROM message_search s
        WHERE ${match.indexed} AND ${where} AND s.id < ${below}
        LIMIT ${cap}
      ), hits AS (
        SELECT s.id, s.created_at, s.room, s.sender, s.recipient, s.text
        FROM (SELECT * FROM cand s WHERE ${inScope} ORDER BY s.id DESC OFFSET 0) s
        WHERE ${match.exact}
        LIMIT ${want - found.length}
      )
      SELECT (SELECT count(*) FROM cand)::int AS candidates, h.* FROM (SELECT 1) one LEFT JOIN hits h ON true
      ORDER BY h.id DESC`.execute(trx);
    const candidates = Number(probe.rows[0]?.candidates ?? 0);
    step(name, candidates);
    if (which === 'words' && name === 'probe' && candidates < cap) ctx.wordsProbed = candidates;
    if (candidates < cap) return found.concat(probe.rows.filter((r) => r.id !== null));
  }

  // 3. Block by block, newest first.
  let block = Math.floor((below - 1) / SEARCH_BLOCK_SIZE);
  let span = 1;
  while (found.length < want && block >= 0) {
    const blocks = Array.from({ length: Math.min(span, block + 1) }, (_, i) => `^${block - i}`);
    const rows = await sql<HitRow>`
      SELECT s.* FROM (
        SELECT ${HIT_COLUMNS} FROM message_search s
        WHERE ${match.indexed} AND ${keys} AND ${match.keys} && ${blocks}::text[] AND s.id < ${below}
        ORDER BY s.id DESC OFFSET 0) s
      WHERE ${match.exact}
      LIMIT ${want - found.length}`.execute(trx);
    step('blocks', rows.rows.length);
    found.push(...rows.rows);
    block -= blocks.length;
    // The page is not full yet: these blocks held exactly these matches.
    const perBlock = rows.rows.length / blocks.length;
    span = perBlock === 0 ? span * 4 : Math.ceil((want - found.length) / perBlock);
    span = Math.max(1, Math.min(span, plan.blocksPerStep));
  }
  return found;
}

/**
 * What a hit needs, read from message_search alone (migrations/010): a search never joins `messages`
 * for the rows the indexes give (on PGlite, with its small shared buffers, each such row cost
 * another random page read or two).
 */
const HIT_COLUMNS = sql.raw('s.id, s.created_at, s.room, s.sender, s.recipient, s.text');

interface RankMatch {
  /** The keys expression of the rank's index (on `message_search s`). */
  keys: RawBuilder<unknown>;
  /** The condition the rank's GIN index answers (on `message_search s`). */
  indexed: RawBuilder<unknown>;
  /**
   * What else a row of the index must meet (on `s.text`: checked on the newest rows a step visits,
   * until the page is full; a step's bound on rows visited does not count it).
   */
  exact: RawBuilder<unknown>;
  /** The whole condition for a walk of `messages m`: a cheap necessary test first, on every row walked. */
  walked: RawBuilder<unknown>;
}

function rankMatch(which: Rank, { q, words, byWords }: RankContext): RankMatch {
  const wholeWords = (text: RawBuilder<unknown>) =>
    sql`to_tsvector('simple', ${text}) @@ plainto_tsquery('simple', ${q.text})`;
  const parts = (text: RawBuilder<unknown>, of: string[]) =>
    of.length === 0
      ? sql`true`
      : sql.join(
          of.map((w) => sql`${text} ILIKE ${`%${escapeLike(w)}%`}`),
          sql` AND `,
        );
  const indexedText = sql.raw('s.text');
  const messageText = sql.raw('m.text');
  if (which === 'words') {
    // Every word of the query is, lower-cased, a part of a matching text: a quick test before the
    // parse of the text (to_tsvector is the costliest step of a walk).
    const lexemes = sql`m.text ILIKE ALL (ARRAY(
      SELECT '%' || replace(replace(replace(l, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'
      FROM unnest(tsvector_to_array(to_tsvector('simple', ${q.text}))) l))`;
    return {
      keys: SEARCH_KEYS_WORDS,
      indexed: wholeWords(indexedText),
      exact: sql`true`,
      walked: sql`${lexemes} AND ${wholeWords(messageText)}`,
    };
  }
  // Whole-word hits were listed in the first rank: never twice.
  const notWords = (text: RawBuilder<unknown>) => (byWords ? sql`NOT (${wholeWords(text)})` : sql`true`);
  // The trigram index answers the words that have trigrams (a run of SEARCH_PARTIAL_MIN letters or
  // digits); the others (`my` in `strange my`) are tested on the rows it gives, outside the bound
  // on rows visited: inside, a step would visit every row of `strange` to find a few with `my`.
  // A word of a single trigram (`the` in `the pazada`) is left to the rows too when a longer word is
  // there: its list is in most messages and costs more to read than the rows it rules out (measured
  // on PGlite at 1,000,000 messages: 17 ms for the index scan of both words, 9.5 ms of `pazada`).
  const trigrams = words.filter((w) => PARTIAL_RUN.test(w));
  const longer = trigrams.filter((w) => LONGER_RUN.test(w));
  const asked = longer.length > 0 ? longer : trigrams;
  const rest = words.filter((w) => !asked.includes(w));
  return {
    keys: SEARCH_KEYS_PARTS,
    indexed: parts(indexedText, asked),
    exact: sql`${parts(indexedText, rest)} AND ${notWords(indexedText)}`,
    walked: sql`${parts(messageText, words)} AND ${notWords(messageText)}`,
  };
}

/**
 * The newest `want` messages in scope that match, among ids [from, to) (of `q.room` when given):
 * the window is read by its id range (the primary key, or (room, id)), newest first, and each row
 * tested until the page is full; the subquery keeps the plan that (a GIN index cannot be chosen).
 */
async function walk(
  trx: Tx,
  match: RankMatch,
  scope: RawBuilder<unknown>,
  q: CheckedQuery,
  from: number,
  to: number,
  want: number,
): Promise<HitRow[]> {
  const result = await sql<HitRow>`
    SELECT m.id, m.created_at, m.room, m.sender, m.recipient, m.text
    FROM (
      SELECT w.id, w.created_at, w.room, w.sender, w.recipient, w.text, w.sender_owner, w.recipient_owner, w.sender_key, w.deleted_at
      FROM messages w
      WHERE w.id >= ${from} AND w.id < ${to} ${q.room !== undefined ? sql`AND w.room = ${q.room}` : sql``}
      ORDER BY w.id DESC LIMIT ${to - from}) m
    WHERE ${scope} AND ${match.walked}
    ORDER BY m.id DESC
    LIMIT ${want}`.execute(trx);
  return result.rows;
}

/**
 * What the search indexes know of a message besides its text (`message_search.keys`, written by
 * search-indexer.ts): `#room` for a room message, `@owner` for each end of a private message,
 * `!sender` (nick key), and `^block` (its block of ids, SEARCH_BLOCK_BITS). The parts-of-words index
 * is on `keys || '{}'`: the same keys, a different expression, so that the planner can only answer
 * each rank's keys from that rank's index (it would otherwise read the keys from one index and check
 * the text on every row of the scope).
 */
export const SEARCH_KEYS_WORDS = sql`s.keys`;
export const SEARCH_KEYS_PARTS = sql`(s.keys || '{}'::text[])`;

/**
 * The scope (`scopeOf`) on a row of message_search, by its keys: one of `#<room>` of the rooms (or
 * of `q.room`) or `@<owner>` (a private message of the user's), and `!<sender>` for `q.from`. Up to
 * `indexedMax` scope keys are asked of the index with the words; more are checked on each row the
 * index gives, by an expression no index answers (coalesce), so that the planner keeps them out of
 * the index scan.
 */
function scopeOfIndexed(q: CheckedQuery, expression: RawBuilder<unknown>, indexedMax: number): ScopeOnIndex {
  const keys = q.room !== undefined ? [`#${q.room}`] : [...q.rooms.map((r) => `#${r}`), `@${q.owner}`];
  const byRow = sql`coalesce(s.keys && ${keys}::text[], false)`;
  const from = q.from !== undefined ? sql`${expression} @> ARRAY['!' || lower(${q.from})]` : sql`true`;
  const keyed = keys.length <= indexedMax;
  return {
    keyed,
    indexed: sql`${keyed ? sql`${expression} && ${keys}::text[]` : byRow} AND ${from}`,
    unkeyed: from,
    byRow,
  };
}

interface ScopeOnIndex {
  /** Whether `indexed` asks the index for the scope keys (else it checks them on each row). */
  keyed: boolean;
  /** The whole scope (on `message_search s`), its keys asked of the index when `keyed`. */
  indexed: RawBuilder<unknown>;
  /** What of the scope the index is asked without the scope keys: the sender, if any. */
  unkeyed: RawBuilder<unknown>;
  /** The rest: the scope keys, checked on a row (by an expression no index answers). */
  byRow: RawBuilder<unknown>;
}

/**
 * Where to look, on a row of `messages m` (the walk): the rooms the user may read and its own
 * private messages, or one room; one sender; never a deleted message.
 */
function scopeOf(q: CheckedQuery): RawBuilder<unknown> {
  const where: RawBuilder<unknown>[] = [];
  if (q.room !== undefined) {
    where.push(sql`m.room = ${q.room}`);
  } else {
    where.push(
      sql`(m.room = ANY(${q.rooms}::text[]) OR (m.recipient IS NOT NULL AND (m.sender_owner = ${q.owner} OR m.recipient_owner = ${q.owner})))`,
    );
  }
  if (q.from !== undefined) where.push(sql`m.sender_key = lower(${q.from})`);
  // A deleted message's text is '' (it cannot match anyway); an edited one is searched as it reads now.
  where.push(sql`m.deleted_at IS NULL`);
  return sql.join(where, sql` AND `);
}

// ---------- snippets ----------

function toHit(row: HitRow, words: string[], rank: Rank): SearchHit {
  const { text, highlights } = snippet(row.text, findMatches(row.text, words, rank === 'words'));
  const hit: SearchHit = {
    id: Number(row.id),
    ts: row.created_at.getTime(),
    room: row.room,
    nick: row.sender,
    text,
    highlights,
  };
  if (row.recipient !== null) hit.to = row.recipient;
  return hit;
}

const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;

/**
 * Where the query's words occur in `text` (case-insensitive, Unicode case folding), merged and
 * sorted. For a whole-word hit, occurrences that stand as words are preferred; a word that does not
 * occur as typed (`deploy,failed` matched as two words) is looked for by its runs of letters and digits.
 */
export function findMatches(text: string, words: string[], wholeWords: boolean): [number, number][] {
  const ranges: [number, number][] = [];
  for (const word of words) {
    let found = occurrences(text, word, wholeWords);
    if (found.length === 0) {
      for (const run of word.match(/[\p{L}\p{N}]+/gu) ?? []) found = found.concat(occurrences(text, run, wholeWords));
    }
    ranges.push(...found);
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

function occurrences(text: string, word: string, wholeWords: boolean): [number, number][] {
  if (word === '') return [];
  const all: [number, number][] = [];
  const pattern = new RegExp(word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'giu');
  for (const m of text.matchAll(pattern)) {
    if (m[0].length > 0) all.push([m.index, m.index + m[0].length]);
  }
  if (!wholeWords) return all;
  const standalone = all.filter(
    ([s, e]) =>
      !(s > 0 && WORD_CHAR.test(charBefore(text, s))) && !(e < text.length && WORD_CHAR.test(charAt(text, e))),
  );
  return standalone.length > 0 ? standalone : all;
}

/**
 * The text when it is short, else a window of it around the first match, cut between words where
 * one is near, never inside a surrogate pair; `…` marks a cut. Highlights are moved into the window.
 */
export function snippet(full: string, matches: [number, number][]): { text: string; highlights: [number, number][] } {
  if (full.length <= SEARCH_SNIPPET_MAX) return { text: full, highlights: matches };
  const first = matches[0] ?? [0, 0];
  const room = SEARCH_SNIPPET_MAX - 2; // two ellipses at most
  let start = Math.max(0, first[0] - 60);
  // Start at a word when one starts shortly after the cut.
  if (start > 0) {
    const space = full.slice(start, Math.min(first[0], start + 20)).search(/\s/u);
    if (space >= 0) start += space + 1;
  }
  let end = Math.min(full.length, start + room);
  if (end === full.length) start = Math.max(0, end - room);
  if (start > 0 && isLowSurrogate(full.charCodeAt(start))) start++;
  if (end < full.length && isLowSurrogate(full.charCodeAt(end))) end--;
  const prefix = start > 0 ? '…' : '';
  const suffix = end < full.length ? '…' : '';
  const shift = prefix.length - start;
  const highlights: [number, number][] = [];
  for (const [s, e] of matches) {
    const cs = Math.max(s, start);
    const ce = Math.min(e, end);
    if (cs < ce) highlights.push([cs + shift, ce + shift]);
  }
  return { text: prefix + full.slice(start, end) + suffix, highlights };
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function charBefore(text: string, index: number): string {
  const code = text.charCodeAt(index - 1);
  return isLowSurrogate(code) && index >= 2 ? text.slice(index - 2, index) : text.charAt(index - 1);
}

function charAt(text: string, index: number): string {
  return String.fromCodePoint(text.codePointAt(index)!);
}

// ---------- input checks ----------

interface CheckedQuery {
  owner: string;
  rooms: string[];
  /** The query, trimmed, whitespace runs as one space. */
  text: string;
  room?: string;
  from?: string;
  before?: number;
  limit: number;
}

function checkSearch(query: SearchQuery): CheckedQuery {
  if (!query || typeof query !== 'object') throw bad('a search needs a query object');
  const owner = checkText(query.owner, 'owner');
  if (!Array.isArray(query.rooms)) throw bad('rooms must be an array of room names');
  const rooms = query.rooms.map((r, i) => checkText(r, `rooms[${i}]`));
  if (typeof query.q !== 'string') throw bad('q must be a string');
  const text = query.q.trim().replace(/\s+/gu, ' ');
  const length = [...text].length;
  if (length < 1 || length > SEARCH_QUERY_MAX)
    throw bad(`q must be 1 to ${SEARCH_QUERY_MAX} characters (not counting spaces around it)`);
  if (text.includes('\u0000')) throw bad('q contains a NUL character (U+0000)');
  if (!Number.isSafeInteger(query.limit) || query.limit < 1 || query.limit > SEARCH_PAGE_MAX)
    throw bad(`limit must be an integer from 1 to ${SEARCH_PAGE_MAX}`);
  const out: CheckedQuery = { owner, rooms, text, limit: query.limit };
  if (query.room !== undefined) out.room = checkText(query.room, 'room');
  if (query.from !== undefined) out.from = checkText(query.from, 'from');
  if (query.before !== undefined) {
    if (!Number.isSafeInteger(query.before) || query.before < 0)
      throw bad('before must be the `next` of a previous page (a non-negative integer)');
    out.before = query.before;
  }
  return out;
}

function checkText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw bad(`${field} must be a non-empty string`);
  if (value.includes('\u0000')) throw bad(`${field} contains a NUL character (U+0000)`);
  return value;
}

function bad(message: string): StoreError {
  return new StoreError('TC_STORE_BAD_INPUT', message);
}

/** `%`, `_` and `\` stand for themselves in the ILIKE pattern. */
function escapeLike(word: string): string {
  return word.replace(/[\\%_]/g, '\\$&');
}
