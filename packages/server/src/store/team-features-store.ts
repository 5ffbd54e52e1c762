/**
 * The SQL of replies, edits, deletes, reactions, read markers and mentions (migrations/006), and
 * of highlight words (009), on PGlite and Postgres alike. Writes are state writes of the batch
 * writer (see `planTeamWrite`); reads are plain functions the MessageStore calls.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { HIGHLIGHT_WORD_PATTERN, HIGHLIGHT_WORDS_MAX, type RoomMessage } from '@teamchat/protocol';
import type { MessageInfo, StateWrite, UnreadCount } from '../core/records.js';
import type { ChatSchema } from './schema.js';

type Db = Kysely<ChatSchema> | Transaction<ChatSchema>;

/** Messages counted as unread at most per room (a count, not a scan of all history). */
export const UNREAD_COUNT_MAX = 1_000;
/**
 * Private conversations' unread counts look at the owner's latest UNREAD_PM_SCAN_MAX received
 * private messages, no further back (one bounded backward index scan, whatever the history): a
 * conversation whose unread messages are all older than that many newer private messages is not
 * listed.
 */
export const UNREAD_PM_SCAN_MAX = 5_000;

/** Emoji -> nicks, per message id, for a page of messages. */
export async function reactionsOf(db: Db, ids: number[]): Promise<Map<number, Record<string, string[]>>> {
  const out = new Map<number, Record<string, string[]>>();
  if (ids.length === 0) return out;
  const result = await sql<{ message_id: number; emoji: string; nick: string }>`
    SELECT message_id, emoji, nick FROM message_reactions
    WHERE message_id = ANY(${ids}::bigint[])
    ORDER BY message_id, emoji, created_at`.execute(db);
  for (const row of result.rows) {
    const id = Number(row.message_id);
    let byEmoji = out.get(id);
    if (!byEmoji) out.set(id, (byEmoji = {}));
    (byEmoji[row.emoji] ??= []).push(row.nick);
  }
  return out;
}

export async function messageInfo(db: Db, id: number): Promise<MessageInfo | null> {
  const result = await sql<{
    id: number;
    room: string | null;
    sender: string;
    sender_owner: string | null;
    deleted_at: Date | null;
  }>`
    SELECT id, room, sender, sender_owner, deleted_at FROM messages WHERE id = ${id}`.execute(db);
  const row = result.rows[0];
  if (!row) return null;
  const reactions = await sql<{ emoji: string; owner: string }>`
    SELECT emoji, owner FROM message_reactions WHERE message_id = ${id} ORDER BY emoji, created_at`.execute(db);
  const byEmoji: Record<string, string[]> = {};
  for (const r of reactions.rows) (byEmoji[r.emoji] ??= []).push(r.owner);
  return {
    id: Number(row.id),
    room: row.room,
    nick: row.sender,
    owner: row.sender_owner,
    deleted: row.deleted_at !== null,
    reactions: byEmoji,
  };
}

/**
 * Edits and deletes change the search index's copy of the text in the same transaction. Holding the
 * index's mark (share mode) first makes them wait for an indexer step in progress, which may be
 * copying the old text right now (search-indexer.ts), and keeps a step from starting meanwhile.
 */
export async function lockSearchMark(db: Db): Promise<void> {
  await sql`SELECT indexed_upto FROM search_state FOR SHARE`.execute(db);
}

