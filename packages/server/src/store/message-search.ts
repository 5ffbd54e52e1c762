/**
 * Search over the history a user may read: the rooms the caller names (those the user may read)
 * and the user's own private messages, never anything else. Same SQL on PGlite and Postgres, over
 * the two indexes of migrations/007_search.sql.
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
import { SEARCH_PAGE_MAX, SEARCH_QUERY_MAX } from '@teamchat/protocol';
import { performance } from 'node:perf_hooks';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from './database.js';
import { StoreError } from './store-error.js';

export { SEARCH_PAGE_MAX, SEARCH_QUERY_MAX };

/** Letters or digits in a row a query word needs for parts-of-words matching (pg_trgm's trigrams). */
export const SEARCH_PARTIAL_MIN = 3;
/** Cursors from this value up page through the parts-of-words rank (see the module comment). */
export const SEARCH_PARTIAL_CURSOR = 1_000_000_000_000_000;
/** Longest snippet, in UTF-16 code units (JavaScript string length), ellipses included. */
export const SEARCH_SNIPPET_MAX = 200;

export interface SearchQuery {
  /** Whose private messages to search: an account's nick key or `~<identity>` (migrations/004). */
  owner: string;
  /** The rooms the user may read (the caller decides); no other room is ever searched. */
  rooms: string[];
  /** 1..SEARCH_QUERY_MAX characters (after trimming), plain text. */
  q: string;
  /** Only this room (must be one of `rooms`; otherwise nothing is found). Private messages are then left out. */
  room?: string;
  /** Only messages sent by this nick (case-insensitive). */
  from?: string;
  /** The `next` of the previous page. */
  before?: number;
  /** 1..SEARCH_PAGE_MAX. */
  limit: number;
}

export interface SearchHit {
  id: number;
  ts: number;
  /** Null for a private message. */
  room: string | null;
  /** Who sent it. */
  nick: string;
  /** The recipient of a private message. */
  to?: string;
  /** The text, or a part of at most SEARCH_SNIPPET_MAX characters around the first match, with `…` where cut. */
  text: string;
  /** [start, end) of each match in `text`, in UTF-16 code units (JavaScript string indexes), sorted, not overlapping. */
  highlights: [number, number][];
}

export interface SearchPage {
  results: SearchHit[];
  more: boolean;
  /** With `more`: the `before` of the next page. */
  next?: number;
}

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
  /** Newest messages looked at first, walking back by id: enough for a common word. */
  recentWindow: number;
  /** Index candidates read (heap rows visited) before a word counts as frequent. */
  indexCap: number;
  /** Messages walked back for a frequent word before the index is read in full. */
  walkBudget: number;
}

/** One step of a search, for benchmarks and tests (`MessageSearch` option `trace`). */
export interface SearchStep {
  rank: 'words' | 'parts';
  step: 'recent' | 'index' | 'walk' | 'index-all';
  ms: number;
  rows: number;
}

export const SEARCH_PLAN: Readonly<SearchPlan> = { recentWindow: 2_000, indexCap: 2_000, walkBudget: 100_000 };

type Tx = Transaction<any>;

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

    await this.#db.transaction().execute(async (trx) => {
      // Plans are chosen here, step by step: no parallel workers (their start costs more than a
      // page of results) and no JIT (Postgres would compile the larger plans).
      await sql.raw('SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off').execute(trx);
      const ctx: RankContext = { q, words, byWords, plan: this.#plan, trace: this.#trace };
      // The whole-word rank first (unless the cursor is already past it), then parts of words.
      const inParts = q.before !== undefined && q.before >= SEARCH_PARTIAL_CURSOR;
      if (!inParts && byWords) {
        for (const row of await rank(trx, 'words', ctx, q.before, q.limit + 1)) hits.push({ row, rank: 'words' });
      }
      if (hits.length <= q.limit && byParts) {
        const below = inParts ? q.before! - SEARCH_PARTIAL_CURSOR : undefined;
        for (const row of await rank(trx, 'parts', ctx, below, q.limit + 1 - hits.length)) hits.push({ row, rank: 'parts' });
      }
    });

    const more = hits.length > q.limit;
    const page = hits.slice(0, q.limit);
    const results = page.map(({ row, rank }) => toHit(row, words, rank));
    if (!more) return { results, more };
    const last = page[page.length - 1]!;
    // A full page of whole words with parts of words still to come: continue below the last word hit.
    const next = last.rank === 'words' ? Number(last.row.id) : SEARCH_PARTIAL_CURSOR + Number(last.row.id);
    return { results, more, next };
  }
}

/** A query word that parts-of-words matching can use: a run of letters or digits pg_trgm indexes. */
const PARTIAL_RUN = new RegExp(`[\\p{L}\\p{N}]{${SEARCH_PARTIAL_MIN}}`, 'u');

