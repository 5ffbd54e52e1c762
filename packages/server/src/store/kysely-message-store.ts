/**
 * The MessageStore over Kysely: the same SQL on PGlite and on a Postgres server.
 */
import {
  HIGHLIGHT_WORD_PATTERN,
  HIGHLIGHT_WORDS_MAX,
  nickKey,
  type PrivateMessage,
  type RoomMessage,
} from '@teamchat/protocol';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './database.js';
import type {
  HistoryQuery,
  LoadedRoom,
  BatchResult,
  MessageStore,
  NewMessage,
  RoomAccess,
  MessageInfo,
  UnreadCount,
  WriteOptions,
  StateWrite,
  StoreSnapshot,
  StoredRoom,
  WriteBatch,
} from './message-store.js';
import type { ChatSchema } from './schema.js';
import { StoreError } from './store-error.js';
import {
  highlightWordsOf,
  lockSearchMark,
  mentionsOf,
  messageInfo,
  planTeamWrite,
  pmUnreadCounts,
  reactionsOf,
  unreadCounts,
} from './team-features-store.js';

type Db = Kysely<ChatSchema> | Transaction<ChatSchema>;

/** Advisory lock key of id reservations (any constant other writers do not use; the migrator's is 7_355_608_001). */
const RESERVE_IDS_LOCK = 7_355_608_002;

interface MessageRow {
  id: number;
  room: string | null;
  reply_to?: number | null;
  edited_at?: Date | null;
  deleted_at?: Date | null;
  sender: string;
  recipient: string | null;
  text: string;
  action: boolean;
  created_at: Date;
}

const MESSAGE_COLUMNS = [
  'id',
  'room',
  'sender',
  'recipient',
  'text',
  'action',
  'created_at',
  'reply_to',
  'edited_at',
  'deleted_at',
] as const;

/**
 * @example
 * const store = new KyselyMessageStore(database);
 * const [id] = await store.writeBatch({ messages: [{ kind: 'room', room: 'general', nick: 'Ann', text: 'hi', action: false, ts: Date.now() }], state: [] });
 * const page = await store.roomHistory('general', { limit: 50 });
 */
export class KyselyMessageStore implements MessageStore {
  readonly #db: Kysely<ChatSchema>;

  constructor(database: Database) {
    this.#db = database.kysely as Kysely<ChatSchema>;
  }

