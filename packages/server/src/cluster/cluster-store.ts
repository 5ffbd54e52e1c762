/**
 * What the nodes of a cluster share in Postgres besides the chat itself (migrations/005): which
 * node processes are alive, who holds which nick, who is in which room where, and the committed
 * batches a node may have missed on the bus.
 *
 * Liveness uses the database's clock (`now()`), so the nodes' own clocks never have to agree.
 *
 * @example
 * const cluster = new ClusterStore(database, 'n1:4f2a', 'n1');
 * await cluster.register();
 * if (await cluster.claimNick('alice', 'Alice', 'alice')) admit();
 */
import { sql, type Kysely } from 'kysely';
import type { RemoteUser } from '../core/directory.js';
import type { StreamEntry } from '../delivery/batch-writer.js';
import type { Database } from '../store/database.js';

/** A node whose heartbeat is older than this is gone. */
export const NODE_STALE_MS = 5_000;

export interface PresenceRow {
  room: string;
  key: string;
  nick: string;
  instance: string;
}

export class ClusterStore {
  readonly #db: Kysely<unknown>;
  readonly instance: string;
  readonly nodeId: string;
  readonly #staleMs: number;

  constructor(database: Database, instance: string, nodeId: string, staleMs = NODE_STALE_MS) {
    this.#db = database.kysely as Kysely<unknown>;
    this.instance = instance;
    this.nodeId = nodeId;
    this.#staleMs = staleMs;
  }

  async register(): Promise<void> {
    await sql`
      INSERT INTO cluster_nodes (instance, node_id, started_at, heartbeat_at) VALUES (${this.instance}, ${this.nodeId}, now(), now())
      ON CONFLICT (instance) DO UPDATE SET heartbeat_at = now()`.execute(this.#db);
  }

  async heartbeat(): Promise<void> {
    await this.register();
  }

  /** Node instances with a recent heartbeat (this one included). */
  async liveInstances(): Promise<Set<string>> {
    const result = await sql<{ instance: string }>`
      SELECT instance FROM cluster_nodes WHERE heartbeat_at > now() - make_interval(secs => ${this.#staleMs / 1000})`.execute(
      this.#db,
    );
    return new Set(result.rows.map((r) => r.instance));
  }

  /** Frees what nodes without a recent heartbeat held (any node may do it; it is idempotent). */
  async reapDead(): Promise<number> {
    const stale = sql`SELECT instance FROM cluster_nodes WHERE heartbeat_at > now() - make_interval(secs => ${this.#staleMs / 1000})`;
    const nicks = await sql`DELETE FROM online_nicks WHERE instance NOT IN (${stale})`.execute(this.#db);
    await sql`DELETE FROM room_presence WHERE instance NOT IN (${stale})`.execute(this.#db);
    // Rows of long-dead nodes go too (an hour later: enough to read their node id in the meantime).
    await sql`DELETE FROM cluster_nodes WHERE heartbeat_at < now() - interval '1 hour'`.execute(this.#db);
    return Number(nicks.numAffectedRows ?? 0);
  }

  /**
   * Takes the nick for this node. Succeeds when nobody holds it, when its holder's node is gone,
   * or when the holder is the same owner (a client back after its node died, or on a second
   * device: the newer connection wins). One row per nick: two nodes can never both succeed.
   */
  async claimNick(key: string, nick: string, owner: string): Promise<boolean> {
    const live = sql`SELECT 1 FROM cluster_nodes n WHERE n.instance = online_nicks.instance AND n.heartbeat_at > now() - make_interval(secs => ${this.#staleMs / 1000})`;
    const result = await sql<{ nick_key: string }>`
      INSERT INTO online_nicks (nick_key, nick, owner, instance) VALUES (${key}, ${nick}, ${owner}, ${this.instance})
      ON CONFLICT (nick_key) DO UPDATE SET nick = EXCLUDED.nick, owner = EXCLUDED.owner, instance = EXCLUDED.instance
      WHERE online_nicks.owner = EXCLUDED.owner OR NOT EXISTS (${live})
      RETURNING nick_key`.execute(this.#db);
    return result.rows.length === 1;
  }

  /** Everyone online on live nodes, and who is in which room. */
  async snapshot(): Promise<{ users: RemoteUser[]; presence: PresenceRow[] }> {
    const live = sql`SELECT instance FROM cluster_nodes WHERE heartbeat_at > now() - make_interval(secs => ${this.#staleMs / 1000})`;
    const users = await sql<{ nick_key: string; nick: string; owner: string; instance: string }>`
      SELECT nick_key, nick, owner, instance FROM online_nicks WHERE instance IN (${live})`.execute(this.#db);
    const presence = await sql<{ room: string; nick_key: string; nick: string; instance: string }>`
      SELECT room, nick_key, nick, instance FROM room_presence WHERE instance IN (${live})`.execute(this.#db);
    return {
      users: users.rows.map((r) => ({ key: r.nick_key, nick: r.nick, owner: r.owner, instance: r.instance })),
      presence: presence.rows.map((r) => ({ room: r.room, key: r.nick_key, nick: r.nick, instance: r.instance })),
    };
  }

  /** The last committed batch number. */
  async streamHead(): Promise<number> {
    const result = await sql<{ batch: number }>`SELECT batch FROM cluster_stream WHERE id = 1`.execute(this.#db);
    return Number(result.rows[0]?.batch ?? 0);
  }

  /** The messages of batches `from`..`to`, by batch, in id order (what a node missed on the bus). */
  async batches(from: number, to: number): Promise<Map<number, StreamEntry[]>> {
    const result = await sql<{
      id: number;
      batch: number;
      room: string | null;
      sender: string;
      recipient: string | null;
      sender_owner: string | null;
      recipient_owner: string | null;
      text: string;
      action: boolean;
      created_at: Date;
    }>`
      SELECT id, batch, room, sender, recipient, sender_owner, recipient_owner, text, action, created_at
      FROM messages
      WHERE batch BETWEEN ${from} AND ${to}
      ORDER BY id`.execute(this.#db);
    const out = new Map<number, StreamEntry[]>();
    for (const row of result.rows) {
      const n = Number(row.batch);
      let list = out.get(n);
      if (!list) out.set(n, (list = []));
      const ts = row.created_at.getTime();
      const action = row.action ? { action: true } : {};
      if (row.room !== null) {
        list.push({
          message: {
            kind: 'room',
            message: { id: Number(row.id), ts, room: row.room, nick: row.sender, text: row.text, ...action },
          },
        });
      } else {
        list.push({
          message: {
            kind: 'pm',
            message: { id: Number(row.id), ts, from: row.sender, to: row.recipient!, text: row.text, ...action },
            fromOwner: row.sender_owner ?? '',
            toOwner: row.recipient_owner ?? '',
          },
        });
      }
    }
    return out;
  }
}