/** The statement of one team-feature state write, or null for other writes. */
export function planTeamWrite(write: StateWrite): ((db: Db) => Promise<void>) | null {
  const at = (ms: number) => sql`to_timestamp(${ms}::float8 / 1000.0)`;
  switch (write.op) {
    case 'edit':
      return async (db) => {
        await lockSearchMark(db);
        await sql`UPDATE messages SET text = ${write.text}, edited_at = ${at(write.ts)} WHERE id = ${write.id} AND deleted_at IS NULL`.execute(
          db,
        );
        await sql`UPDATE message_search SET text = ${write.text} WHERE id = ${write.id}`.execute(db);
      };
    case 'delete':
      return async (db) => {
        // The text is gone from the database, as users expect of delete.
        await lockSearchMark(db);
        await sql`UPDATE messages SET text = '', deleted_at = ${at(write.ts)} WHERE id = ${write.id}`.execute(db);
        await sql`DELETE FROM message_search WHERE id = ${write.id}`.execute(db);
        await sql`DELETE FROM message_reactions WHERE message_id = ${write.id}`.execute(db);
      };
    case 'react':
      return write.add
        ? async (db) => {
            await sql`
              INSERT INTO message_reactions (message_id, emoji, owner, nick, created_at)
              VALUES (${write.id}, ${write.emoji}, ${write.owner}, ${write.nick}, ${at(write.ts)})
              ON CONFLICT (message_id, emoji, owner) DO NOTHING`.execute(db);
          }
        : async (db) => {
            await sql`DELETE FROM message_reactions WHERE message_id = ${write.id} AND emoji = ${write.emoji} AND owner = ${write.owner}`.execute(
              db,
            );
          };
    case 'marker':
      return async (db) => {
        await sql`
          INSERT INTO read_markers (owner, conversation, message_id, updated_at)
          VALUES (${write.owner}, ${write.conversation}, ${write.id}, ${at(write.ts)})
          ON CONFLICT (owner, conversation) DO UPDATE
          SET message_id = GREATEST(read_markers.message_id, EXCLUDED.message_id), updated_at = EXCLUDED.updated_at`.execute(
          db,
        );
      };
    case 'highlights':
      return write.words.length === 0
        ? async (db) => {
            await sql`DELETE FROM highlight_words WHERE owner = ${write.owner}`.execute(db);
          }
        : async (db) => {
            await sql`
              INSERT INTO highlight_words (owner, words, updated_at)
              VALUES (${write.owner}, ${write.words}::text[], ${at(write.ts)})
              ON CONFLICT (owner) DO UPDATE SET words = EXCLUDED.words, updated_at = EXCLUDED.updated_at`.execute(db);
          };
    default:
      return null;
  }
}

/** `owner`'s highlight words, in the order they were given; `[]` when none. */
export async function highlightWordsOf(db: Db, owner: string): Promise<string[]> {
  const result = await sql<{ word: string }>`
    SELECT u.word FROM highlight_words h, unnest(h.words) WITH ORDINALITY AS u(word, n)
    WHERE h.owner = ${owner} ORDER BY u.n`.execute(db);
  return result.rows.map((r) => r.word);
}

/** A literal for a Postgres ARE: every character but ASCII letters, digits and `_` escaped. */
function areLiteral(text: string): string {
  // `\` before a character that is not alphanumeric stands for that character.
  return text.replace(/[^A-Za-z0-9_]/g, '\\$&');
}

/**
 * A case-insensitive regular expression (Postgres ARE) matching a mention of `nick`, of one of
 * `words` (highlight words), or of everyone, as a whole word. The words are checked again here
 * (HIGHLIGHT_WORD_PATTERN: ASCII letters, digits, `_`, `-`; at most HIGHLIGHT_WORDS_MAX), and
 * anything else is dropped: whatever reached the table, the pattern stays a list of literals.
 */
export function mentionPattern(nick: string, words: readonly string[] = []): string {
  const names = [nick, ...words.filter((w) => HIGHLIGHT_WORD_PATTERN.test(w)).slice(0, HIGHLIGHT_WORDS_MAX)];
  return `(^|[^A-Za-z0-9_-])(@?(${names.map(areLiteral).join('|')})|@room|@all|@here)([^A-Za-z0-9_-]|$)`;
}

/**
 * Per room: messages after the owner's marker (by others), and how many of them mention `nick` or
 * one of the owner's highlight words.
 */
