/**
 * What the IRC connections of one server share: the gateway's options and a directory of the IRC
 * sessions online (their user name, host, real name, away message), which the core does not keep.
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

export interface KickMark extends Mark {
  by: string;
  reason: string;
}

const MARK_MS = 10_000;

export class IrcGateway {
  /** IRC sessions by case-folded nick. */
  readonly #sessions = new Map<string, IrcDialect>();
  /** Rooms an IRC session entered first (nobody else in it): shown as its operator (@). */
  readonly #firstIn = new Map<string, string>();
  /** Room creators known to be accounts (from the core's mode frames). */
  readonly #creators = new Map<string, string | null>();
  /** NOTICEs in flight: `room-or-nick \0 nick \0 text`. Receivers render those messages as NOTICE. */
  readonly #notices = new Map<string, Mark>();
  /** Parts that are kicks: `room \0 nick-key`. */
  readonly #kicks = new Map<string, KickMark>();

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

  noteFirstIn(room: string, key: string): void {
    this.#firstIn.set(room, key);
  }

  noteCreator(room: string, creator: string | null): void {
    this.#creators.set(room, creator);
  }

  renamed(oldKey: string, newKey: string, dialect: IrcDialect): void {
    this.remove(oldKey, dialect);
    this.add(newKey, dialect);
    for (const [room, key] of this.#firstIn) if (key === oldKey) this.#firstIn.set(room, newKey);
  }

  /** Shown with @ in the room: its creator (an account), or the IRC session that entered it first. */
  isOperator(room: string, key: string): boolean {
    const creator = this.#creators.get(room);
    if (creator) return creator === key;
    return this.#firstIn.get(room) === key;
  }

  markNotice(where: string, nick: string, text: string): string {
    const id = `${where.toLowerCase()}\0${nick.toLowerCase()}\0${text}`;
    this.#notices.set(id, { expires: Date.now() + MARK_MS });
    this.#sweep(this.#notices);
    return id;
  }

  isNotice(where: string, nick: string, text: string): boolean {
    const mark = this.#notices.get(`${where.toLowerCase()}\0${nick.toLowerCase()}\0${text}`);
    return mark !== undefined && mark.expires > Date.now();
  }

  unmarkNotice(id: string): void {
    this.#notices.delete(id);
  }

  markKick(room: string, key: string, by: string, reason: string): void {
    this.#kicks.set(`${room}\0${key}`, { by, reason, expires: Date.now() + MARK_MS });
    this.#sweep(this.#kicks);
  }

  kick(room: string, key: string): KickMark | undefined {
    const mark = this.#kicks.get(`${room}\0${key}`);
    return mark && mark.expires > Date.now() ? mark : undefined;
  }

  unmarkKick(room: string, key: string): void {
    this.#kicks.delete(`${room}\0${key}`);
  }

  #sweep(marks: Map<string, Mark>): void {
    if (marks.size < 256) return;
    const now = Date.now();
    for (const [id, mark] of marks) if (mark.expires <= now) marks.delete(id);
  }
}