interface RankContext {
  q: CheckedQuery;
  words: string[];
  byWords: boolean;
  plan: SearchPlan;
  trace: ((step: SearchStep) => void) | undefined;
}

/**
 * The newest `want` messages of one rank below `before`, in at most three bounded steps, because
 * no single plan is good for every word: the GIN index finds a rare word at once but must visit
 * every row of a common one (and cannot give them in id order), while walking back from the newest
 * message finds a common word at once and a rare one never.
 *
 * 1. Walk the newest `recentWindow` messages: a common word is done here.
 * 2. Read the index, visiting at most `indexCap` candidate rows: when there are fewer, they are
 *    all the matches, and the newest are the answer (rare and middling words end here).
 * 3. Otherwise the word is frequent but not recent: walk on, at most `walkBudget` messages, then
 *    read the index in full below what was walked.
 */
async function rank(trx: Tx, which: Rank, ctx: RankContext, before: number | undefined, want: number): Promise<HitRow[]> {
  const { q, plan } = ctx;
  const match = rankMatch(which, ctx);
  const scope = scopeOf(q);
  let t = performance.now();
  const step = (name: SearchStep['step'], rows: number) => {
    const now = performance.now();
    ctx.trace?.({ rank: which, step: name, ms: now - t, rows });
    t = now;
  };

  // 1. The newest messages.
  const recent = await walk(trx, match, scope, q, before, plan.recentWindow, want);
  step('recent', recent.rows.length);
  if (recent.rows.length >= want || recent.exhausted) return recent.rows;
  let found = recent.rows;
  const below = recent.lowest;

  // 2. The index, capped: all matches when they are few.
  await sql.raw('SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off').execute(trx);
  const probe = await sql<HitRow & { candidates: number }>`
    WITH cand AS MATERIALIZED (
      SELECT m.id, m.created_at, m.room, m.sender, m.recipient, m.text, m.sender_owner, m.recipient_owner, m.sender_key, m.deleted_at
      FROM messages m
      WHERE ${match.indexed} AND m.id < ${below}
      LIMIT ${plan.indexCap}
    ), hits AS (
      SELECT m.id, m.created_at, m.room, m.sender, m.recipient, m.text FROM cand m
      WHERE ${scope} AND ${match.exact}
      ORDER BY m.id DESC
      LIMIT ${want - found.length}
    )
    SELECT (SELECT count(*) FROM cand)::int AS candidates, h.* FROM (SELECT 1) one LEFT JOIN hits h ON true`.execute(trx);
  const candidates = Number(probe.rows[0]?.candidates ?? 0);
  step('index', candidates);
  if (candidates < plan.indexCap) {
    await sql.raw('SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = on').execute(trx);
    return found.concat(probe.rows.filter((r) => r.id !== null));
  }

  // 3. Frequent but not recent: walk further, then the whole index below the walk.
  await sql.raw('SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = on').execute(trx);
  const further = await walk(trx, match, scope, q, below, plan.walkBudget, want - found.length);
  step('walk', further.rows.length);
  found = found.concat(further.rows);
  if (found.length >= want || further.exhausted) return found;
  await sql.raw('SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off').execute(trx);
  const rest = await sql<HitRow>`
    SELECT m.id, m.created_at, m.room, m.sender, m.recipient, m.text FROM messages m
    WHERE ${match.indexed} AND ${match.exact} AND ${scope} AND m.id < ${further.lowest}
    ORDER BY m.id DESC
    LIMIT ${want - found.length}`.execute(trx);
  step('index-all', rest.rows.length);
  await sql.raw('SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = on').execute(trx);
  return found.concat(rest.rows);
}

interface RankMatch {
  /** The condition the rank's GIN index answers. */
  indexed: RawBuilder<unknown>;
  /** What else a row must meet (checked on the few rows the index or the walk gives). */
  exact: RawBuilder<unknown>;
  /** The whole condition for a walk: a cheap necessary test first, on every row walked. */
  walked: RawBuilder<unknown>;
}

function rankMatch(which: Rank, { q, words, byWords }: RankContext): RankMatch {
  const wholeWords = sql`to_tsvector('simple', m.text) @@ plainto_tsquery('simple', ${q.text})`;
  const parts = sql.join(
    words.map((w) => sql`m.text ILIKE ${`%${escapeLike(w)}%`}`),
    sql` AND `,
  );
  if (which === 'words') {
    // Every word of the query is, lower-cased, a part of a matching text: a quick test before the
    // parse of the text (to_tsvector is the costliest step of a walk).
    const lexemes = sql`m.text ILIKE ALL (ARRAY(
      SELECT '%' || replace(replace(replace(l, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'
      FROM unnest(tsvector_to_array(to_tsvector('simple', ${q.text}))) l))`;
    return { indexed: wholeWords, exact: sql`true`, walked: sql`${lexemes} AND ${wholeWords}` };
  }
  // Whole-word hits were listed in the first rank: never twice.
  const exact = byWords ? sql`NOT (${wholeWords})` : sql`true`;
  return { indexed: parts, exact, walked: sql`${parts} AND ${exact}` };
}