  async loadSnapshot(recentPerRoom: number): Promise<StoreSnapshot> {
    checkLimit(recentPerRoom, 'recentPerRoom');
    const roomRows = await this.#db
      .selectFrom('rooms')
      .select(['name', 'topic', 'topic_by', 'created_at', 'creator', 'key_hash', 'invite_only'])
      .orderBy('name')
      .execute();
    const memberships = await this.#db
      .selectFrom('memberships')
      .select(['nick_key as nick', 'room'])
      .orderBy('room')
      .orderBy('nick_key')
      .execute();
    let recent: RoomMessage[] = [];
    if (recentPerRoom > 0 && roomRows.length > 0) {
      // One query: for every room, its latest n messages through the (room, id) index.
      const result = await sql<MessageRow>`
        SELECT m.id, m.room, m.sender, m.recipient, m.text, m.action, m.created_at
        FROM rooms r
        CROSS JOIN LATERAL (
          SELECT id, room, sender, recipient, text, action, created_at
          FROM messages
          WHERE messages.room = r.name
          ORDER BY id DESC
          LIMIT ${recentPerRoom}
        ) m
        ORDER BY m.room, m.id`.execute(this.#db);
      recent = result.rows.map(toRoomMessage);
    }
    const rooms: StoredRoom[] = roomRows.map(toStoredRoom);
    const accounts = await this.#db
      .selectFrom('users')
      .select(['nick_key as nick', 'password_hash as hash'])
      .where('password_hash', 'is not', null)
      .execute();
    const invites = await this.#db.selectFrom('room_invites').select(['room', 'nick_key as nick']).execute();
    return { rooms, memberships, recent, accounts: accounts as { nick: string; hash: string }[], invites };
  }

  async writeBatch(batch: WriteBatch, options: WriteOptions = {}): Promise<BatchResult> {
    const columns = checkBatch(batch);
    const steps = planStateWrites(batch.state);
    if (!options.ordered && (steps.length === 0 || (steps.length === 1 && !columns))) {
      // A single statement is its own transaction: skip BEGIN/COMMIT round trips on the hot path.
      if (steps.length === 1) await steps[0](this.#db);
      const result = columns ? await insertMessages(this.#db, columns, null) : { ids: [], repeated: [] };
      return { ...result, batch: null };
    }
    return this.#db.transaction().execute(async (trx) => {
      // Cluster order: lock the stream row first, so ids are taken in commit order (migrations/005).
      const batchNo = options.ordered
        ? Number(
            (
              await sql<{
                batch: number;
              }>`UPDATE cluster_stream SET batch = batch + 1 WHERE id = 1 RETURNING batch`.execute(trx)
            ).rows[0].batch,
          )
        : null;
      const result = columns ? await insertMessages(trx, columns, batchNo) : { ids: [], repeated: [] };
      for (const step of steps) await step(trx);
      return { ...result, batch: batchNo };
    });
  }

  /** The password hash of a registered nick (by key), read now; null when it is not registered. */
  async accountHash(key: string): Promise<string | null> {
    checkText(key, 'key');
    const row = await this.#db
      .selectFrom('users')
      .select('password_hash')
      .where('nick_key', '=', key)
      .executeTakeFirst();
    return row?.password_hash ?? null;
  }

  /** Registers a nick that is not registered yet; false (nothing changed) when it already is. */
  async createAccount(nick: string, hash: string, at: number): Promise<boolean> {
    checkText(nick, 'nick');
    checkText(hash, 'hash');
    const result = await sql<{ nick_key: string }>`
      INSERT INTO users (nick_key, nick, created_at, password_hash, registered_at)
      VALUES (${nickKey(nick)}, ${nick}, ${ts(at)}, ${hash}, ${ts(at)})
      ON CONFLICT (nick_key) DO UPDATE SET nick = EXCLUDED.nick, password_hash = EXCLUDED.password_hash, registered_at = EXCLUDED.registered_at
      WHERE users.password_hash IS NULL
      RETURNING nick_key`.execute(this.#db);
    return result.rows.length === 1;
  }

  /** A room's modes, and whether `owner` is invited or a member: what a join decides on. Null: no such room. */
  async roomAccess(room: string, owner: string): Promise<RoomAccess | null> {
    checkText(room, 'room');
    checkText(owner, 'owner');
    const result = await sql<{
      key_hash: string | null;
      invite_only: boolean;
      creator: string | null;
      invited: boolean;
      member: boolean;
    }>`
      SELECT r.key_hash, r.invite_only, r.creator,
        EXISTS (SELECT 1 FROM room_invites i WHERE i.room = r.name AND i.nick_key = ${owner}) AS invited,
        EXISTS (SELECT 1 FROM memberships m WHERE m.room = r.name AND m.nick_key = ${owner}) AS member
      FROM rooms r WHERE r.name = ${room}`.execute(this.#db);
    const row = result.rows[0];
    if (!row) return null;
    return {
      keyHash: row.key_hash,
      inviteOnly: row.invite_only,
      creator: row.creator,
      invited: row.invited,
      member: row.member,
    };
  }

  async messageInfo(id: number): Promise<MessageInfo | null> {
    return messageInfo(this.#db, checkLimit(id, 'id'));
  }

  async unreadCounts(owner: string, nick: string, rooms: string[]): Promise<Record<string, UnreadCount>> {
    return unreadCounts(this.#db, checkText(owner, 'owner'), checkText(nick, 'nick'), rooms);
  }

  async pmUnreadCounts(owner: string, limit: number): Promise<Record<string, UnreadCount>> {
    return pmUnreadCounts(this.#db, checkText(owner, 'owner'), checkLimit(limit, 'limit'));
  }

  async highlightWords(owner: string): Promise<string[]> {
    return highlightWordsOf(this.#db, checkText(owner, 'owner'));
  }

  async mentions(
    owner: string,
    nick: string,
    rooms: string[],
    before: number | undefined,
    limit: number,
  ): Promise<RoomMessage[]> {
    return mentionsOf(
      this.#db,
      checkText(owner, 'owner'),
      checkText(nick, 'nick'),
      rooms,
      before,
      checkLimit(limit, 'limit'),
    );
  }

  /** The rooms `owner` is a member of (persisted), at most `limit`, by name. */
  async membershipsOf(owner: string, limit: number): Promise<string[]> {
    checkText(owner, 'owner');
    checkLimit(limit, 'limit');
    const rows = await this.#db
      .selectFrom('memberships')
      .select('room')
      .where('nick_key', '=', owner)
      .orderBy('room')
      .limit(limit)
      .execute();
    return rows.map((r) => r.room);
  }

  async roomHistory(room: string, query: HistoryQuery): Promise<RoomMessage[]> {
    checkText(room, 'room');
    const { before, after, limit, beforeTs, afterTs } = checkQuery(query);
    if (limit === 0) return [];
    let q = this.#db.selectFrom('messages').select(MESSAGE_COLUMNS).where('room', '=', room);
    if (before !== undefined) q = q.where('id', '<', before);
    // Time bounds (IRC CHATHISTORY timestamp=): ids follow commit order, so times follow ids closely;
    // the (room, id) index is walked from the near end and the time filters it.
    if (beforeTs !== undefined) q = q.where('created_at', '<', beforeTs);
    if (afterTs !== undefined) q = q.where('created_at', '>', afterTs);
    if (query.thread !== undefined) {
      const root = checkLimit(query.thread, 'thread');
      q = q.where((eb) => eb.or([eb('id', '=', root), eb('reply_to', '=', root)]));
    }
    if (after !== undefined || afterTs !== undefined) {
      if (after !== undefined) q = q.where('id', '>', after);
      const rows = await q.orderBy('id', 'asc').limit(limit).execute();
      return this.#withReactions(rows.map(toRoomMessage));
    }
    const rows = await q.orderBy('id', 'desc').limit(limit).execute();
    return this.#withReactions(rows.reverse().map(toRoomMessage));
  }

  /** Adds each message's reactions (one query for the page). */
  async #withReactions(messages: RoomMessage[]): Promise<RoomMessage[]> {
    if (messages.length === 0) return messages;
    const reactions = await reactionsOf(
      this.#db,
      messages.map((m) => m.id),
    );
    for (const m of messages) {
      const r = reactions.get(m.id);
      if (r) m.reactions = r;
    }
    return messages;
  }

  async privateHistory(owner: string, query: HistoryQuery & { peer?: string }): Promise<PrivateMessage[]> {
    checkText(owner, 'owner');
    if (query.peer !== undefined) checkText(query.peer, 'peer');
    const { before, after, limit, beforeTs, afterTs } = checkQuery(query);
    if (limit === 0) return [];
    const peer = query.peer === undefined ? undefined : nickKey(query.peer);
    const ascending = after !== undefined || afterTs !== undefined;
    const direction = ascending ? 'asc' : 'desc';

    // Each branch is an index scan by id on one of the partial owner indexes; the outer query merges.
    const branch = (side: 'sender' | 'recipient') => {
      let q = this.#db.selectFrom('messages').select(MESSAGE_COLUMNS).where('recipient', 'is not', null);
      if (side === 'sender') {
        q = q.where('sender_owner', '=', owner);
        if (peer !== undefined) q = q.where('recipient_key', '=', peer);
      } else {
        // Messages to oneself are already in the sender branch.
        q = q
          .where('recipient_owner', '=', owner)
          .where((eb) => eb.or([eb('sender_owner', 'is', null), eb('sender_owner', '<>', owner)]));
        if (peer !== undefined) q = q.where('sender_key', '=', peer);
      }
      if (before !== undefined) q = q.where('id', '<', before);
      if (after !== undefined) q = q.where('id', '>', after);
      if (beforeTs !== undefined) q = q.where('created_at', '<', beforeTs);
      if (afterTs !== undefined) q = q.where('created_at', '>', afterTs);
      return q.orderBy('id', direction).limit(limit);
    };

    // Parenthesized so each branch keeps its own ORDER BY/LIMIT (and its index scan).
    const result = await sql<MessageRow>`
      SELECT * FROM ((${branch('sender')}) UNION ALL (${branch('recipient')})) pm
      ORDER BY id ${sql.raw(direction)}
      LIMIT ${limit}`.execute(this.#db);
    const rows = result.rows;
    if (!ascending) rows.reverse();
    return rows.map(toPrivateMessage);
  }

  async loadRoom(name: string, recent: number): Promise<LoadedRoom | null> {
    checkText(name, 'room');
    checkLimit(recent, 'recent');
    const row = await this.#db
      .selectFrom('rooms')
      .select(['name', 'topic', 'topic_by', 'created_at', 'creator', 'key_hash', 'invite_only'])
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row) return null;
    const invites = await this.#db.selectFrom('room_invites').select('nick_key').where('room', '=', name).execute();
    const messages = recent > 0 ? await this.roomHistory(name, { limit: recent }) : [];
    return { room: toStoredRoom(row), invites: invites.map((i) => i.nick_key), recent: messages };
  }

  async identitySecret(id: string): Promise<string | null> {
    checkText(id, 'id');
    const row = await this.#db.selectFrom('identities').select('secret_hash').where('id', '=', id).executeTakeFirst();
    return row?.secret_hash ?? null;
  }

  /**
   * One block of `count` consecutive ids in one step: the sequence is advanced by `count` at once
   * (nextval, then setval to the block's end) instead of `count` nextval calls, which cost a second
   * per 20,000 ids on PGlite. Reservations take an advisory lock, so two servers on one database
   * never interleave their blocks. Every writer of messages reserves its ids here (the batch writer
   * does); an insert that took ids from the sequence directly while a block is being reserved could
   * collide with it.
   */
  async reserveIds(count: number): Promise<number[]> {
    checkLimit(count, 'count');
    if (count === 0) return [];
    const first = await this.#db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${sql.lit(RESERVE_IDS_LOCK)})`.execute(trx);
      const result = await sql<{ first: number }>`
        WITH block AS (SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS first)
        SELECT first, setval(pg_get_serial_sequence('messages', 'id'), first + ${count}::int - 1) FROM block`.execute(
        trx,
      );
      return Number(result.rows[0].first);
    });
    return Array.from({ length: count }, (_, i) => first + i);
  }

  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.#db);
  }
}

// ---------- writes ----------

/** The batch's messages as one array per column, for one `unnest` insert. */
interface MessageColumns {
  /** Reserved ids, or null when the database assigns them. */
  id: number[] | null;
  room: (string | null)[];
  sender: string[];
  recipient: (string | null)[];
  senderOwner: (string | null)[];
  recipientOwner: (string | null)[];
  text: string[];
  action: boolean[];
  ms: number[];
  cid: (string | null)[];
  replyTo: (number | null)[];
}

/**
 * One statement for the whole batch: `unnest` turns the array parameters into rows (no
 * 65535-parameter limit, one plan for every batch size). Ids come from one identity sequence in
 * the order rows are inserted (`ORDER BY ord`), so sorting them gives the input order.
 *
 * A message whose client id (`cid`) its owner already used is not stored again (the unique index
 * of migrations/005): it is reported in `repeated`, with the stored message's id.
 */
async function insertMessages(
  db: Db,
  c: MessageColumns,
  batch: number | null,
): Promise<{ ids: number[]; repeated: number[] }> {
  const withCids = c.cid.some((cid) => cid !== null);
  const conflict = withCids ? sql`ON CONFLICT (sender_owner, cid) WHERE cid IS NOT NULL DO NOTHING` : sql``;
  const n = c.text.length;
  const batches = new Array<number | null>(n).fill(batch);
  let stored: { id: number; sender_owner: string | null; cid: string | null }[];
  if (c.id) {
    // Ids reserved from the sequence beforehand (reserveIds): written as given.
    const result = await sql<{ id: number; sender_owner: string | null; cid: string | null }>`
      INSERT INTO messages (id, room, sender, recipient, sender_owner, recipient_owner, text, action, created_at, batch, cid, reply_to)
      OVERRIDING SYSTEM VALUE
      SELECT u.id, u.room, u.sender, u.recipient, u.so, u.ro, u.text, u.action, to_timestamp(u.ms / 1000.0), u.batch, u.cid, u.reply_to
      FROM unnest(
        ${c.id}::bigint[], ${c.room}::text[], ${c.sender}::text[], ${c.recipient}::text[],
        ${c.senderOwner}::text[], ${c.recipientOwner}::text[],
        ${c.text}::text[], ${c.action}::boolean[], ${c.ms}::float8[], ${batches}::bigint[], ${c.cid}::text[], ${c.replyTo}::bigint[]
      ) AS u(id, room, sender, recipient, so, ro, text, action, ms, batch, cid, reply_to)
      ${conflict}
      ${withCids ? sql`RETURNING id, sender_owner, cid` : sql``}`.execute(db);
    if (!withCids) return { ids: c.id, repeated: [] };
    stored = result.rows;
  } else {
    const result = await sql<{ id: number; sender_owner: string | null; cid: string | null }>`
      INSERT INTO messages (room, sender, recipient, sender_owner, recipient_owner, text, action, created_at, batch, cid, reply_to)
      SELECT u.room, u.sender, u.recipient, u.so, u.ro, u.text, u.action, to_timestamp(u.ms / 1000.0), u.batch, u.cid, u.reply_to
      FROM unnest(
        ${c.room}::text[], ${c.sender}::text[], ${c.recipient}::text[],
        ${c.senderOwner}::text[], ${c.recipientOwner}::text[],
        ${c.text}::text[], ${c.action}::boolean[], ${c.ms}::float8[], ${batches}::bigint[], ${c.cid}::text[], ${c.replyTo}::bigint[]
      ) WITH ORDINALITY AS u(room, sender, recipient, so, ro, text, action, ms, batch, cid, reply_to, ord)
      ORDER BY u.ord
      ${conflict}
      RETURNING id, sender_owner, cid`.execute(db);
    stored = result.rows;
  }
  stored = stored.map((r) => ({ ...r, id: Number(r.id) })).sort((a, b) => a.id - b.id);
  const key = (owner: string | null, cid: string | null) => `${owner}\u0000${cid}`;
  const fresh = new Set(
    stored.filter((r) => r.cid !== null && r.sender_owner !== null).map((r) => key(r.sender_owner, r.cid)),
  );
  const ids = new Array<number>(n);
  const repeated: number[] = [];
  let next = 0;
  for (let i = 0; i < n; i++) {
    const cid = c.cid[i]!;
    const k = key(c.senderOwner[i], cid);
    if (cid !== null && c.senderOwner[i] !== null && !fresh.delete(k)) repeated.push(i);
    else ids[i] = c.id ? c.id[i] : stored[next++].id;
  }
  if (repeated.length > 0) {
    const owners = repeated.map((i) => c.senderOwner[i]!);
    const cids = repeated.map((i) => c.cid[i]!);
    const originals = await sql<{ id: number; sender_owner: string; cid: string }>`
      SELECT m.id, m.sender_owner, m.cid FROM messages m
      JOIN unnest(${owners}::text[], ${cids}::text[]) AS u(so, cid) ON m.sender_owner = u.so AND m.cid = u.cid`.execute(
      db,
    );
    const byKey = new Map(originals.rows.map((r) => [key(r.sender_owner, r.cid), Number(r.id)]));
    for (const i of repeated) ids[i] = byKey.get(key(c.senderOwner[i], c.cid[i])) ?? 0;
  }
  return { ids, repeated };
}

type Step = (db: Db) => Promise<void>;

/**
 * Turns the state writes into statements, in order. A run of consecutive writes of the same kind
 * (joins at start-up, a burst of parts) becomes one `unnest` statement instead of one round trip
 * per write; that is equivalent because writes within such a run do not depend on each other
 * (adds and removes are idempotent per pair; for `room` and `user` the last one wins).
 */
function planStateWrites(writes: StateWrite[]): Step[] {
  const steps: Step[] = [];
  for (let i = 0; i < writes.length;) {
    const op = writes[i].op;
    let j = i + 1;
    if (
      op !== 'topic' &&
      op !== 'edit' &&
      op !== 'delete' &&
      op !== 'react' &&
      op !== 'marker' &&
      op !== 'highlights' &&
      op !== 'presence-join' &&
      op !== 'presence-leave' &&
      op !== 'nick-release' &&
      op !== 'membership-rename' &&
      op !== 'owner-rename' &&
      op !== 'account' &&
      op !== 'room-mode' &&
      op !== 'invite' &&
      op !== 'identity'
    ) {
      while (j < writes.length && writes[j].op === op) j++;
    }
    const run = writes.slice(i, j);
    const step = planRun(run);
    if (step) steps.push(step);
    i = j;
  }
  return steps;
}

function planRun(run: StateWrite[]): Step | null {
  const first = run[0];
  const team = planTeamWrite(first);
  if (team) return team;
  switch (first.op) {
    case 'room': {
      const rooms = run as Extract<StateWrite, { op: 'room' }>[];
      const names = rooms.map((w) => w.room);
      const ms = rooms.map((w) => w.ts);
      const creators = rooms.map((w) => (w.creator === undefined ? null : nickKey(w.creator)));
      return async (db) => {
        await sql`
          INSERT INTO rooms (name, created_at, creator)
          SELECT u.name, to_timestamp(u.ms / 1000.0), u.creator
          FROM unnest(${names}::text[], ${ms}::float8[], ${creators}::text[]) AS u(name, ms, creator)
          ON CONFLICT (name) DO NOTHING`.execute(db);
      };
    }
    case 'membership-add': {
      const adds = run as Extract<StateWrite, { op: 'membership-add' }>[];
      const nicks = adds.map((w) => nickKey(w.nick));
      const rooms = adds.map((w) => w.room);
      const ms = adds.map((w) => w.ts);
      // A room is created with its first member when it does not exist yet (memberships reference rooms).
      return async (db) => {
        await sql`
          WITH u AS (
            SELECT * FROM unnest(${nicks}::text[], ${rooms}::text[], ${ms}::float8[]) WITH ORDINALITY AS u(nick_key, room, ms, ord)
          ), new_rooms AS (
            INSERT INTO rooms (name, created_at)
            SELECT room, to_timestamp(min(ms) / 1000.0) FROM u GROUP BY room
            ON CONFLICT (name) DO NOTHING
          )
          INSERT INTO memberships (nick_key, room, joined_at)
          SELECT nick_key, room, to_timestamp(ms / 1000.0) FROM u ORDER BY ord
          ON CONFLICT (nick_key, room) DO NOTHING`.execute(db);
      };
    }
    case 'membership-remove': {
      const removes = run as Extract<StateWrite, { op: 'membership-remove' }>[];
      const nicks = removes.map((w) => nickKey(w.nick));
      const rooms = removes.map((w) => w.room);
      return async (db) => {
        await sql`
          DELETE FROM memberships m
          USING unnest(${nicks}::text[], ${rooms}::text[]) AS u(nick_key, room)
          WHERE m.nick_key = u.nick_key AND m.room = u.room`.execute(db);
      };
    }
    case 'user': {
      // One row per nick key (an upsert may not touch a row twice in one statement): the last wins.
      const latest = new Map<string, Extract<StateWrite, { op: 'user' }>>();
      for (const w of run as Extract<StateWrite, { op: 'user' }>[]) latest.set(nickKey(w.nick), w);
      const keys = [...latest.keys()];
      const nicks = [...latest.values()].map((w) => w.nick);
      const ms = [...latest.values()].map((w) => w.ts);
      return async (db) => {
        await sql`
          INSERT INTO users (nick_key, nick, created_at)
          SELECT u.nick_key, u.nick, to_timestamp(u.ms / 1000.0)
          FROM unnest(${keys}::text[], ${nicks}::text[], ${ms}::float8[]) AS u(nick_key, nick, ms)
          ON CONFLICT (nick_key) DO UPDATE SET nick = EXCLUDED.nick`.execute(db);
      };
    }
    case 'membership-rename': {
      const from = nickKey(first.from);
      const to = nickKey(first.to);
      if (from === to) return null; // a change of case only: same key, nothing moves
      // Move every membership of `from` to `to`, merging with the rooms `to` is already in.
      return async (db) => {
        await sql`
          WITH moved AS (DELETE FROM memberships WHERE nick_key = ${from} RETURNING room, joined_at)
          INSERT INTO memberships (nick_key, room, joined_at)
          SELECT ${to}, room, joined_at FROM moved
          ON CONFLICT (nick_key, room) DO NOTHING`.execute(db);
      };
    }
    case 'account': {
      const key = nickKey(first.nick);
      return async (db) => {
        await sql`
          INSERT INTO users (nick_key, nick, created_at, password_hash, registered_at)
          VALUES (${key}, ${first.nick}, ${ts(first.ts)}, ${first.hash}, ${ts(first.ts)})
          ON CONFLICT (nick_key) DO UPDATE
          SET password_hash = EXCLUDED.password_hash, registered_at = EXCLUDED.registered_at`.execute(db);
      };
    }
    case 'room-mode':
      return async (db) => {
        await sql`UPDATE rooms SET key_hash = ${first.keyHash}, invite_only = ${first.inviteOnly} WHERE name = ${first.room}`.execute(
          db,
        );
        if (!first.inviteOnly) await sql`DELETE FROM room_invites WHERE room = ${first.room}`.execute(db);
      };
    case 'invite':
      return async (db) => {
        await sql`
          INSERT INTO room_invites (room, nick_key, invited_by, invited_at)
          VALUES (${first.room}, ${nickKey(first.nick)}, ${first.by}, ${ts(first.ts)})
          ON CONFLICT (room, nick_key) DO NOTHING`.execute(db);
      };
    case 'identity':
      return async (db) => {
        await sql`
          INSERT INTO identities (id, secret_hash, created_at)
          VALUES (${first.id}, ${first.secretHash}, ${ts(first.ts)})
          ON CONFLICT (id) DO NOTHING`.execute(db);
      };
    case 'owner-rename': {
      const { from, to } = first;
      if (from === to) return null;
      return async (db) => {
        await sql`
          WITH moved AS (DELETE FROM memberships WHERE nick_key = ${from} RETURNING room, joined_at)
          INSERT INTO memberships (nick_key, room, joined_at)
          SELECT ${to}, room, joined_at FROM moved
          ON CONFLICT (nick_key, room) DO NOTHING`.execute(db);
        await sql`
          WITH moved AS (DELETE FROM room_invites WHERE nick_key = ${from} RETURNING room, invited_by, invited_at)
          INSERT INTO room_invites (room, nick_key, invited_by, invited_at)
          SELECT room, ${to}, invited_by, invited_at FROM moved
          ON CONFLICT (room, nick_key) DO NOTHING`.execute(db);
        await sql`UPDATE rooms SET creator = ${to} WHERE creator = ${from}`.execute(db);
        await sql`UPDATE messages SET sender_owner = ${to} WHERE sender_owner = ${from} AND recipient IS NOT NULL`.execute(
          db,
        );
        await sql`UPDATE messages SET recipient_owner = ${to} WHERE recipient_owner = ${from} AND recipient IS NOT NULL`.execute(
          db,
        );
        // Highlight words go along, unless the account has its own already.
        await sql`
          WITH moved AS (DELETE FROM highlight_words WHERE owner = ${from} RETURNING words, updated_at)
          INSERT INTO highlight_words (owner, words, updated_at)
          SELECT ${to}, words, updated_at FROM moved
          ON CONFLICT (owner) DO NOTHING`.execute(db);
        // Read markers go along (the further one wins where both read a conversation), and
        // reactions (one per emoji and person: the account's own stays).
        await sql`
          WITH moved AS (DELETE FROM read_markers WHERE owner = ${from} RETURNING conversation, message_id, updated_at)
          INSERT INTO read_markers (owner, conversation, message_id, updated_at)
          SELECT ${to}, conversation, message_id, updated_at FROM moved
          ON CONFLICT (owner, conversation) DO UPDATE
          SET message_id = GREATEST(read_markers.message_id, EXCLUDED.message_id)`.execute(db);
        await sql`
          WITH moved AS (DELETE FROM message_reactions WHERE owner = ${from} RETURNING message_id, emoji, nick, created_at)
          INSERT INTO message_reactions (message_id, emoji, owner, nick, created_at)
          SELECT message_id, emoji, ${to}, nick, created_at FROM moved
          ON CONFLICT (message_id, emoji, owner) DO NOTHING`.execute(db);
        // Search finds private messages by their owners' keys ('@' || owner, migrations/008): the
        // indexed copies follow the messages (after an indexer step in progress, which may be
        // copying them with the old owner right now).
        await lockSearchMark(db);
        await sql`
          UPDATE message_search SET keys = array_replace(keys, ${`@${from}`}, ${`@${to}`})
          WHERE keys @> ARRAY[${`@${from}`}]::text[]`.execute(db);
      };
    }
    case 'presence-join':
      return async (db) => {
        await sql`
          INSERT INTO room_presence (room, nick_key, nick, instance) VALUES (${first.room}, ${first.key}, ${first.nick}, ${first.instance})
          ON CONFLICT (room, nick_key) DO UPDATE SET nick = EXCLUDED.nick, instance = EXCLUDED.instance`.execute(db);
      };
    case 'presence-leave':
      return async (db) => {
        await sql`DELETE FROM room_presence WHERE room = ${first.room} AND nick_key = ${first.key}`.execute(db);
      };
    case 'nick-release':
      return async (db) => {
        await sql`DELETE FROM online_nicks WHERE nick_key = ${first.key} AND instance = ${first.instance}`.execute(db);
      };
    case 'topic': {
      const topic = first.topic === '' ? null : first.topic;
      const by = topic === null ? null : first.by;
      return async (db) => {
        await sql`
          INSERT INTO rooms (name, topic, topic_by, topic_at, created_at)
          VALUES (${first.room}, ${topic}, ${by}, ${ts(first.ts)}, ${ts(first.ts)})
          ON CONFLICT (name) DO UPDATE
          SET topic = EXCLUDED.topic, topic_by = EXCLUDED.topic_by, topic_at = EXCLUDED.topic_at`.execute(db);
      };
    }
    default:
      // Replies, edits, deletes, reactions and markers: planTeamWrite above.
      return null;
  }
}

/** Epoch ms as a timestamptz parameter. */
function ts(ms: number) {
  return sql`to_timestamp(${ms}::float8 / 1000.0)`;
}

// ---------- reads ----------

interface RoomRow {
  name: string;
  topic: string | null;
  topic_by: string | null;
  created_at: Date;
  creator: string | null;
  key_hash: string | null;
  invite_only: boolean;
}

function toStoredRoom(r: RoomRow): StoredRoom {
  return {
    name: r.name,
    topic: r.topic,
    topicBy: r.topic_by,
    createdAt: r.created_at.getTime(),
    // Room modes (003) only when set: most rooms have none.
    ...(r.creator !== null ? { creator: r.creator } : {}),
    ...(r.key_hash !== null ? { keyHash: r.key_hash } : {}),
    ...(r.invite_only ? { inviteOnly: true } : {}),
  };
}

export function toRoomMessage(row: MessageRow): RoomMessage {
  const message: RoomMessage = {
    id: Number(row.id),
    ts: row.created_at.getTime(),
    room: row.room!,
    nick: row.sender,
    text: row.text,
  };
  if (row.action) message.action = true;
  if (row.reply_to !== null && row.reply_to !== undefined) message.replyTo = Number(row.reply_to);
  if (row.deleted_at) message.deleted = true;
  else if (row.edited_at) message.edited = row.edited_at.getTime();
  return message;
}

function toPrivateMessage(row: MessageRow): PrivateMessage {
  const message: PrivateMessage = {
    id: Number(row.id),
    ts: row.created_at.getTime(),
    from: row.sender,
    to: row.recipient!,
    text: row.text,
  };
  if (row.action) message.action = true;
  return message;
}

// ---------- input checks ----------

/**
 * Checks every value before it reaches SQL and turns the messages into columns.
 * Postgres cannot store U+0000 in text: such input is rejected (the whole batch, nothing stored)
 * with TC_STORE_BAD_INPUT, naming the offending field; callers should strip NULs before.
 */
function checkBatch(batch: WriteBatch): MessageColumns | null {
  if (!batch || !Array.isArray(batch.messages) || !Array.isArray(batch.state)) {
    throw new StoreError('TC_STORE_BAD_INPUT', 'a write batch needs `messages` and `state` arrays');
  }
  batch.state.forEach((write, i) => checkStateWrite(write, i));
  const n = batch.messages.length;
  if (n === 0) return null;
  const withIds = batch.messages[0].id !== undefined;
  // Columns of n slots, filled below (the element type comes from MessageColumns).
  const slots = <T>(): T[] => new Array<T>(n);
  const c: MessageColumns = {
    id: withIds ? slots() : null,
    room: slots(),
    sender: slots(),
    recipient: slots(),
    senderOwner: slots(),
    recipientOwner: slots(),
    text: slots(),
    action: slots(),
    ms: slots(),
    cid: slots(),
    replyTo: slots(),
  };
  for (let i = 0; i < n; i++) {
    const m: NewMessage = batch.messages[i];
    const where = `messages[${i}]`;
    if (m.kind === 'room') {
      c.room[i] = checkText(m.room, `${where}.room`);
      c.sender[i] = checkText(m.nick, `${where}.nick`);
      c.recipient[i] = null;
      c.senderOwner[i] = m.owner === undefined ? null : checkText(m.owner, `${where}.owner`);
      c.recipientOwner[i] = null;
    } else if (m.kind === 'pm') {
      c.room[i] = null;
      c.sender[i] = checkText(m.from, `${where}.from`);
      c.recipient[i] = checkText(m.to, `${where}.to`);
      c.senderOwner[i] = m.fromOwner === undefined ? null : checkText(m.fromOwner, `${where}.fromOwner`);
      c.recipientOwner[i] = m.toOwner === undefined ? null : checkText(m.toOwner, `${where}.toOwner`);
    } else {
      throw new StoreError('TC_STORE_BAD_INPUT', `${where}.kind must be 'room' or 'pm'`);
    }
    if ((m.id !== undefined) !== withIds) {
      throw new StoreError('TC_STORE_BAD_INPUT', `${where}.id: a batch has ids on all messages or on none`);
    }
    if (c.id) c.id[i] = checkLimit(m.id, `${where}.id`);
    c.text[i] = checkText(m.text, `${where}.text`, true);
    c.action[i] = m.action === true;
    c.cid[i] = m.cid === undefined ? null : checkText(m.cid, `${where}.cid`);
    c.replyTo[i] = m.kind === 'room' && m.replyTo !== undefined ? checkLimit(m.replyTo, `${where}.replyTo`) : null;
    c.ms[i] = checkTs(m.ts, `${where}.ts`);
  }
  return c;
}

function checkStateWrite(write: StateWrite, i: number): void {
  const where = `state[${i}]`;
  switch (write?.op) {
    case 'room':
      checkText(write.room, `${where}.room`);
      checkTs(write.ts, `${where}.ts`);
      return;
    case 'membership-add':
      checkText(write.nick, `${where}.nick`);
      checkText(write.room, `${where}.room`);
      checkTs(write.ts, `${where}.ts`);
      return;
    case 'membership-remove':
      checkText(write.nick, `${where}.nick`);
      checkText(write.room, `${where}.room`);
      return;
    case 'membership-rename':
      checkText(write.from, `${where}.from`);
      checkText(write.to, `${where}.to`);
      return;
    case 'identity':
      checkText(write.id, `${where}.id`);
      checkText(write.secretHash, `${where}.secretHash`);
      checkTs(write.ts, `${where}.ts`);
      return;
    case 'owner-rename':
      checkText(write.from, `${where}.from`);
      checkText(write.to, `${where}.to`);
      return;
    case 'topic':
      checkText(write.room, `${where}.room`);
      if (write.topic !== null) checkText(write.topic, `${where}.topic`, true);
      checkText(write.by, `${where}.by`);
      checkTs(write.ts, `${where}.ts`);
      return;
    case 'user':
      checkText(write.nick, `${where}.nick`);
      checkTs(write.ts, `${where}.ts`);
      return;
    case 'account':
      checkText(write.nick, `${where}.nick`);
      checkText(write.hash, `${where}.hash`);
      checkTs(write.ts, `${where}.ts`);
      return;
    case 'room-mode':
      checkText(write.room, `${where}.room`);
      if (write.keyHash !== null) checkText(write.keyHash, `${where}.keyHash`);
      if (typeof write.inviteOnly !== 'boolean')
        throw new StoreError('TC_STORE_BAD_INPUT', `${where}.inviteOnly must be a boolean`);
      return;
    case 'invite':
      checkText(write.room, `${where}.room`);
      checkText(write.nick, `${where}.nick`);
      checkText(write.by, `${where}.by`);
      checkTs(write.ts, `${where}.ts`);
      return;
    case 'presence-join':
      checkText(write.nick, `${where}.nick`);
      checkText(write.instance, `${where}.instance`);
      checkText(write.room, `${where}.room`);
      checkText(write.key, `${where}.key`);
      return;
    case 'presence-leave':
      checkText(write.room, `${where}.room`);
      checkText(write.key, `${where}.key`);
      return;
    case 'nick-release':
      checkText(write.key, `${where}.key`);
      checkText(write.instance, `${where}.instance`);
      return;
    case 'edit':
      checkLimit(write.id, `${where}.id`);
      checkText(write.text, `${where}.text`);
      checkTs(write.ts, `${where}.ts`);
      return;
    case 'delete':
      checkLimit(write.id, `${where}.id`);
      checkTs(write.ts, `${where}.ts`);
      return;
    case 'react':
      checkLimit(write.id, `${where}.id`);
      checkText(write.emoji, `${where}.emoji`);
      checkText(write.owner, `${where}.owner`);
      checkText(write.nick, `${where}.nick`);
      checkTs(write.ts, `${where}.ts`);
      return;
    case 'marker':
      checkText(write.owner, `${where}.owner`);
      checkText(write.conversation, `${where}.conversation`);
      checkLimit(write.id, `${where}.id`);
      checkTs(write.ts, `${where}.ts`);
      return;
    case 'highlights':
      checkText(write.owner, `${where}.owner`);
      if (
        !Array.isArray(write.words) ||
        write.words.length > HIGHLIGHT_WORDS_MAX ||
        !write.words.every((w) => typeof w === 'string' && HIGHLIGHT_WORD_PATTERN.test(w))
      ) {
        throw new StoreError(
          'TC_STORE_BAD_INPUT',
          `${where}.words must be at most ${HIGHLIGHT_WORDS_MAX} words of 1-32 letters, digits, _ or -`,
        );
      }
      checkTs(write.ts, `${where}.ts`);
      return;
    default:
      throw new StoreError(
        'TC_STORE_BAD_INPUT',
        `${where}.op ${JSON.stringify((write as { op?: unknown })?.op)} is not a known state write`,
      );
  }
}

function checkText(value: unknown, field: string, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value === '')) {
    throw new StoreError('TC_STORE_BAD_INPUT', `${field} must be a ${allowEmpty ? '' : 'non-empty '}string`);
  }
  if (value.includes('\u0000')) {
    throw new StoreError('TC_STORE_BAD_INPUT', `${field} contains a NUL character (U+0000), which cannot be stored`);
  }
  return value;
}

function checkTs(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new StoreError('TC_STORE_BAD_INPUT', `${field} must be a finite number (epoch milliseconds)`);
  }
  return value;
}

function checkLimit(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new StoreError('TC_STORE_BAD_INPUT', `${field} must be a non-negative integer`);
  }
  return value;
}

function checkQuery(query: HistoryQuery): {
  before?: number;
  after?: number;
  limit: number;
  beforeTs?: Date;
  afterTs?: Date;
} {
  const limit = checkLimit(query?.limit, 'limit');
  const out: { before?: number; after?: number; limit: number; beforeTs?: Date; afterTs?: Date } = { limit };
  if (query.before !== undefined && query.before !== null) out.before = checkLimit(query.before, 'before');
  if (query.after !== undefined && query.after !== null) out.after = checkLimit(query.after, 'after');
  if (query.beforeTs !== undefined && query.beforeTs !== null)
    out.beforeTs = new Date(checkLimit(query.beforeTs, 'beforeTs'));
  if (query.afterTs !== undefined && query.afterTs !== null)
    out.afterTs = new Date(checkLimit(query.afterTs, 'afterTs'));
  return out;
}
