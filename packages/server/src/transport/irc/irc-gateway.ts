/**
 * What the IRC connections of one server share: the gateway's options, a directory of the IRC
 * sessions online (their user name, host, real name, away message) and the client-only tags of
 * messages in flight, which the core does not keep.
 * The core stays the truth for nicks, rooms and messages; this only adds IRC's details.
 */
import type { Connection } from '../connection.js';
import type { IrcDialect } from './irc-dialect.js';

export interface IrcOperator {
  name: string;
  password: string;
}

export interface IrcGatewayOptions {
  /** The name in prefixes and numerics (default: the host name). */
  serverName: string;
  /** Shown in ISUPPORT NETWORK (default `teamchat`). */
  network?: string;
  /** Message of the day, line by line; absent or empty: ERR_NOMOTD (422). */
  motd?: string[];
  /** Credentials for OPER. */
  opers?: IrcOperator[];
  /** A server password (`PASS`), for private gateways; absent: PASS carries an account's password. */
  password?: string;
  /** Latest messages replayed to an IRC client joining a room without draft/chathistory (0: none). */
  historyOnJoin?: number;
  /** Rooms one connection may be in (ISUPPORT CHANLIMIT). */
  maxRooms?: number;
  /** Server version shown in 002/004/351. */
  version: string;
  /** When the server started (003). */
  startedAt: number;
  /**
   * Runs `run` after everything queued for delivery before it (messages, notices) has been
   * delivered: PONG goes out only then, so a PING also synchronizes with other users' messages.
   */
  inOrder(run: () => void): void;
}

/** A mark left by one IRC session for the others, for what the core has no field for. */
interface Mark {
  expires: number;
}

interface TagMark extends Mark {
  tags: Map<string, string>;
}

const MARK_MS = 10_000;
/** Read markers kept by the gateway, at most. */
const MARKERS_MAX = 50_000;

export class IrcGateway {
  /** IRC sessions by case-folded nick. */
  readonly #sessions = new Map<string, IrcDialect>();
  /**
   * Client-only tags (`+tag`) of messages in flight: `room-or-nick \0 nick \0 text`. The core
   * carries no tags; IRC receivers of the message read them here (IRCv3 message-tags).
   */
  readonly #tags = new Map<string, TagMark>();
  readonly #markers = new Map<string, number>();
  #tagId = 0;

  constructor(readonly options: IrcGatewayOptions) {}

  get serverName(): string {
    return this.options.serverName;
  }

  session(key: string): IrcDialect | undefined {
    return this.#sessions.get(key);
  }

  add(key: string, dialect: IrcDialect): void {
    this.#sessions.set(key, dialect);
  }

  remove(key: string, dialect: IrcDialect): void {
    if (this.#sessions.get(key) === dialect) this.#sessions.delete(key);
  }

  /** Connection of an IRC session, by case-folded nick. */
  connection(key: string): Connection | undefined {
    return this.#sessions.get(key)?.connection;
  }

  renamed(oldKey: string, newKey: string, dialect: IrcDialect): void {
    this.remove(oldKey, dialect);
    this.add(newKey, dialect);
  }

  /** The IRC sessions of one owner (several connections of the same account). */
  *sessionsOf(owner: string): Iterable<IrcDialect> {
    for (const d of this.#sessions.values()) if (d.connection.owner === owner) yield d;
  }

  /** Read markers (draft/read-marker): the time read up to, per owner and target; only forward. */
  setMarker(owner: string, target: string, ms: number): void {
    const key = `${owner}\0${target.toLowerCase()}`;
    const now = this.#markers.get(key);
    if (now !== undefined && now >= ms) return;
    this.#markers.delete(key);
    this.#markers.set(key, ms);
    // Bounded: the oldest set go first (the core keeps the markers that matter, by message id).
    for (const k of this.#markers.keys()) {
      if (this.#markers.size <= MARKERS_MAX) break;
      this.#markers.delete(k);
    }
  }

  marker(owner: string, target: string): number | undefined {
    return this.#markers.get(`${owner}\0${target.toLowerCase()}`);
  }

  /** A msgid for what the core does not store (TAGMSG): never a number, so never a message id. */
  nextTagId(): string {
    return `t${Date.now().toString(36)}${(++this.#tagId).toString(36)}`;
  }

  markTags(where: string, nick: string, text: string, tags: Map<string, string>): void {
    this.#tags.set(`${where.toLowerCase()}\0${nick.toLowerCase()}\0${text}`, { tags, expires: Date.now() + MARK_MS });
    this.#sweep(this.#tags);
  }

  tagsOf(where: string, nick: string, text: string): Map<string, string> | undefined {
    const mark = this.#tags.get(`${where.toLowerCase()}\0${nick.toLowerCase()}\0${text}`);
    return mark && mark.expires > Date.now() ? mark.tags : undefined;
  }

  #sweep(marks: Map<string, Mark>): void {
    if (marks.size < 256) return;
    const now = Date.now();
    for (const [id, mark] of marks) if (mark.expires <= now) marks.delete(id);
    // Still too many live marks (a flood of tagged messages): the oldest go.
    for (const id of marks.keys()) {
      if (marks.size <= 4096) break;
      marks.delete(id);
    }
  }
}