/**
 * Walks back from `before` through at most `budget` messages (of `q.room` when given, else of the
 * whole table), newest first, keeping the first `want` that are in scope and match. `exhausted`:
 * no message is left below the walk; `lowest`: where the walk stopped.
 */
async function walk(
  trx: Tx,
  match: RankMatch,
  scope: RawBuilder<unknown>,
  q: CheckedQuery,
  before: number | undefined,
  budget: number,
  want: number,
): Promise<{ rows: HitRow[]; exhausted: boolean; lowest: number }> {
  const where = [q.room !== undefined ? sql`w.room = ${q.room}` : sql`true`];
  if (before !== undefined) where.push(sql`w.id < ${before}`);
  const window = sql`
    SELECT w.id FROM messages w WHERE ${sql.join(where, sql` AND `)}
    ORDER BY w.id DESC LIMIT ${budget}`;
  // The LIMIT inside keeps the scan a walk back by id (the index cannot be chosen for it), and
  // bounds it; the outer LIMIT stops it as soon as the page is full.
  const result = await sql<HitRow>`
    SELECT m.id, m.created_at, m.room, m.sender, m.recipient, m.text
    FROM (${sql`
      SELECT w.id, w.created_at, w.room, w.sender, w.recipient, w.text, w.sender_owner, w.recipient_owner, w.sender_key, w.deleted_at
      FROM messages w WHERE ${sql.join(where, sql` AND `)}
      ORDER BY w.id DESC LIMIT ${budget}`}) m
    WHERE ${scope} AND ${match.walked}
    ORDER BY m.id DESC
    LIMIT ${want}`.execute(trx);
  if (result.rows.length >= want) return { rows: result.rows, exhausted: false, lowest: Number(result.rows[result.rows.length - 1]!.id) };
  // The page is not full: the whole window was read. Where did it end?
  const end = await sql<{ lowest: number | null; n: number }>`SELECT min(id) AS lowest, count(*)::int AS n FROM (${window}) x`.execute(trx);
  const row = end.rows[0];
  const n = Number(row?.n ?? 0);
  return { rows: result.rows, exhausted: n < budget, lowest: n === 0 ? (before ?? 0) : Number(row!.lowest) };
}

/** Where to look: the rooms the user may read and its own private messages, or one room; one sender. */
function scopeOf(q: CheckedQuery): RawBuilder<unknown> {
  const where: RawBuilder<unknown>[] = [];
  if (q.room !== undefined) {
    where.push(sql`m.room = ${q.room}`);
  } else {
    where.push(sql`(m.room = ANY(${q.rooms}::text[]) OR (m.recipient IS NOT NULL AND (m.sender_owner = ${q.owner} OR m.recipient_owner = ${q.owner})))`);
  }
  if (q.from !== undefined) where.push(sql`m.sender_key = lower(${q.from})`);
  // A deleted message's text is '' (it cannot match anyway); an edited one is searched as it reads now.
  where.push(sql`m.deleted_at IS NULL`);
  return sql.join(where, sql` AND `);
}

// ---------- snippets ----------

function toHit(row: HitRow, words: string[], rank: Rank): SearchHit {
  const { text, highlights } = snippet(row.text, findMatches(row.text, words, rank === 'words'));
  const hit: SearchHit = { id: Number(row.id), ts: row.created_at.getTime(), room: row.room, nick: row.sender, text, highlights };
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
    if (m[0].length > 0) all.push([m.index!, m.index! + m[0].length]);
  }
  if (!wholeWords) return all;
  const standalone = all.filter(([s, e]) => !(s > 0 && WORD_CHAR.test(charBefore(text, s))) && !(e < text.length && WORD_CHAR.test(charAt(text, e))));
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
  if (length < 1 || length > SEARCH_QUERY_MAX) throw bad(`q must be 1 to ${SEARCH_QUERY_MAX} characters (not counting spaces around it)`);
  if (text.includes('\u0000')) throw bad('q contains a NUL character (U+0000)');
  if (!Number.isSafeInteger(query.limit) || query.limit < 1 || query.limit > SEARCH_PAGE_MAX) throw bad(`limit must be an integer from 1 to ${SEARCH_PAGE_MAX}`);
  const out: CheckedQuery = { owner, rooms, text, limit: query.limit };
  if (query.room !== undefined) out.room = checkText(query.room, 'room');
  if (query.from !== undefined) out.from = checkText(query.from, 'from');
  if (query.before !== undefined) {
    if (!Number.isSafeInteger(query.before) || query.before < 0) throw bad('before must be the `next` of a previous page (a non-negative integer)');
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