export async function unreadCounts(
  db: Db,
  owner: string,
  nick: string,
  rooms: string[],
): Promise<Record<string, UnreadCount>> {
  const out: Record<string, UnreadCount> = {};
  if (rooms.length === 0) return out;
  const pattern = mentionPattern(nick, await highlightWordsOf(db, owner));
  const result = await sql<{ room: string; marker: number | null; unread: number; mentions: number }>`
    SELECT r.room, m.message_id AS marker, c.unread, c.mentions
    FROM unnest(${rooms}::text[]) AS r(room)
    LEFT JOIN read_markers m ON m.owner = ${owner} AND m.conversation = r.room
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS unread, count(*) FILTER (WHERE t.text ~* ${pattern})::int AS mentions
      FROM (
        SELECT text FROM messages
        WHERE room = r.room AND id > coalesce(m.message_id, 0) AND deleted_at IS NULL
          AND (sender_owner IS NULL OR sender_owner <> ${owner})
        ORDER BY id DESC
        LIMIT ${UNREAD_COUNT_MAX}
      ) t
    ) c`.execute(db);
  for (const row of result.rows)
    out[row.room] = { unread: Number(row.unread), mentions: Number(row.mentions), marker: Number(row.marker ?? 0) };
  return out;
}

/**
 * Per private conversation of `owner` with unread messages (received after the owner's marker of
 * it, '@' || the sender's nick key; not deleted), among the latest UNREAD_PM_SCAN_MAX private
 * messages the owner received: the count (at most UNREAD_COUNT_MAX) and the marker, keyed by the
 * sender's latest nick, the `limit` conversations with the newest unread message. Every unread
 * private message is a mention (written to the owner, as Slack and Mattermost count them).
 *
 * Index: messages_pm_recipient_owner_id (recipient_owner, id), read backwards from the newest.
 */
export async function pmUnreadCounts(db: Db, owner: string, limit: number): Promise<Record<string, UnreadCount>> {
  const out: Record<string, UnreadCount> = {};
  if (limit === 0) return out;
  const result = await sql<{ nick: string; newest: number; marker: number; unread: number }>`
    WITH recent AS (
      SELECT id, sender, sender_key FROM messages
      WHERE recipient IS NOT NULL AND recipient_owner = ${owner}
        AND deleted_at IS NULL AND (sender_owner IS NULL OR sender_owner <> ${owner})
      ORDER BY id DESC
      LIMIT ${UNREAD_PM_SCAN_MAX}
    ), unread AS (
      SELECT r.id, r.sender, r.sender_key, coalesce(m.message_id, 0) AS marker
      FROM recent r
      LEFT JOIN read_markers m ON m.owner = ${owner} AND m.conversation = '@' || r.sender_key
      WHERE r.id > coalesce(m.message_id, 0)
    )
    SELECT (array_agg(sender ORDER BY id DESC))[1] AS nick, max(id) AS newest, max(marker) AS marker,
      least(count(*), ${UNREAD_COUNT_MAX})::int AS unread
    FROM unread
    GROUP BY sender_key
    ORDER BY newest DESC
    LIMIT ${limit}`.execute(db);
  for (const row of result.rows) {
    const unread = Number(row.unread);
    out[row.nick] = { unread, mentions: unread, marker: Number(row.marker) };
  }
  return out;
}

/**
 * Messages in `rooms` that mention `nick`, one of the owner's highlight words, or everyone, by
 * others, newest first below `before`.
 */
export async function mentionsOf(
  db: Db,
  owner: string,
  nick: string,
  rooms: string[],
  before: number | undefined,
  limit: number,
): Promise<RoomMessage[]> {
  if (rooms.length === 0 || limit === 0) return [];
  const pattern = mentionPattern(nick, await highlightWordsOf(db, owner));
  const result = await sql<{
    id: number;
    room: string;
    sender: string;
    text: string;
    action: boolean;
    created_at: Date;
    reply_to: number | null;
    edited_at: Date | null;
  }>`
    SELECT id, room, sender, text, action, created_at, reply_to, edited_at FROM messages
    WHERE room = ANY(${rooms}::text[]) AND deleted_at IS NULL
      AND (sender_owner IS NULL OR sender_owner <> ${owner})
      ${before !== undefined ? sql`AND id < ${before}` : sql``}
      AND text ~* ${pattern}
    ORDER BY id DESC
    LIMIT ${limit}`.execute(db);
  return result.rows.reverse().map((row) => {
    const m: RoomMessage = {
      id: Number(row.id),
      ts: row.created_at.getTime(),
      room: row.room,
      nick: row.sender,
      text: row.text,
    };
    if (row.action) m.action = true;
    if (row.reply_to !== null) m.replyTo = Number(row.reply_to);
    if (row.edited_at) m.edited = row.edited_at.getTime();
    return m;
  });
}
