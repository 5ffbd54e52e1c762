/**
 * The IRC dialect of a Connection: turns IRC commands into the core's commands and the core's
 * frames into IRC lines, for one client. `#room` is the room, nicks are teamchat nicks, accounts
 * are teamchat accounts (SASL PLAIN, `PASS account:password`, `REGISTER`), history comes from the
 * core's `history` frames (draft/chathistory).
 *
 * Order: every core command the dialect sends carries a `ref`; the connection reads no further
 * command until its answer came (`holding`), so replies go out in the order the commands came in.
 * PING is answered after everything queued for delivery before it (`IrcGateway.inOrder`).
 *
 * Flood control, per-address limits, the output bound and timeouts are the Connection's, as for
 * every transport: each IRC command has a cost (command-cost.ts).
 */
import { isUtf8 } from 'node:buffer';
import {
  HISTORY_MAX,
  isValidNick,
  nickKey,
  normalizeRoom,
  REASON_MAX_LENGTH,
  type ClientFrame,
  type PrivateMessage,
  type RoomMessage,
  type ServerFrame,
} from '@teamchat/protocol';
import type { ChatCore } from '../../core/chat-core.js';
import { BAD_INPUT_COST, costOf, PASSWORD_COST } from '../command-cost.js';
import type { Connection, LineDialect, Work } from '../connection.js';
import type { EncodedFrame } from '../encoded-frame.js';
import { ERR, numericForError, RPL, type ErrorContext } from './irc-numerics.js';
import {
  formatIrcLine,
  IRC_CLIENT_TAG_BYTES,
  IRC_LINE_BYTES,
  parseIrcLine,
  truncateUtf8,
  type IrcMessage,
  type OutgoingIrcMessage,
} from './irc-message.js';
import type { IrcGateway } from './irc-gateway.js';
import { capabilities, isupportTokens } from './isupport.js';
import { formatChanges, modeString, parseChannelModes } from './irc-modes.js';
import { maskMatches } from '../../core/room-modes.js';

const EMPTY = Buffer.alloc(0);
const CRLF = '\r\n';
/** An answer the dialect waits for that never comes releases the connection after this long. */
const HOLD_TIMEOUT_MS = 10_000;
/** Cheap commands answered by the gateway alone (CAP, MOTD, WHOIS, ...). */
const QUERY_COST = 0.25;
/** SASL blobs are at most this long (base64, in 400-byte chunks). */
const SASL_MAX_BYTES = 4096;

/** What a core command was sent for: how to read its answer. */
interface Pending {
  kind:
    | 'join'
    | 'part'
    | 'privmsg'
    | 'notice'
    | 'topic'
    | 'topic-set'
    | 'names'
    | 'who'
    | 'list'
    | 'mode'
    | 'mode-set'
    | 'mode-list'
    | 'invite'
    | 'nick'
    | 'register'
    | 'history'
    | 'pm-history'
    | 'kick'
    | 'redact'
    | 'react'
    | 'marker-sync'
    | 'marker-announce'
    | 'targets';
  /** The channel or nick as the client typed it. */
  target: string;
  /** Whether the connection waits for this answer. */
  holds: boolean;
  reason?: string;
  /** Mode changes asked for, as the client wrote them (echoed back). */
  modes?: string[];
  /** LIST: only these rooms. */
  only?: (room: { name: string; members: number }) => boolean;
  batchType?: string;
  label?: string;
  /** Lines collected so far for a multi-page answer. */
  lines?: string[];
  /** WHO with WHOX fields. */
  whox?: Whox;
  /** CHATHISTORY TARGETS: pages still to read, the latest time per target so far. */
  targets?: { queue: ClientFrame[]; latest: Map<string, number>; from: number; to: number; limit: number };
  /** CHATHISTORY: what to keep of a page, a second page to read (AROUND), what was read so far. */
  history?: {
    keep?: (m: RoomMessage | PrivateMessage) => boolean;
    second?: HistoryBounds;
    collected: (RoomMessage | PrivateMessage)[];
  };
}

/** The bounds of one history page, as the core's `history` frame takes them. */
interface HistoryBounds {
  before?: number;
  after?: number;
  beforeTs?: number;
  afterTs?: number;
  limit: number;
}

type HistoryRef = { kind: 'id' | 'ts'; value: number };

/** `*`, `msgid=<id>` or `timestamp=<ISO 8601>`; null when it is none of them. */
function historyRef(s: string | undefined): HistoryRef | '*' | null {
  if (s === '*') return '*';
  const id = /^msgid=(\d{1,15})$/.exec(s ?? '');
  if (id) return { kind: 'id', value: Number(id[1]) };
  const ts = /^timestamp=(.+)$/.exec(s ?? '');
  if (!ts) return null;
  const ms = Date.parse(ts[1]);
  return Number.isFinite(ms) && ms >= 0 ? { kind: 'ts', value: ms } : null;
}

function below(r: HistoryRef): { before: number } | { beforeTs: number } {
  return r.kind === 'id' ? { before: r.value } : { beforeTs: r.value };
}

function over(r: HistoryRef): { after: number } | { afterTs: number } {
  return r.kind === 'id' ? { after: r.value } : { afterTs: r.value };
}

function above(m: { id: number; ts: number }, r: HistoryRef): boolean {
  return r.kind === 'id' ? m.id > r.value : m.ts > r.value;
}

/** WHOX: the fields asked for (letters of `tcuihsnfdlaor`) and the token echoed with `t`. */
interface Whox {
  fields: string;
  token: string;
}

/** Users listed for one WHO mask, at most. */
const WHO_MAX = 200;

function parseWhox(arg: string | undefined): Whox | undefined {
  if (arg === undefined || !arg.startsWith('%')) return undefined;
  const [fields = '', token = '0'] = arg.slice(1).split(',');
  return { fields, token: token.slice(0, 3) || '0' };
}

/** A message this client sent, waiting for its echo and acknowledgement. */
interface Sent {
  where: string;
  ref: string;
  label?: string;
  tags?: Map<string, string>;
  echoed: boolean;
}

/** Tags a client may send that other clients see (IRCv3 client-only tags start with `+`). */
function clientTags(tags: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of tags) if (k.startsWith('+')) out.set(k, v);
  return out;
}

export class IrcDialect implements LineDialect {
  readonly connection: Connection;
  readonly #core: ChatCore<Connection>;
  readonly #gw: IrcGateway;
  /** Capabilities enabled by the client. */
  readonly #caps = new Set<string>();
  #capVersion = 0;
  #negotiating = false;
  #registered = false;
  #wantedNick: string | null = null;
  #user: { ident: string; realname: string } | null = null;
  #pass: string | undefined;
  #serverPassOk = false;
  /** SASL: mechanism chosen, base64 received so far. */
  #sasl: { buffer: string } | null = null;
  #account: string | null = null;
  #away: string | null = null;
  #oper = false;
  #userModes = new Set<string>();
  readonly #pending = new Map<string, Pending>();
  #nextRef = 1;
  /** The ref whose answer the connection waits for. */
  #holdRef: string | null = null;
  #holdTimer: NodeJS.Timeout | null = null;
  /** Sub-commands of the current IRC command still to run (JOIN #a,#b). */
  #steps: (() => void)[] = [];
  /** Lines of the current labeled command (labeled-response), sent when it is answered. */
  #labeled: { label: string; lines: string[] } | null = null;
  /** Output of the frame being rendered. */
  #sink: string[] | null = null;
  /** Quits and renames of others are told once, however many rooms we share. */
  readonly #seen: string[] = [];
  #batchId = 0;
  /** Messages sent by this client, waiting for their echo (echo-message with labels, NOTICE marks). */
  readonly #sent: Sent[] = [];

  constructor(connection: Connection, core: ChatCore<Connection>, gateway: IrcGateway) {
    this.connection = connection;
    this.#core = core;
    this.#gw = gateway;
  }

  get holding(): boolean {
    return this.#holdRef !== null || this.#steps.length > 0;
  }

  get #server(): string {
    return this.#gw.serverName;
  }

  get #nick(): string {
    return this.#registered ? this.connection.nick! : '*';
  }

  get #host(): string {
    return this.connection.address.replace(/^::ffff:/, '');
  }

  get ident(): string {
    return this.#user?.ident ?? 'user';
  }

  get realname(): string {
    return this.#user?.realname ?? '';
  }

  get host(): string {
    return this.#host;
  }

  get away(): string | null {
    return this.#away;
  }

  /** User mode +i: hidden from WHO masks of users who share no room with it. */
  get invisible(): boolean {
    return this.#userModes.has('i');
  }

  get isOper(): boolean {
    return this.#oper;
  }

  get account(): string | null {
    return this.#account;
  }

  hasCap(cap: string): boolean {
    return this.#caps.has(cap);
  }

  // ---------- input ----------

  interpret(bytes: Buffer): Work | null {
    if (bytes.length === 0) return null;
    // Length limits (RFC 1459: 512 bytes with CR LF; IRCv3: client tags up to 4096).
    let body = bytes;
    if (bytes[0] === 0x40 /* @ */) {
      const space = bytes.indexOf(0x20);
      const tagBytes = space === -1 ? bytes.length : space + 1;
      if (tagBytes > IRC_CLIENT_TAG_BYTES)
        return this.#failing(() => this.#numeric(ERR.INPUTTOOLONG, 'Input line was too long'));
      body = space === -1 ? EMPTY : bytes.subarray(space + 1);
    }
    if (body.length > IRC_LINE_BYTES - 2)
      return this.#failing(() => this.#numeric(ERR.INPUTTOOLONG, 'Input line was too long'));
    if (!isUtf8(bytes)) {
      const command = parseIrcLine(bytes.toString('latin1')).command || '*';
      const label = parseIrcLine(bytes.toString('latin1')).tags.get('label');
      return this.#failing(() =>
        this.#emit({
          ...(label && this.#caps.has('labeled-response') ? { tags: { label } } : {}),
          source: this.#server,
          command: 'FAIL',
          params: [command, 'INVALID_UTF8', 'Message rejected, your message must be UTF-8'],
        }),
      );
    }
    const message = parseIrcLine(bytes.toString('utf8'));
    if (message.command === '') return null;
    return { cost: this.#cost(message), run: () => this.#run(message) };
  }

  #failing(run: () => void): Work {
    return { cost: BAD_INPUT_COST, run };
  }

  /** What a command costs the flood budget: the core command it becomes, or a small fixed cost. */
  #cost(m: IrcMessage): number {
    const p = m.params;
    switch (m.command) {
      case 'PING':
        return costOf({ type: 'ping' });
      case 'PONG':
      case 'QUIT':
        return 0;
      case 'CAP':
      case 'NICK':
      case 'USER':
        return this.#registered && m.command === 'NICK' ? costOf({ type: 'nick', nick: '' }) : QUERY_COST;
      case 'PASS':
      case 'AUTHENTICATE':
      case 'REGISTER':
      case 'OPER':
        return PASSWORD_COST;
      case 'JOIN':
        return Math.max(1, (p[0] ?? '').split(',').length) * costOf({ type: 'join', room: '' });
      case 'PART':
        return Math.max(1, (p[0] ?? '').split(',').length) * costOf({ type: 'part', room: '' });
      case 'PRIVMSG':
      case 'NOTICE':
      case 'TAGMSG':
        return Math.max(1, (p[0] ?? '').split(',').length) * costOf({ type: 'msg', room: '', text: '' });
      case 'TOPIC':
        return costOf({ type: 'topic', room: '', ...(p.length > 1 ? { topic: '' } : {}) });
      case 'MODE':
        return p.length > 1 ? 1 : 0.25;
      case 'LIST':
      case 'NAMES':
      case 'WHO':
        return costOf({ type: 'users', room: '' });
      case 'CHATHISTORY':
        return costOf({ type: 'history', room: '' });
      case 'REDACT':
        return costOf({ type: 'delete', id: 0 });
      case 'MARKREAD':
        return costOf({ type: 'mark', id: 0 });
      case 'INVITE':
      case 'KICK':
        return 1;
      default:
        return QUERY_COST;
    }
  }

  #run(m: IrcMessage): void {
    const label = this.#caps.has('labeled-response') ? m.tags.get('label') : undefined;
    // PING carries its label on its PONG; every other labeled command (PONG too) gets an answer or ACK.
    if (label !== undefined && m.command !== 'PING') this.#labeled = { label, lines: [] };
    try {
      this.#dispatch(m);
    } finally {
      if (!this.holding) this.#finishLabel();
    }
  }

  #dispatch(m: IrcMessage): void {
    const p = m.params;
    switch (m.command) {
      case 'CAP':
        return this.#cap(p);
      case 'PING':
        if (p.length === 0) return this.#numeric(ERR.NOORIGIN, 'No origin specified');
        return this.#pong(p[0], m.tags.get('label'));
      case 'PONG':
        return;
      case 'QUIT':
        return this.#core.quit(this.connection, p[0] !== undefined ? p[0].slice(0, REASON_MAX_LENGTH) : undefined);
      case 'PASS':
        if (this.#registered) return this.#numeric(ERR.ALREADYREGISTERED, 'You may not reregister');
        if (p.length === 0) return this.#needMore('PASS');
        this.#pass = p[0]!;
        return;
      case 'NICK':
        return this.#nickCommand(p);
      case 'USER':
        if (this.#registered) return this.#numeric(ERR.ALREADYREGISTERED, 'You may not reregister');
        if (p.length < 4 || p[3] === '') return this.#needMore('USER');
        this.#user = { ident: (p[0].replace(/[^A-Za-z0-9._~-]/g, '') || 'user').slice(0, 16), realname: p[3] };
        // What ban masks (nick!user@host) match in the core.
        this.connection.userhost = `${this.#user.ident}@${this.#host}`;
        return this.#tryRegister();
      case 'AUTHENTICATE':
        return this.#authenticate(p);
      case 'REGISTER':
        return this.#registerAccount(p);
      case 'MOTD':
        return this.#motd();
      case 'LUSERS':
        return this.#lusers();
      case 'VERSION':
        return this.#numeric(
          RPL.VERSION,
          `teamchat-${this.#gw.options.version}.`,
          this.#server,
          'IRC gateway of teamchat',
        );
    }
    if (!this.#registered) return this.#numeric(ERR.NOTREGISTERED, m.command, 'You have not registered');
    switch (m.command) {
      case 'JOIN':
        return this.#join(p);
      case 'PART':
        return this.#part(p);
      case 'PRIVMSG':
      case 'NOTICE':
        return this.#privmsg(m);
      case 'TAGMSG':
        return this.#tagmsg(m);
      case 'REDACT':
        return this.#redact(p);
      case 'MARKREAD':
        return this.#markread(p);
      case 'TOPIC':
        return this.#topic(p);
      case 'NAMES':
        return this.#names(p);
      case 'WHO':
        return this.#who(p);
      case 'WHOIS':
        return this.#whois(p);
      case 'LIST':
        return this.#list(p);
      case 'MODE':
        return this.#mode(p);
      case 'INVITE':
        return this.#invite(p);
      case 'KICK':
        return this.#kick(p);
      case 'AWAY':
        return this.#setAway(p[0]);
      case 'OPER':
        return this.#operCommand(p);
      case 'ISON':
        return this.#numeric(
          RPL.ISON,
          p
            .join(' ')
            .split(/\s+/)
            .filter((n) => n && this.#online(n))
            .join(' '),
        );
      case 'USERHOST':
        return this.#userhost(p);
      case 'CHATHISTORY':
        return this.#chathistory(p);
      case 'TIME':
        return this.#numeric(RPL.TIME, new Date().toUTCString(), this.#server);
      default:
        return this.#numeric(ERR.UNKNOWNCOMMAND, m.command, 'Unknown command');
    }
  }

  // ---------- registration ----------

  #cap(p: string[]): void {
    const sub = (p[0] ?? '').toUpperCase();
    const caps = capabilities();
    switch (sub) {
      case 'LS': {
        if (!this.#registered) this.#negotiating = true;
        const version = Number(p[1] ?? '0');
        if (version >= 302) {
          this.#capVersion = Math.max(this.#capVersion, version);
          this.#caps.add('cap-notify');
        }
        const words = [...caps].map(([name, value]) => (this.#capVersion >= 302 && value ? `${name}=${value}` : name));
        return this.#capList('LS', words);
      }
      case 'LIST':
        return this.#capList('LIST', [...this.#caps]);
      case 'REQ': {
        if (!this.#registered) this.#negotiating = true;
        const asked = (p[1] ?? '').split(' ').filter(Boolean);
        const ok =
          asked.length > 0 &&
          asked.every((c) => caps.has(c.replace(/^-/, '')) && !(c === '-cap-notify' && this.#capVersion >= 302));
        this.#emit({ source: this.#server, command: 'CAP', params: [this.#nick, ok ? 'ACK' : 'NAK', p[1] ?? ''] });
        if (ok) {
          for (const c of asked) {
            if (c.startsWith('-')) this.#caps.delete(c.slice(1));
            else this.#caps.add(c);
          }
        }
        return;
      }
      case 'END':
        if (this.#registered) return;
        this.#negotiating = false;
        return this.#tryRegister();
      default:
        return this.#numeric(ERR.INVALIDCAPCMD, p[0] ?? '*', 'Invalid CAP command');
    }
  }

  #capList(sub: string, words: string[]): void {
    // Several lines when long: `CAP * LS * :...` for all but the last (302).
    const lines: string[][] = [];
    let current: string[] = [];
    for (const w of words) {
      if (current.join(' ').length + w.length > 350) {
        lines.push(current);
        current = [];
      }
      current.push(w);
    }
    lines.push(current);
    lines.forEach((line, i) => {
      const more = i < lines.length - 1 && this.#capVersion >= 302;
      this.#emit({
        source: this.#server,
        command: 'CAP',
        params: [this.#nick, sub, ...(more ? ['*'] : []), line.join(' ')],
      });
    });
  }

  #nickCommand(p: string[]): void {
    const wanted = p[0];
    if (wanted === undefined || wanted === '') return this.#numeric(ERR.NONICKNAMEGIVEN, 'No nickname given');
    if (!isValidNick(wanted))
      return this.#numeric(
        ERR.ERRONEUSNICKNAME,
        wanted,
        'Erroneous nickname (letters, digits, _ and -, starting with a letter, at most 24)',
      );
    if (this.#registered) {
      if (wanted === this.connection.nick) return;
      return void this.#request({ type: 'nick', nick: wanted }, { kind: 'nick', target: wanted, holds: true });
    }
    this.#wantedNick = wanted;
    this.#tryRegister();
  }

  /** Registration completes once NICK and USER are in and CAP negotiation (if any) is over. */
  #tryRegister(): void {
    if (this.#registered || this.#negotiating || this.#wantedNick === null || this.#user === null) return;
    const gwPassword = this.#gw.options.password;
    if (gwPassword !== undefined && !this.#serverPassOk) {
      if (this.#pass !== gwPassword) {
        this.#numeric(ERR.PASSWDMISMATCH, 'Password incorrect');
        return this.connection.close({ type: 'bye', code: 'TC_ERR_BAD_PASSWORD', reason: 'Bad password' });
      }
      this.#serverPassOk = true;
      this.#pass = undefined;
    }
    const nick = this.#wantedNick;
    if (this.connection.nick !== null) {
      // Logged in by SASL or REGISTER under the account's nick: take the nick asked for.
      if (nickKey(this.connection.nick) === nickKey(nick) && this.connection.nick === nick) return this.#welcomed();
      return void this.#request({ type: 'nick', nick }, { kind: 'nick', target: nick, holds: true });
    }
    // `PASS account:password` (ZNC style) or `PASS password` for the nick itself.
    let loginNick = nick;
    let password = this.#pass;
    const colon = password?.indexOf(':') ?? -1;
    if (password !== undefined && colon > 0 && isValidNick(password.slice(0, colon))) {
      loginNick = password.slice(0, colon);
      password = password.slice(colon + 1);
    }
    this.#pass = undefined;
    this.#hold('login');
    this.#core.login(
      this.connection,
      { nick: loginNick, restore: false, ...(password !== undefined ? { password } : {}) },
      (error) => {
        this.#release('login');
        if (error) {
          const numeric = numericForError(error.code, 'nick') ?? ERR.NICKNAMEINUSE;
          if (error.code === 'TC_ERR_AUTH_REQUIRED')
            return this.#numeric(
              ERR.NICKNAMEINUSE,
              loginNick,
              `${loginNick} is a registered account: log in with SASL or PASS ${loginNick}:<password>`,
            );
          if (numeric === ERR.PASSWDMISMATCH) return this.#numeric(ERR.PASSWDMISMATCH, error.message);
          return this.#numeric(numeric, loginNick, error.message);
        }
        if (password !== undefined && this.#lastWelcomeAccount) this.#account = this.connection.nick;
        if (this.connection.nick !== nick) this.#tryRegister();
        else this.#welcomed();
      },
    );
  }

  #lastWelcomeAccount = false;
  /** The key this session is listed under in the gateway. */
  #listedAs: string | null = null;

  #welcomed(): void {
    if (this.#registered) return;
    this.#registered = true;
    this.#wantedNick = null;
    this.#listedAs = this.connection.key!;
    this.#gw.add(this.#listedAs, this);
    const nick = this.#nick;
    const o = this.#gw.options;
    this.#numeric(RPL.WELCOME, `Welcome to the teamchat IRC gateway, ${nick}!${this.ident}@${this.#host}`);
    this.#numeric(RPL.YOURHOST, `Your host is ${this.#server}, running teamchat-${o.version}`);
    this.#numeric(RPL.CREATED, `This server was created ${new Date(o.startedAt).toUTCString()}`);
    this.#numeric(RPL.MYINFO, this.#server, `teamchat-${o.version}`, 'iow', 'beIiklmnostv', 'beIklov');
    const tokens = isupportTokens({
      network: o.network ?? 'teamchat',
      ...(o.maxRooms !== undefined ? { maxRooms: o.maxRooms } : {}),
    });
    for (let i = 0; i < tokens.length; i += 12)
      this.#numeric(RPL.ISUPPORT, ...tokens.slice(i, i + 12), 'are supported by this server');
    this.#lusers();
    this.#motd();
    if (this.#account)
      this.#emit({
        source: this.#server,
        command: 'NOTICE',
        params: [nick, `You are logged in to the account ${this.#account}`],
      });
  }

  #lusers(): void {
    this.#numeric(RPL.LUSERCLIENT, `There are ${this.#core.onlineCount} users and 0 invisible on 1 servers`);
    this.#numeric(RPL.LUSERME, `I have ${this.#core.connections} clients and 0 servers`);
  }

  #motd(): void {
    const motd = this.#gw.options.motd ?? [];
    if (motd.length === 0) return this.#numeric(ERR.NOMOTD, 'MOTD File is missing');
    this.#numeric(RPL.MOTDSTART, `- ${this.#server} Message of the day - `);
    for (const line of motd) this.#numeric(RPL.MOTD, `- ${line}`);
    this.#numeric(RPL.ENDOFMOTD, 'End of /MOTD command.');
  }

  /** SASL PLAIN (RFC 4616): `authzid \0 authcid \0 password`, checked by logging in to the account. */
  #authenticate(p: string[]): void {
    const arg = p[0];
    if (arg === undefined) return this.#needMore('AUTHENTICATE');
    if (!this.#caps.has('sasl'))
      return this.#numeric(ERR.SASLFAIL, 'SASL authentication failed: request the sasl capability first');
    if (this.#registered || this.#account !== null)
      return this.#numeric(ERR.SASLALREADY, 'You have already authenticated');
    if (arg === '*') {
      this.#sasl = null;
      return this.#numeric(ERR.SASLABORTED, 'SASL authentication aborted');
    }
    if (this.#sasl === null) {
      if (arg.toUpperCase() !== 'PLAIN') {
        this.#numeric(RPL.SASLMECHS, 'PLAIN', 'are available SASL mechanisms');
        return this.#numeric(ERR.SASLFAIL, 'SASL authentication failed: only PLAIN is available');
      }
      this.#sasl = { buffer: '' };
      return this.#emit({ command: 'AUTHENTICATE', params: ['+'] });
    }
    // One chunk is at most 400 bytes (905); a response of many chunks past SASL_MAX_BYTES fails (904).
    if (arg.length > 400) {
      this.#sasl = null;
      return this.#numeric(ERR.SASLTOOLONG, 'SASL message too long');
    }
    if (arg !== '+') this.#sasl.buffer += arg;
    if (this.#sasl.buffer.length > SASL_MAX_BYTES) {
      this.#sasl = null;
      return this.#numeric(ERR.SASLFAIL, 'SASL authentication failed: the response is too long');
    }
    if (arg.length === 400) return; // more chunks follow
    const [, authcid, password] = Buffer.from(this.#sasl.buffer, 'base64').toString('utf8').split('\0');
    this.#sasl = null;
    if (authcid === undefined || password === undefined || !isValidNick(authcid))
      return this.#numeric(ERR.SASLFAIL, 'SASL authentication failed');
    if (this.connection.nick !== null) return this.#numeric(ERR.SASLALREADY, 'You have already authenticated');
    this.#hold('sasl');
    // accountOnly: an unknown account or a wrong password is refused without logging anyone in.
    this.#core.login(this.connection, { nick: authcid, password, restore: false, accountOnly: true }, (error) => {
      this.#release('sasl');
      if (error || !this.#lastWelcomeAccount) return this.#numeric(ERR.SASLFAIL, 'SASL authentication failed');
      this.#account = this.connection.nick!;
      this.#numeric(
        RPL.LOGGEDIN,
        `${this.connection.nick ?? '*'}!${this.ident}@${this.#host}`,
        this.#account,
        `You are now logged in as ${this.#account}`,
      );
      this.#numeric(RPL.SASLSUCCESS, 'SASL authentication successful');
    });
  }

  /** draft/account-registration: `REGISTER <account> <email> <password>`. */
  #registerAccount(p: string[]): void {
    if (p.length < 3) return this.#fail('REGISTER', 'NEED_MORE_PARAMS', 'Not enough parameters');
    const account = p[0] === '*' ? (this.connection.nick ?? this.#wantedNick) : p[0];
    const password = p[2];
    if (account === null || !isValidNick(account))
      return this.#fail('REGISTER', 'BAD_ACCOUNT_NAME', 'Choose a nick first', account ?? '*');
    if (this.connection.nick !== null) {
      if (nickKey(account) !== this.connection.key)
        return this.#fail('REGISTER', 'ACCOUNT_NAME_MUST_BE_NICK', 'You can only register your current nick', account);
      return void this.#request({ type: 'register', password }, { kind: 'register', target: account, holds: true });
    }
    this.#hold('register');
    this.#core.login(this.connection, { nick: account, password, register: true, restore: false }, (error) => {
      this.#release('register');
      if (error) {
        if (
          error.code === 'TC_ERR_AUTH_REQUIRED' ||
          error.code === 'TC_ERR_BAD_PASSWORD' ||
          error.code === 'TC_ERR_NICK_IN_USE'
        )
          return this.#fail('REGISTER', 'ACCOUNT_EXISTS', 'Account already exists', account);
        if (error.code === 'TC_ERR_WEAK_PASSWORD')
          return this.#fail('REGISTER', 'WEAK_PASSWORD', error.message, account);
        return this.#fail('REGISTER', 'UNACCEPTABLE_PASSWORD', error.message, account);
      }
      this.#account = this.connection.nick!;
      this.#emit({ source: this.#server, command: 'REGISTER', params: ['SUCCESS', this.#account, 'Account created'] });
      this.#numeric(
        RPL.LOGGEDIN,
        `${this.connection.nick ?? '*'}!${this.ident}@${this.#host}`,
        this.#account,
        `You are now logged in as ${this.#account}`,
      );
    });
  }

  // ---------- chat ----------

  #join(p: string[]): void {
    if (p.length === 0 || p[0] === '') return this.#needMore('JOIN');
    if (p[0] === '0') {
      for (const room of [...this.connection.rooms])
        this.#step(() =>
          this.#request({ type: 'part', room: room.name }, { kind: 'part', target: '#' + room.name, holds: true }),
        );
      return this.#nextStep();
    }
    const keys = (p[1] ?? '').split(',');
    p[0].split(',').forEach((target, i) => {
      const key = keys[i];
      this.#step(() => {
        const room = this.#room(target);
        if (!room)
          return this.#numeric(
            ERR.NOSUCHCHANNEL,
            target,
            'No such channel (a room name is # and 1-32 of a-z 0-9 _ . -)',
          );
        this.#request({ type: 'join', room, ...(key ? { key } : {}) }, { kind: 'join', target, holds: true });
      });
    });
    this.#nextStep();
  }

  #part(p: string[]): void {
    if (p.length === 0 || p[0] === '') return this.#needMore('PART');
    const reason = p[1];
    for (const target of p[0].split(',')) {
      this.#step(() => {
        const room = this.#room(target);
        if (!room) return this.#numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
        this.#request(
          { type: 'part', room, ...(reason ? { reason } : {}) },
          { kind: 'part', target, holds: true, ...(reason ? { reason } : {}) },
        );
      });
    }
    this.#nextStep();
  }

  #privmsg(m: IrcMessage): void {
    const notice = m.command === 'NOTICE';
    const [targets, text] = m.params;
    if (targets === undefined || targets === '')
      return notice ? undefined : this.#numeric(ERR.NORECIPIENT, `No recipient given (${m.command})`);
    if (text === undefined || text === '')
      return notice ? undefined : this.#numeric(ERR.NOTEXTTOSEND, 'No text to send');
    let body = text;
    let action = false;
    const ctcp = /^\x01ACTION ?(.*?)\x01?$/.exec(text);
    if (ctcp) {
      body = ctcp[1]!;
      action = true;
      if (body === '') return;
    }
    const tags = clientTags(m.tags);
    for (const target of targets.split(',').slice(0, 4)) {
      const isRoom = target.startsWith('#');
      const room = isRoom ? this.#room(target) : null;
      if (isRoom && !room) {
        if (!notice) this.#numeric(ERR.NOSUCHNICK, target, 'No such nick/channel');
        continue;
      }
      if (!isRoom && !isValidNick(target)) {
        if (!notice) this.#numeric(ERR.NOSUCHNICK, target, 'No such nick/channel');
        continue;
      }
      if (!isRoom && !notice) {
        const away = this.#gw.session(nickKey(target))?.away;
        if (away) this.#numeric(RPL.AWAY, this.#gw.session(nickKey(target))!.connection.nick ?? target, away);
      }
      const flags = { ...(action ? { action } : {}), ...(notice ? { notice } : {}) };
      // +draft/reply on a room message is the core's reply (shown as such to teamchat clients).
      // Only a message the room still holds in memory: a reply to anything else stays a tag (an
      // unknown id must not cost the message itself).
      const replyId = Number(tags.get('+draft/reply') ?? NaN);
      const replyTo =
        room && Number.isSafeInteger(replyId) && this.#core.recentMessage(room, replyId) ? { replyTo: replyId } : {};
      const frame: ClientFrame = room
        ? { type: 'msg', room, text: body, ...flags, ...replyTo }
        : { type: 'pm', to: target, text: body, ...flags };
      const where = room ? '#' + room : nickKey(target);
      if (tags.size > 0) this.#gw.markTags(where, this.connection.nick!, body, tags);
      const label = this.#labeled?.label;
      // Messages do not hold the connection (their delivery waits for the database's commit);
      // a labeled one does, so its echo or ACK is the answer to its label.
      const ref = this.#request(frame, { kind: notice ? 'notice' : 'privmsg', target, holds: label !== undefined });
      this.#sent.push({
        where,
        ref,
        ...(label !== undefined ? { label } : {}),
        ...(tags.size > 0 ? { tags } : {}),
        echoed: false,
      });
    }
  }

  /**
   * TAGMSG: client-only tags with no text. `+draft/react` on a room message is the core's
   * reaction (every client sees it); other tags go to the IRC users of the room or the nick that
   * understand message-tags, under a msgid of their own (teamchat stores no TAGMSG).
   */
  #tagmsg(m: IrcMessage): void {
    const target = m.params[0];
    if (target === undefined || target === '') return this.#needMore('TAGMSG');
    const tags = clientTags(m.tags);
    const room = target.startsWith('#') ? this.#room(target) : null;
    const react = tags.get('+draft/react');
    const reply = tags.get('+draft/reply');
    if (room && react !== undefined && reply !== undefined && /^\d{1,15}$/.test(reply)) {
      return void this.#request(
        { type: 'react', id: Number(reply), emoji: react },
        { kind: 'react', target, holds: true },
      );
    }
    let receivers: IrcDialect[];
    if (room) {
      const joined = [...this.connection.rooms].find((r) => r.name === room);
      if (!joined) return this.#numeric(ERR.CANNOTSENDTOCHAN, target, 'Cannot send to channel');
      receivers = [...joined.members]
        .map((c) => (c.key ? this.#gw.session(c.key) : undefined))
        .filter((d): d is IrcDialect => d !== undefined && d !== this);
    } else {
      if (!this.#online(target)) return this.#numeric(ERR.NOSUCHNICK, target, 'No such nick/channel');
      const to = this.#gw.session(nickKey(target));
      // To oneself: the copy as recipient, then the echo (which carries the label).
      receivers = to ? [to] : [];
    }
    const msgid = this.#gw.nextTagId();
    const time = new Date().toISOString();
    const base = { source: this.#mask(this.connection.nick!), command: 'TAGMSG', params: [target] };
    for (const r of receivers)
      if (r.hasCap('message-tags'))
        r.tell(
          formatIrcLine({
            ...base,
            tags: { ...Object.fromEntries(tags), msgid, ...(r.hasCap('server-time') ? { time } : {}) },
          }),
        );
    if (this.#caps.has('echo-message'))
      this.#respond({
        ...base,
        tags: { ...Object.fromEntries(tags), msgid, ...(this.#caps.has('server-time') ? { time } : {}) },
      });
  }

  /**
   * draft/read-marker: `MARKREAD <target> [timestamp=<time>]`. The marker is a time that only moves
   * forward, kept per owner by the gateway (IRC clients set times between messages); the core's
   * read marker, by message id, follows it: the newest message at or before that time is marked
   * read, so the owner's teamchat clients see the same unread counts.
   */
  #markread(p: string[]): void {
    const target = p[0];
    if (target === undefined || target === '')
      return this.#fail('MARKREAD', 'NEED_MORE_PARAMS', 'Not enough parameters');
    if (p.length < 2) return this.#respond(this.#markreadLine(target));
    const m = /^timestamp=(.+)$/.exec(p[1]);
    const ms = m ? Date.parse(m[1]) : NaN;
    if (!Number.isFinite(ms))
      return this.#fail('MARKREAD', 'INVALID_PARAMS', 'The marker is timestamp=<ISO 8601 time>', target, p[1]);
    const owner = this.connection.owner!;
    this.#gw.setMarker(owner, target, ms);
    // Every connection of the same owner that understands markers hears of it.
    const line = this.#markreadLine(target);
    for (const other of this.#gw.sessionsOf(owner))
      if (other !== this && other.hasCap('draft/read-marker')) other.tell(formatIrcLine(line));
    this.#respond(line);
    const room = this.#room(target);
    const stamp = this.#gw.marker(owner, target)!;
    if (room && [...this.connection.rooms].some((r) => r.name === room))
      this.#syncMarker({ type: 'history', room, beforeTs: stamp + 1, limit: 1 }, target);
    else if (!room && isValidNick(target))
      this.#syncMarker({ type: 'pm-history', with: target, beforeTs: stamp + 1, limit: 1 }, target);
  }

  /**
   * The core's read marker moved (a teamchat client of the same owner read further): an IRC client
   * with draft/read-marker hears it as MARKREAD with the marked message's time, which it reads
   * first (the core's marker is a message id).
   */
  #announceMarker(frame: { room?: string; with?: string; id: number }): void {
    if (!this.#caps.has('draft/read-marker') || !this.connection.owner) return;
    const target = frame.room !== undefined ? '#' + frame.room : frame.with;
    if (target === undefined) return;
    const ref = `irc${this.connection.id}.${this.#nextRef++}`;
    this.#pending.set(ref, { kind: 'marker-announce', target, holds: false });
    this.connection.dispatch(
      frame.room !== undefined
        ? { type: 'history', room: frame.room, before: frame.id + 1, limit: 1, ref }
        : { type: 'pm-history', with: target, before: frame.id + 1, limit: 1, ref },
    );
  }

  /** Reads the newest message at or before the marker, and moves the core's marker to it. */
  #syncMarker(frame: ClientFrame, target: string): void {
    const ref = `irc${this.connection.id}.${this.#nextRef++}`;
    this.#pending.set(ref, { kind: 'marker-sync', target, holds: false });
    this.connection.dispatch({ ...frame, ref });
  }

  #markreadLine(target: string): OutgoingIrcMessage {
    const at = this.connection.owner ? this.#gw.marker(this.connection.owner, target) : undefined;
    return {
      source: this.#server,
      command: 'MARKREAD',
      params: [target, at === undefined ? '*' : `timestamp=${new Date(at).toISOString()}`],
    };
  }

  /** draft/message-redaction: `REDACT <target> <msgid> [:reason]` is the core's delete. */
  #redact(p: string[]): void {
    if (p.length < 2) return this.#fail('REDACT', 'NEED_MORE_PARAMS', 'Not enough parameters');
    const [target, msgid] = p as [string, string];
    if (!/^\d{1,15}$/.test(msgid)) return this.#fail('REDACT', 'UNKNOWN_MSGID', 'No such message', target, msgid);
    const reason = p[2];
    this.#request(
      { type: 'delete', id: Number(msgid) },
      { kind: 'redact', target, holds: true, reason: `${msgid}${reason ? '\0' + reason : ''}` },
    );
  }

  #topic(p: string[]): void {
    const target = p[0];
    if (target === undefined) return this.#needMore('TOPIC');
    const room = this.#room(target);
    if (!room) return this.#numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
    if (p.length < 2) return void this.#request({ type: 'topic', room }, { kind: 'topic', target, holds: true });
    this.#request({ type: 'topic', room, topic: p[1] }, { kind: 'topic-set', target, holds: true });
  }

  #names(p: string[]): void {
    const target = p[0];
    if (!target) return this.#numeric(RPL.ENDOFNAMES, '*', 'End of /NAMES list');
    const room = this.#room(target.split(',')[0]);
    if (!room) return this.#numeric(RPL.ENDOFNAMES, target, 'End of /NAMES list');
    this.#request({ type: 'users', room }, { kind: 'names', target: '#' + room, holds: true, lines: [] });
  }

  /**
   * WHO #room | nick | mask [%fields[,token]] (WHOX). A mask (`*`, `?`) lists at most WHO_MAX
   * users, skipping invisible (+i) ones that share no room with the asker.
   */
  #who(p: string[]): void {
    const mask = p[0] ?? '*';
    const whox = parseWhox(p[1]);
    const room = mask.startsWith('#') ? this.#room(mask) : null;
    if (room)
      return void this.#request(
        { type: 'users', room },
        { kind: 'who', target: mask, holds: true, lines: [], ...(whox ? { whox } : {}) },
      );
    if (/[*?]/.test(mask)) {
      const mine = new Set([...this.connection.rooms].map((r) => r.name));
      const found = this.#core.findSessions((nick) => maskMatches(mask, nick), WHO_MAX * 4);
      let shown = 0;
      for (const s of found) {
        if (shown >= WHO_MAX) break;
        const irc = s.key ? this.#gw.session(s.key) : undefined;
        if (irc?.invisible && irc !== this && ![...s.rooms].some((r) => mine.has(r.name))) continue;
        this.#whoReply('*', s.nick!, undefined, whox);
        shown++;
      }
    } else if (isValidNick(mask) && this.#online(mask)) this.#whoReply('*', this.#displayNick(mask), undefined, whox);
    this.#numeric(RPL.ENDOFWHO, mask, 'End of WHO list');
  }

  #whoReply(channel: string, nick: string, room?: string, whox?: Whox): void {
    const who = this.#who_(nick);
    const flags = (who.away ? 'G' : 'H') + (who.oper ? '*' : '') + (room ? this.#prefix(room, nick) : '');
    if (!whox)
      return this.#numeric(RPL.WHOREPLY, channel, who.ident, who.host, this.#server, nick, flags, `0 ${who.realname}`);
    const fields: Record<string, string> = {
      t: whox.token,
      c: channel,
      u: who.ident,
      i: who.ip,
      h: who.host,
      s: this.#server,
      n: nick,
      f: flags,
      d: '0',
      l: '0',
      a: who.account ?? '0',
      o: 'n/a',
      r: who.realname,
    };
    const params = [...'tcuihsnfdlaor'].filter((c) => whox.fields.includes(c)).map((c) => fields[c]);
    this.#numeric(RPL.WHOSPCRPL, ...params);
  }

  /** What WHO and WHOIS show of someone: an IRC user's details, or a teamchat client's (any other dialect). */
  #who_(nick: string): {
    ident: string;
    host: string;
    ip: string;
    realname: string;
    account: string | null;
    away: string | null;
    oper: boolean;
  } {
    const irc = this.#gw.session(nickKey(nick));
    if (irc)
      return {
        ident: irc.ident,
        host: irc.host,
        ip: irc.host,
        realname: irc.realname,
        account: irc.account,
        away: irc.away,
        oper: irc.isOper,
      };
    const session = this.#core.localSession(nick);
    const owner = session?.owner ?? null;
    return {
      ident: nickKey(nick),
      host: 'teamchat',
      ip: '255.255.255.255',
      realname: 'teamchat user',
      account: owner !== null && !owner.startsWith('~') ? owner : null,
      away: null,
      oper: false,
    };
  }

  #whois(p: string[]): void {
    const target = p.length > 1 ? p[1] : p[0];
    if (!target) return this.#numeric(ERR.NONICKNAMEGIVEN, 'No nickname given');
    const nick = target.split(',')[0];
    if (!isValidNick(nick) || !this.#online(nick)) {
      this.#numeric(ERR.NOSUCHNICK, nick, 'No such nick/channel');
      return this.#numeric(RPL.ENDOFWHOIS, nick, 'End of /WHOIS list');
    }
    const irc = this.#gw.session(nickKey(nick));
    const shown = this.#displayNick(nick);
    if (irc) {
      this.#numeric(RPL.WHOISUSER, shown, irc.ident, irc.host, '*', irc.realname);
      const rooms = [...irc.connection.rooms].map((r) => this.#prefix(r.name, shown) + '#' + r.name);
      if (rooms.length > 0) this.#numeric(RPL.WHOISCHANNELS, shown, rooms.join(' '));
      this.#numeric(RPL.WHOISSERVER, shown, this.#server, 'teamchat IRC gateway');
      if (irc.isOper) this.#numeric(RPL.WHOISOPERATOR, shown, 'is an IRC operator');
      if (irc.account) this.#numeric(RPL.WHOISACCOUNT, shown, irc.account, 'is logged in as');
      if (irc.away) this.#numeric(RPL.AWAY, shown, irc.away);
      if (irc === this) this.#numeric(RPL.WHOISACTUALLY, shown, irc.host, 'Actual user@host, Actual IP');
    } else {
      // A teamchat client (NDJSON, WebSocket or plain text): its rooms and account, from the core.
      const session = this.#core.localSession(nick);
      const who = this.#who_(nick);
      this.#numeric(RPL.WHOISUSER, shown, who.ident, who.host, '*', who.realname);
      const rooms = session
        ? [...session.rooms]
            .filter((r) => !(r.secret || r.restricted) || this.connection.rooms.has(r))
            .map((r) => this.#prefix(r.name, shown) + '#' + r.name)
        : [];
      if (rooms.length > 0) this.#numeric(RPL.WHOISCHANNELS, shown, rooms.slice(0, 50).join(' '));
      this.#numeric(RPL.WHOISSERVER, shown, this.#server, 'teamchat');
      if (who.account) this.#numeric(RPL.WHOISACCOUNT, shown, who.account, 'is logged in as');
    }
    this.#numeric(RPL.ENDOFWHOIS, shown, 'End of /WHOIS list');
  }

  /**
   * LIST [#a,#b | ELIST terms]: names, masks (`*an1`, ELIST M), negated masks (`!*an1`, N) and
   * member counts (`>2`, `<10`, U); a room is listed when it passes every term (names: any).
   */
  #list(p: string[]): void {
    const terms = (p[0] ?? '').split(',').filter(Boolean).slice(0, 10);
    const names = new Set<string>();
    const filters: ((r: { name: string; members: number }) => boolean)[] = [];
    for (const t of terms) {
      const count = /^([<>])(\d{1,9})$/.exec(t);
      if (count) {
        const n = Number(count[2]);
        filters.push(count[1] === '>' ? (r) => r.members > n : (r) => r.members < n);
      } else if (t.startsWith('!')) filters.push((r) => !maskMatches(t.slice(1), '#' + r.name));
      else if (/[*?]/.test(t)) filters.push((r) => maskMatches(t, '#' + r.name));
      else {
        const room = this.#room(t);
        if (room) names.add(room);
      }
    }
    if (names.size > 0) filters.push((r) => names.has(r.name));
    // Only names asked for, none valid: nothing to list.
    if (terms.length > 0 && filters.length === 0) filters.push(() => false);
    this.#numeric(RPL.LISTSTART, 'Channel', 'Users  Name');
    this.#request(
      { type: 'rooms' },
      {
        kind: 'list',
        target: '*',
        holds: true,
        ...(filters.length > 0 ? { only: (r) => filters.every((f) => f(r)) } : {}),
      },
    );
  }

  #mode(p: string[]): void {
    const target = p[0];
    if (target === undefined) return this.#needMore('MODE');
    if (!target.startsWith('#')) return this.#userMode(target, p.slice(1));
    const room = this.#room(target);
    if (!room) return this.#numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
    if (p.length < 2) return void this.#request({ type: 'mode', room }, { kind: 'mode', target, holds: true });
    const change = parseChannelModes(p[1], p.slice(2));
    for (const bad of change.unknown) this.#numeric(ERR.UNKNOWNMODE, bad, 'is not a mode teamchat rooms have');
    for (const [mode, arg, why] of change.invalid) this.#numeric(ERR.INVALIDMODEPARAM, target, mode, arg, why);
    if (change.missing.length > 0) this.#needMore('MODE');
    const frame = change.frame;
    // Member modes of an operator: a target that is not here gets its own numeric, the rest apply.
    if (frame.members && this.#core.isOperator(room, this.connection.nick!)) {
      frame.members = frame.members.filter((m) => this.#targetHere(m.nick, room, target));
      if (frame.members.length === 0) delete frame.members;
    }
    if (Object.keys(frame).length > 0) {
      this.#request({ type: 'mode', room, ...frame }, { kind: 'mode-set', target, holds: true });
      return;
    }
    // Only list questions (`MODE #chan +b`): the lists come with the modes.
    if (change.lists.length > 0)
      this.#request({ type: 'mode', room }, { kind: 'mode-list', target, holds: true, modes: change.lists });
  }

  #userMode(target: string, p: string[]): void {
    if (nickKey(target) !== this.connection.key) {
      return this.#online(target)
        ? this.#numeric(ERR.USERSDONTMATCH, "Can't change mode for other users")
        : this.#numeric(ERR.NOSUCHNICK, target, 'No such nick/channel');
    }
    const nick = this.connection.nick!;
    if (p.length === 0)
      return this.#numeric(RPL.UMODEIS, '+' + [...this.#userModes, ...(this.#oper ? ['o'] : [])].join(''));
    let sign = '+';
    const changed: string[] = [];
    for (const c of p[0]) {
      if (c === '+' || c === '-') {
        sign = c;
        continue;
      }
      if (c === 'i' || c === 'w') {
        const has = this.#userModes.has(c);
        if (sign === '+' && !has) this.#userModes.add(c);
        else if (sign === '-' && has) this.#userModes.delete(c);
        else continue;
        changed.push(sign + c);
      } else if (c === 'o' && sign === '-' && this.#oper) {
        this.#oper = false;
        changed.push('-o');
      } else if (c !== 'o') {
        this.#numeric(ERR.UMODEUNKNOWNFLAG, 'Unknown MODE flag');
      }
    }
    if (changed.length > 0)
      this.#emit({ source: this.#mask(nick), command: 'MODE', params: [nick, compactModes(changed)] });
  }

  #invite(p: string[]): void {
    if (p.length < 2) return this.#needMore('INVITE');
    const [nick, target] = p as [string, string];
    const room = this.#room(target);
    if (!room) return this.#numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
    if (!isValidNick(nick) || !this.#online(nick)) return this.#numeric(ERR.NOSUCHNICK, nick, 'No such nick/channel');
    const invitee = this.#gw.connection(nickKey(nick));
    if (invitee && [...invitee.rooms].some((r) => r.name === room))
      return this.#numeric(ERR.USERONCHANNEL, nick, target, 'is already on channel');
    this.#request({ type: 'invite', nick, room }, { kind: 'invite', target, holds: true });
  }

  /** True when `nick` is in `room`; else tells why (401 or 441). */
  #targetHere(nick: string, room: string, channel: string): boolean {
    const session = isValidNick(nick) ? this.#core.localSession(nick) : undefined;
    if (!session) {
      this.#numeric(ERR.NOSUCHNICK, nick, 'No such nick/channel');
      return false;
    }
    if (![...session.rooms].some((r) => r.name === room)) {
      this.#numeric(ERR.USERNOTINCHANNEL, session.nick ?? nick, channel, "They aren't on that channel");
      return false;
    }
    return true;
  }

  /** KICK #room nick[,nick] [:reason]: the core's kick, one nick after the other. */
  #kick(p: string[]): void {
    if (p.length < 2) return this.#needMore('KICK');
    const channels = p[0].split(',');
    const nicks = p[1].split(',').slice(0, 4);
    const reason = p[2] !== undefined && p[2] !== '' ? p[2].slice(0, REASON_MAX_LENGTH) : undefined;
    // `KICK #a,#b x,y` pairs them; one channel applies to every nick.
    nicks.forEach((nick, i) => {
      const target = channels.length === nicks.length ? channels[i] : channels[0];
      this.#step(() => {
        const room = this.#room(target);
        if (!room) return this.#numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
        // The kicker's own standing first (442, 482), then the target's (401, 441); the core checks again.
        if (![...this.connection.rooms].some((r) => r.name === room)) {
          if (!this.#core.hasRoom(room)) return this.#numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
          return this.#numeric(ERR.NOTONCHANNEL, target, "You're not on that channel");
        }
        if (!this.#core.isOperator(room, this.connection.nick!))
          return this.#numeric(ERR.CHANOPRIVSNEEDED, target, "You're not channel operator");
        if (!this.#targetHere(nick, room, target)) return;
        this.#request(
          { type: 'kick', room, nick, ...(reason !== undefined ? { reason } : {}) },
          { kind: 'kick', target, holds: true },
        );
      });
    });
    this.#nextStep();
  }

  #setAway(message: string | undefined): void {
    const away = message ? message.slice(0, REASON_MAX_LENGTH) : null;
    this.#away = away;
    if (away) this.#numeric(RPL.NOWAWAY, 'You have been marked as being away');
    else this.#numeric(RPL.UNAWAY, 'You are no longer marked as being away');
    // away-notify: the IRC users who share a room with this one.
    const told = new Set<IrcDialect>();
    for (const room of this.connection.rooms) {
      for (const member of room.members) {
        const irc = member.key ? this.#gw.session(member.key) : undefined;
        if (!irc || irc === this || told.has(irc) || !irc.hasCap('away-notify')) continue;
        told.add(irc);
        irc.tell(
          formatIrcLine({ source: this.#mask(this.connection.nick!), command: 'AWAY', params: away ? [away] : [] }),
        );
      }
    }
  }

  /** A line from another IRC session of this gateway (away-notify). */
  tell(line: string): void {
    this.connection.writeText(line + CRLF);
  }

  #operCommand(p: string[]): void {
    if (p.length < 2) return this.#needMore('OPER');
    const oper = (this.#gw.options.opers ?? []).find((o) => o.name === p[0]);
    if (!oper) return this.#numeric(ERR.NOOPERHOST, 'No O-lines for your host');
    if (oper.password !== p[1]) return this.#numeric(ERR.PASSWDMISMATCH, 'Password incorrect');
    this.#oper = true;
    this.#numeric(RPL.YOUREOPER, 'You are now an IRC operator');
    this.#emit({ source: this.#mask(this.connection.nick!), command: 'MODE', params: [this.connection.nick!, '+o'] });
  }

  #userhost(p: string[]): void {
    const out = p
      .slice(0, 5)
      .filter((n) => this.#online(n))
      .map((n) => {
        const irc = this.#gw.session(nickKey(n));
        const shown = this.#displayNick(n);
        return `${shown}${irc?.isOper ? '*' : ''}=${irc?.away ? '-' : '+'}${irc?.ident ?? nickKey(shown)}@${irc?.host ?? 'teamchat'}`;
      });
    this.#numeric(RPL.USERHOST, out.join(' '));
  }

  /**
   * draft/chathistory: LATEST, BEFORE, AFTER, BETWEEN, AROUND with `msgid=` (message ids) and
   * `timestamp=` references. Each is one or two core `history` (or `pm-history`) pages: AROUND
   * reads up to the message and after it; a backwards BETWEEN reads the latest page below its
   * first bound and keeps what is above the second.
   */
  #chathistory(p: string[]): void {
    const [sub, target] = [(p[0] ?? '').toUpperCase(), p[1]];
    if (sub === 'TARGETS') return this.#chathistoryTargets(p);
    if (!target || p.length < 4)
      return this.#fail('CHATHISTORY', 'NEED_MORE_PARAMS', 'Not enough parameters', sub || '*');
    const limitArg = Number(p[p.length - 1]);
    if (!Number.isInteger(limitArg) || limitArg < 0)
      return this.#fail('CHATHISTORY', 'INVALID_PARAMS', 'Bad limit', sub, target);
    const limit = Math.min(limitArg || HISTORY_MAX, HISTORY_MAX);
    const a = historyRef(p[2]);
    const b = historyRef(p[3]);
    const bad = () =>
      this.#fail('CHATHISTORY', 'INVALID_PARAMS', 'A reference is *, msgid=<id> or timestamp=<ISO time>', sub, target);
    let first: HistoryBounds;
    let second: HistoryBounds | undefined;
    let keep: ((m: RoomMessage | PrivateMessage) => boolean) | undefined;
    switch (sub) {
      case 'LATEST':
        if (a === null) return bad();
        first = { limit };
        if (a !== '*') keep = (m) => above(m, a);
        break;
      case 'BEFORE':
        if (a === null || a === '*') return bad();
        first = { ...below(a), limit };
        break;
      case 'AFTER':
        if (a === null || a === '*') return bad();
        first = { ...over(a), limit };
        break;
      case 'BETWEEN': {
        if (a === null || b === null || a === '*' || b === '*' || p.length < 5) return bad();
        const backwards = a.kind === b.kind && a.value > b.value;
        if (backwards) {
          first = { ...below(a), limit };
          keep = (m) => above(m, b);
        } else first = { ...over(a), ...below(b), limit };
        break;
      }
      case 'AROUND': {
        if (a === null || a === '*') return bad();
        const upTo = Math.ceil(limit / 2);
        first = { ...below({ kind: a.kind, value: a.value + 1 }), limit: upTo };
        if (limit - upTo > 0) second = { ...over(a), limit: limit - upTo };
        break;
      }
      default:
        return this.#fail('CHATHISTORY', 'INVALID_PARAMS', 'Unknown subcommand', sub);
    }
    const plan = { ...(keep ? { keep } : {}), ...(second ? { second } : {}), collected: [] };
    if (target.startsWith('#')) {
      const room = this.#room(target);
      if (!room) return this.#fail('CHATHISTORY', 'INVALID_TARGET', 'No such channel', sub, target);
      this.#request(
        { type: 'history', room, ...first },
        { kind: 'history', target, holds: true, reason: sub, history: plan },
      );
    } else {
      if (!isValidNick(target)) return this.#fail('CHATHISTORY', 'INVALID_TARGET', 'No such nick', sub, target);
      this.#request(
        { type: 'pm-history', with: target, ...first },
        { kind: 'pm-history', target, holds: true, reason: sub, history: plan },
      );
    }
  }

  /**
   * CHATHISTORY TARGETS <from> <to> <limit>: the rooms this session is in and the nicks it has
   * private messages with, whose latest message falls between the two times, oldest first. One
   * `history` page of one message per room (at most the session's room limit) and one
   * `pm-history` page (HISTORY_MAX messages: peers further back are not listed).
   */
  #chathistoryTargets(p: string[]): void {
    const a = historyRef(p[1]);
    const b = historyRef(p[2]);
    const limitArg = Number(p[3]);
    if (
      a === null ||
      b === null ||
      a === '*' ||
      b === '*' ||
      a.kind !== 'ts' ||
      b.kind !== 'ts' ||
      !Number.isInteger(limitArg) ||
      limitArg < 0
    ) {
      return this.#fail(
        'CHATHISTORY',
        'INVALID_PARAMS',
        'TARGETS takes two timestamp= references and a limit',
        'TARGETS',
      );
    }
    const queue: ClientFrame[] = [...this.connection.rooms].map((r) => ({ type: 'history', room: r.name, limit: 1 }));
    queue.push({ type: 'pm-history', limit: HISTORY_MAX });
    const first = queue.shift()!;
    const targets = {
      queue,
      latest: new Map<string, number>(),
      from: Math.min(a.value, b.value),
      to: Math.max(a.value, b.value),
      limit: Math.min(limitArg || HISTORY_MAX, HISTORY_MAX),
    };
    this.#request(first, { kind: 'targets', target: '*', holds: true, targets });
  }

  /** One page of CHATHISTORY TARGETS is in: note its latest times; ask the next, or answer. */
  #targetsPage(frame: Extract<ServerFrame, { type: 'history' | 'pm-history' }>, pending: Pending): void {
    const t = pending.targets!;
    const me = this.connection.key;
    if (frame.type === 'history') {
      const last = frame.messages.at(-1);
      if (last) t.latest.set('#' + frame.room, last.ts);
    } else {
      for (const m of frame.messages) {
        const peer = nickKey(m.from) === me ? m.to : m.from;
        t.latest.set(peer, Math.max(t.latest.get(peer) ?? 0, m.ts));
      }
    }
    const next = t.queue.shift();
    if (next) {
      const ref = `irc${this.connection.id}.${this.#nextRef++}`;
      this.#pending.set(ref, pending);
      this.#hold(ref);
      queueMicrotask(() => this.connection.dispatch({ ...next, ref }));
      return;
    }
    const list = [...t.latest]
      .filter(([, ts]) => ts > t.from && ts < t.to)
      .sort((x, y) => x[1] - y[1])
      .slice(0, t.limit);
    const id = this.#newBatchId();
    this.#emit({ source: this.#server, command: 'BATCH', params: ['+' + id, 'draft/chathistory-targets'] });
    for (const [target, ts] of list)
      this.#emit({
        tags: { batch: id },
        source: this.#server,
        command: 'CHATHISTORY',
        params: ['TARGETS', target, new Date(ts).toISOString()],
      });
    this.#emit({ source: this.#server, command: 'BATCH', params: ['-' + id] });
  }

  #pong(token: string, label: string | undefined): void {
    const line = formatIrcLine({
      ...(label !== undefined && this.#caps.has('labeled-response') ? { tags: { label } } : {}),
      source: this.#server,
      command: 'PONG',
      params: [this.#server, token],
    });
    // After what was queued before it: a PING synchronizes with messages in flight.
    this.#hold('ping');
    this.#gw.options.inOrder(() => {
      this.connection.writeText(line + CRLF);
      this.#release('ping');
    });
  }

  // ---------- requests to the core and their answers ----------

  #request(frame: ClientFrame, pending: Pending): string {
    const ref = `irc${this.connection.id}.${this.#nextRef++}`;
    if (this.#labeled && pending.holds) pending.label = this.#labeled.label;
    this.#pending.set(ref, pending);
    if (pending.holds) this.#hold(ref);
    this.#core.handle(this.connection, { ...frame, ref });
    return ref;
  }

  #hold(ref: string): void {
    this.#holdRef = ref;
    if (this.#holdTimer) clearTimeout(this.#holdTimer);
    this.#holdTimer = setTimeout(() => this.#release(ref), HOLD_TIMEOUT_MS);
    this.#holdTimer.unref();
  }

  #release(ref: string): void {
    if (this.#holdRef !== ref) return;
    this.#holdRef = null;
    if (this.#holdTimer) clearTimeout(this.#holdTimer);
    this.#holdTimer = null;
    if (this.#steps.length > 0) return void queueMicrotask(() => this.#nextStep());
    this.#finishLabel();
    queueMicrotask(() => this.connection.resume());
  }

  #step(run: () => void): void {
    this.#steps.push(run);
  }

  /** Runs the next sub-command; each waits for the answer of the one before. */
  #nextStep(): void {
    while (this.#holdRef === null && this.#steps.length > 0) {
      const run = this.#steps.shift()!;
      if (!this.connection.isOpen) return void (this.#steps = []);
      run();
    }
    if (!this.holding) {
      this.#finishLabel();
      queueMicrotask(() => this.connection.resume());
    }
  }

  #finishLabel(): void {
    const labeled = this.#labeled;
    if (!labeled) return;
    this.#labeled = null;
    const { label, lines } = labeled;
    let out: string[];
    if (lines.length === 0) out = [formatIrcLine({ tags: { label }, source: this.#server, command: 'ACK' })];
    else if (lines.length === 1) out = [withTags(lines[0], `label=${escapeTag(label)}`)];
    else {
      const id = this.#newBatchId();
      out = [
        formatIrcLine({
          tags: { label },
          source: this.#server,
          command: 'BATCH',
          params: ['+' + id, 'labeled-response'],
        }),
        ...lines.map((l) => withTags(l, `batch=${id}`)),
        formatIrcLine({ source: this.#server, command: 'BATCH', params: ['-' + id] }),
      ];
    }
    if (this.#caps.has('batch') || lines.length <= 1) this.#write(out);
    else this.#write(lines);
  }

  #newBatchId(): string {
    return `b${this.connection.id}x${++this.#batchId}`;
  }

  /** Renders a core frame for this client (LineDialect). */
  render(encoded: EncodedFrame): Buffer {
    const frame = encoded.frame;
    // Someone else's room message reads the same to every recipient whose tag capabilities are the
    // same (its sender's mask, relayed tags and reply are the message's): a fan-out renders it
    // once per profile, not once per member, as the NDJSON path serializes a broadcast once.
    if (
      frame.type === 'message' &&
      frame.nick !== this.connection.nick &&
      nickKey(frame.nick) !== this.connection.key
    ) {
      const profile = (this.#caps.has('server-time') ? 1 : 0) | (this.#caps.has('message-tags') ? 2 : 0);
      let byProfile = SHARED_ROOM_LINES.get(encoded);
      if (!byProfile) SHARED_ROOM_LINES.set(encoded, (byProfile = []));
      return (byProfile[profile] ??= this.#render(encoded));
    }
    return this.#render(encoded);
  }

  #render(encoded: EncodedFrame): Buffer {
    const frame = encoded.frame;
    const lines: string[] = [];
    const previous = this.#sink;
    this.#sink = lines;
    let release: string | null = null;
    try {
      const ref = 'ref' in frame ? frame.ref : undefined;
      const pending = ref !== undefined ? this.#pending.get(ref) : undefined;
      if (pending && ref !== undefined && frame.type !== 'message' && frame.type !== 'pm') {
        this.#pending.delete(ref);
        if (pending.holds) release = ref;
        this.#answer(frame, pending, ref);
      } else {
        this.#event(frame);
      }
    } finally {
      this.#sink = previous;
    }
    const bytes = lines.length === 0 ? EMPTY : Buffer.from(lines.map((l) => l + CRLF).join(''));
    if (release !== null && this.#holdRef === release) {
      // The answer goes out before a labeled batch closes, and before the next command runs.
      if (bytes.length > 0) this.connection.writeText(bytes.toString());
      this.#release(release);
      return EMPTY;
    }
    return bytes;
  }

  /** The answer to one of this dialect's requests. */
  #answer(frame: ServerFrame, pending: Pending, ref: string): void {
    if (frame.type === 'error') return this.#error(frame.code, frame.message, pending, ref);
    switch (frame.type) {
      case 'joined': {
        this.#joinedRoom(frame);
        return;
      }
      case 'parted':
        return this.#emitEvent({
          source: this.#mask(this.connection.nick!),
          command: 'PART',
          params: ['#' + frame.room, ...(pending.reason ? [pending.reason] : [])],
        });
      case 'presence':
        // The kicker's own copy of its kick.
        if (frame.event === 'kick')
          return this.#emitEvent({
            source: this.#mask(frame.by ?? this.connection.nick!),
            command: 'KICK',
            params: ['#' + frame.room, frame.nick, frame.reason ?? ''],
          });
        return this.#event({ ...frame, ref: undefined });
      case 'topic':
        if (pending.kind === 'topic-set' || frame.by !== undefined)
          return this.#respond({
            source: frame.by ? this.#mask(frame.by) : this.#server,
            command: 'TOPIC',
            params: ['#' + frame.room, frame.topic ?? ''],
          });
        if (frame.topic === null) return this.#numeric(RPL.NOTOPIC, '#' + frame.room, 'No topic is set');
        return this.#numeric(RPL.TOPIC, '#' + frame.room, frame.topic);
      case 'users': {
        const room = frame.room;
        if (pending.kind === 'names') {
          const names = frame.users.map((n) => this.#nameEntry(room, n));
          for (const chunk of chunkWords(names, 400)) pending.lines!.push(chunk);
        } else {
          for (const nick of frame.users) this.#whoReply('#' + room, nick, room, pending.whox);
        }
        if (frame.more && frame.users.length > 0) {
          const next = `irc${this.connection.id}.${this.#nextRef++}`;
          this.#pending.set(next, pending);
          this.#hold(next);
          queueMicrotask(() =>
            this.connection.dispatch({ type: 'users', room, after: frame.users[frame.users.length - 1], ref: next }),
          );
          return;
        }
        if (pending.kind === 'names') {
          for (const chunk of pending.lines!) this.#numeric(RPL.NAMREPLY, this.#symbol(room), '#' + room, chunk);
          return this.#numeric(RPL.ENDOFNAMES, '#' + room, 'End of /NAMES list');
        }
        return this.#numeric(RPL.ENDOFWHO, pending.target, 'End of WHO list');
      }
      case 'rooms': {
        for (const r of frame.rooms) {
          if (pending.only && !pending.only(r)) continue;
          this.#numeric(RPL.LIST, '#' + r.name, String(r.members), r.topic ?? '');
        }
        if (frame.more && frame.rooms.length > 0) {
          const next = `irc${this.connection.id}.${this.#nextRef++}`;
          this.#pending.set(next, pending);
          this.#hold(next);
          queueMicrotask(() =>
            this.connection.dispatch({ type: 'rooms', after: frame.rooms[frame.rooms.length - 1].name, ref: next }),
          );
          return;
        }
        return this.#numeric(RPL.LISTEND, 'End of /LIST');
      }
      case 'mode': {
        const channel = '#' + frame.room;
        if (pending.kind === 'mode-list') {
          for (const letter of pending.modes ?? []) {
            const [entries, item, end, what] =
              letter === 'b'
                ? [frame.bans, RPL.BANLIST, RPL.ENDOFBANLIST, 'ban']
                : letter === 'e'
                  ? [frame.excepts, RPL.EXCEPTLIST, RPL.ENDOFEXCEPTLIST, 'exception']
                  : [frame.invexes, RPL.INVITELIST, RPL.ENDOFINVITELIST, 'invite exception'];
            for (const e of entries ?? []) this.#numeric(item, channel, e.mask, e.by, String(Math.floor(e.ts / 1000)));
            this.#numeric(end, channel, `End of channel ${what} list`);
          }
          return;
        }
        if (pending.kind === 'mode') {
          this.#numeric(RPL.CHANNELMODEIS, channel, ...modeString(frame));
          if (frame.createdAt !== undefined)
            this.#numeric(RPL.CREATIONTIME, channel, String(Math.floor(frame.createdAt / 1000)));
          return;
        }
        // mode-set: what was applied (nothing: no line).
        if (!frame.changes || frame.changes.length === 0) return;
        return this.#emitEvent({
          source: this.#mask(this.connection.nick!),
          command: 'MODE',
          params: [channel, ...formatChanges(frame.changes)],
        });
      }
      case 'invite':
        return this.#numeric(RPL.INVITING, frame.nick, '#' + frame.room);
      case 'deleted': {
        const why = pending.reason?.split('\0')[1];
        return this.#respond({
          source: this.#mask(this.connection.nick!),
          command: 'REDACT',
          params: [pending.target, String(frame.id), ...(why ? [why] : [])],
        });
      }
      case 'reaction': {
        // The reactor's echo, when it asked for echoes: the answer to its (labeled) TAGMSG.
        const line = this.#caps.has('echo-message') ? this.#reactionLine(frame) : null;
        return line ? this.#respond(line) : undefined;
      }
      case 'nick':
        if (frame.room !== undefined) return;
        return this.#selfRenamed(frame.old, frame.new);
      case 'registered':
        this.#account = frame.nick;
        this.#emit({ source: this.#server, command: 'REGISTER', params: ['SUCCESS', frame.nick, 'Account created'] });
        return this.#numeric(
          RPL.LOGGEDIN,
          `${this.connection.nick ?? '*'}!${this.ident}@${this.#host}`,
          frame.nick,
          `You are now logged in as ${frame.nick}`,
        );
      case 'history':
      case 'pm-history': {
        if (pending.kind === 'targets') return this.#targetsPage(frame, pending);
        if (pending.kind === 'marker-announce') {
          // The marked message's time is the IRC marker; told unless this client knows it already
          // (it set it with MARKREAD, or another IRC client of the same owner did).
          const marked = frame.messages.at(-1);
          const owner = this.connection.owner;
          if (!marked || !owner) return;
          const known = this.#gw.marker(owner, pending.target);
          this.#gw.setMarker(owner, pending.target, marked.ts);
          if (known === undefined || marked.ts > known) this.#emit(this.#markreadLine(pending.target));
          return;
        }
        if (pending.kind === 'marker-sync') {
          const last = frame.messages.at(-1);
          if (!last) return;
          // Asked with a ref: the core's `marker` answer comes back here, not as an event that
          // #announceMarker would look up again (this client was told by #markread already).
          const ref = `irc${this.connection.id}.${this.#nextRef++}`;
          this.#pending.set(ref, { kind: 'marker-sync', target: pending.target, holds: false });
          this.connection.dispatch(
            frame.type === 'history'
              ? { type: 'mark', room: frame.room, id: last.id, ref }
              : { type: 'mark', with: pending.target, id: last.id, ref },
          );
          return;
        }
        const plan = pending.history;
        if (plan?.second) {
          // AROUND: the page up to the message is in; read the one after it.
          plan.collected.push(...frame.messages);
          const bounds = plan.second;
          delete plan.second;
          const next = `irc${this.connection.id}.${this.#nextRef++}`;
          this.#pending.set(next, pending);
          this.#hold(next);
          const ask: ClientFrame =
            frame.type === 'history'
              ? { type: 'history', room: frame.room, ...bounds, ref: next }
              : { type: 'pm-history', with: pending.target, ...bounds, ref: next };
          queueMicrotask(() => this.connection.dispatch(ask));
          return;
        }
        let list = [...(plan?.collected ?? []), ...frame.messages];
        if (plan?.keep) list = list.filter(plan.keep);
        return this.#historyBatch(frame.type === 'history' ? '#' + frame.room : pending.target, list);
      }
      case 'marker':
        return; // the core's marker moved to this client's MARKREAD (see `marker-sync`)
      case 'ack': {
        // A message whose echo was not asked for: a labeled one is acknowledged with ACK.
        const sent = this.#sent.findIndex((s) => s.ref === ref);
        if (sent !== -1) this.#sent.splice(sent, 1);
        return;
      }
      default:
        return this.#event({ ...frame, ref: undefined } as ServerFrame);
    }
  }

  #error(code: string, message: string, pending: Pending, ref: string): void {
    const context: ErrorContext =
      pending.kind === 'privmsg' || pending.kind === 'notice'
        ? pending.kind === 'notice'
          ? 'notice'
          : 'privmsg'
        : pending.kind === 'topic-set'
          ? 'topic'
          : pending.kind === 'mode-set'
            ? 'mode'
            : pending.kind === 'names' || pending.kind === 'who' || pending.kind === 'list'
              ? 'names'
              : (pending.kind as ErrorContext);
    const sent = this.#sent.findIndex((s) => s.ref === ref);
    if (sent !== -1) this.#sent.splice(sent, 1);
    if (pending.kind === 'history' || pending.kind === 'pm-history')
      return this.#fail(
        'CHATHISTORY',
        code === 'TC_ERR_NOT_IN_ROOM' ? 'INVALID_TARGET' : 'MESSAGE_ERROR',
        message,
        pending.reason?.split(' ')[0] ?? '*',
        pending.target,
      );
    if (pending.kind === 'marker-sync') return;
    // A room TARGETS could not read (left meanwhile): as if it had nothing.
    if (pending.kind === 'targets')
      return this.#targetsPage({ type: 'history', room: '', messages: [], more: false }, pending);
    if (pending.kind === 'names') return this.#numeric(RPL.ENDOFNAMES, pending.target, 'End of /NAMES list');
    if (pending.kind === 'redact')
      return this.#fail(
        'REDACT',
        code === 'TC_ERR_NOT_AUTHOR' ? 'REDACT_FORBIDDEN' : 'UNKNOWN_MSGID',
        message,
        pending.target,
        pending.reason?.split('\0')[0] ?? '*',
      );
    if (pending.kind === 'react') return this.#fail('TAGMSG', 'INVALID_PARAMS', message, pending.target);
    if (pending.kind === 'who') return this.#numeric(RPL.ENDOFWHO, pending.target, 'End of WHO list');
    if (pending.kind === 'register')
      return this.#fail(
        'REGISTER',
        code === 'TC_ERR_WEAK_PASSWORD' ? 'WEAK_PASSWORD' : 'UNACCEPTABLE_PASSWORD',
        message,
        pending.target,
      );
    if (pending.kind === 'notice') return; // never answered with an error (RFC 2812)
    const numeric = numericForError(code, context);
    if (numeric === null)
      return this.#emit({ source: this.#server, command: 'NOTICE', params: [this.#nick, `${message} [${code}]`] });
    switch (numeric) {
      case ERR.NOSUCHNICK:
      case ERR.NOSUCHCHANNEL:
      case ERR.CANNOTSENDTOCHAN:
      case ERR.NOTONCHANNEL:
      case ERR.BADCHANNELKEY:
      case ERR.INVITEONLYCHAN:
      case ERR.BANNEDFROMCHAN:
      case ERR.CHANNELISFULL:
      case ERR.CHANOPRIVSNEEDED:
      case ERR.BADCHANMASK:
      case ERR.TOOMANYCHANNELS:
      case ERR.ERRONEUSNICKNAME:
      case ERR.NICKNAMEINUSE:
        return this.#numeric(numeric, pending.target, message);
      default:
        return this.#numeric(numeric, message);
    }
  }

  /** JOIN, topic, names; then history replay when configured and no chathistory. */
  #joinedRoom(frame: Extract<ServerFrame, { type: 'joined' }>): void {
    const room = frame.room;
    const channel = '#' + room;
    const self = this.connection.nick!;
    this.#emitEvent({ source: this.#mask(self), command: 'JOIN', params: [channel] });
    if (frame.topic !== null) {
      this.#numeric(RPL.TOPIC, channel, frame.topic);
      if (frame.topicBy !== undefined && frame.topicAt !== undefined)
        this.#numeric(RPL.TOPICWHOTIME, channel, frame.topicBy, String(Math.floor(frame.topicAt / 1000)));
    }
    const names = frame.users.map((n) => this.#nameEntry(room, n));
    for (const chunk of chunkWords(names, 400)) this.#numeric(RPL.NAMREPLY, this.#symbol(room), channel, chunk);
    // draft/read-marker: the marker comes before the end of NAMES.
    if (this.#caps.has('draft/read-marker')) this.#emitEvent(this.#markreadLine(channel));
    this.#numeric(RPL.ENDOFNAMES, channel, 'End of /NAMES list');
    const replay = this.#gw.options.historyOnJoin ?? 0;
    if (replay > 0 && frame.history.length > 0 && !this.#caps.has('draft/chathistory')) {
      const messages = frame.history.slice(-replay);
      if (this.#caps.has('batch')) {
        const id = this.#newBatchId();
        this.#emit({ source: this.#server, command: 'BATCH', params: ['+' + id, 'chathistory', channel] });
        for (const m of messages) this.#emit(this.#roomMessage(m, { batch: id }, true));
        this.#emit({ source: this.#server, command: 'BATCH', params: ['-' + id] });
      } else {
        for (const m of messages) this.#emit(this.#roomMessage(m, {}, true));
      }
    }
  }

  #nameEntry(room: string, nick: string): string {
    const prefix = this.#prefix(room, nick);
    if (!this.#caps.has('userhost-in-names')) return prefix + nick;
    return prefix + this.#mask(nick);
  }

  /** RPL_NAMREPLY's channel type: `@` secret (+s), `=` public. */
  #symbol(room: string): string {
    return [...this.connection.rooms].find((r) => r.name === room)?.secret ? '@' : '=';
  }

  /** `@` for an operator, `+` for a voiced member; both with multi-prefix. */
  #prefix(room: string, nick: string): string {
    const op = this.#core.isOperator(room, nick) ? '@' : '';
    const voice = this.#core.isVoiced(room, nick) ? '+' : '';
    return this.#caps.has('multi-prefix') ? op + voice : op || voice;
  }

  #historyBatch(target: string, list: (RoomMessage | PrivateMessage)[]): void {
    const id = this.#newBatchId();
    const batched = this.#caps.has('batch');
    if (batched) this.#emit({ source: this.#server, command: 'BATCH', params: ['+' + id, 'chathistory', target] });
    for (const m of list) {
      const tags = batched ? { batch: id } : {};
      this.#emit('room' in m ? this.#roomMessage(m, tags, true) : this.#privateMessage(m, tags, true));
    }
    if (batched) this.#emit({ source: this.#server, command: 'BATCH', params: ['-' + id] });
  }

  /** Frames that are not answers: other people's doings, messages, server notices. */
  #event(frame: ServerFrame): void {
    const self = this.connection.nick;
    switch (frame.type) {
      case 'welcome':
        this.#lastWelcomeAccount = frame.account === true;
        return;
      case 'joined':
        return this.#joinedRoom(frame); // restored at login (not asked by this client)
      case 'message': {
        const own = frame.nick === self;
        const sent = own ? this.#takeSent('#' + frame.room) : undefined;
        if (own && !this.#caps.has('echo-message')) return;
        const tags: Record<string, string | undefined> = {};
        if (sent?.label !== undefined && this.#labeled?.label !== sent.label) tags['label'] = sent.label;
        const relayed = sent?.tags ?? this.#gw.tagsOf('#' + frame.room, frame.nick, frame.text);
        if (relayed) for (const [k, v] of relayed) tags[k] = v;
        if (frame.replyTo !== undefined) tags['+draft/reply'] = String(frame.replyTo);
        const line = this.#roomMessage(frame, tags, false, frame.notice === true);
        return own && sent?.label !== undefined && this.#labeled?.label === sent.label
          ? this.#respond(line)
          : this.#emit(line);
      }
      case 'pm': {
        if (frame.from === self && nickKey(frame.to) === this.connection.key) {
          // To oneself: the copy as recipient, then (echo-message) the echo, which answers the label.
          this.#emit(this.#privateMessage(frame, {}, false, frame.notice === true));
          const sent = this.#takeSent(nickKey(frame.to));
          if (!this.#caps.has('echo-message')) return;
          const echo = this.#privateMessage(
            frame,
            sent?.tags ? Object.fromEntries(sent.tags) : {},
            false,
            frame.notice === true,
          );
          if (sent?.label !== undefined && this.#labeled?.label === sent.label) return this.#respond(echo);
          return this.#emit(sent?.label !== undefined ? { ...echo, tags: { ...echo.tags, label: sent.label } } : echo);
        }
        const own = frame.from === self && nickKey(frame.to) !== this.connection.key;
        const sent = own ? this.#takeSent(nickKey(frame.to)) : undefined;
        if (own && !this.#caps.has('echo-message')) return;
        const tags: Record<string, string | undefined> = {};
        const relayed = sent?.tags ?? (own ? undefined : this.#gw.tagsOf(nickKey(frame.to), frame.from, frame.text));
        if (relayed) for (const [k, v] of relayed) tags[k] = v;
        const line = this.#privateMessage(frame, tags, false, frame.notice === true);
        return own && sent?.label !== undefined && this.#labeled?.label === sent.label
          ? this.#respond(line)
          : this.#emit(line);
      }
      case 'presence': {
        const channel = '#' + frame.room;
        if (frame.event === 'join') {
          this.#emit({ source: this.#mask(frame.nick), command: 'JOIN', params: [channel] });
          // away-notify: someone away who joins is announced as away too.
          const away = this.#caps.has('away-notify') ? this.#gw.session(nickKey(frame.nick))?.away : null;
          if (away) this.#emit({ source: this.#mask(frame.nick), command: 'AWAY', params: [away] });
          return;
        }
        if (frame.event === 'part')
          return this.#emit({
            source: this.#mask(frame.nick),
            command: 'PART',
            params: [channel, ...(frame.reason ? [frame.reason] : [])],
          });
        if (frame.event === 'kick')
          return this.#emit({
            source: this.#mask(frame.by ?? frame.nick),
            command: 'KICK',
            params: [channel, frame.nick, frame.reason ?? ''],
          });
        if (this.#once(`quit\0${frame.nick}\0${frame.ts}`)) return;
        const reason =
          frame.event === 'quit'
            ? `Quit: ${frame.reason ?? ''}`.replace(/: $/, '')
            : frame.reason
              ? `Connection closed: ${frame.reason}`
              : 'Connection closed';
        return this.#emit({ source: this.#mask(frame.nick), command: 'QUIT', params: [reason] });
      }
      case 'nick':
        if (frame.room === undefined) return this.#selfRenamed(frame.old, frame.new);
        if (nickKey(frame.new) === this.connection.key || this.#once(`nick\0${frame.old}\0${frame.new}\0${frame.ts}`))
          return;
        return this.#emit({ source: this.#mask(frame.old, frame.new), command: 'NICK', params: [frame.new] });
      case 'topic':
        return this.#emit(
          {
            source: frame.by ? this.#mask(frame.by) : this.#server,
            command: 'TOPIC',
            params: ['#' + frame.room, frame.topic ?? ''],
          },
          frame.ts,
        );
      case 'mode':
        if (!frame.by || !frame.changes || frame.changes.length === 0) return;
        return this.#emit({
          source: this.#mask(frame.by),
          command: 'MODE',
          params: ['#' + frame.room, ...formatChanges(frame.changes)],
        });
      case 'invite':
        if (nickKey(frame.nick) !== this.connection.key) return;
        return this.#emit({ source: this.#mask(frame.by), command: 'INVITE', params: [frame.nick, '#' + frame.room] });
      case 'error':
        if (!this.#registered && frame.code === 'TC_ERR_NOT_REGISTERED')
          return this.#numeric(ERR.NOTREGISTERED, 'You have not registered');
        if (frame.code === 'TC_ERR_LINE_TOO_LONG') return this.#numeric(ERR.INPUTTOOLONG, 'Input line was too long');
        return this.#emit({
          source: this.#server,
          command: 'NOTICE',
          params: [this.#nick, `${frame.message} [${frame.code}]`],
        });
      case 'status':
        return this.#emit({
          source: this.#server,
          command: 'NOTICE',
          params: [this.#nick, `*** ${frame.message ?? `database ${frame.db}`}`],
        });
      case 'bye': {
        const reason = frame.code === 'TC_ERR_PING_TIMEOUT' ? 'Ping timeout' : frame.reason;
        return this.#emit({ command: 'ERROR', params: [`Closing Link: ${this.#host} (${reason})`] });
      }
      case 'ping':
        return this.#emit({ command: 'PING', params: [this.#server] });
      case 'registered':
        this.#account = frame.nick;
        return;
      case 'edited':
        // IRC has no edit: the new text comes as a new message, marked "(edited)" in front and
        // pointing at the original with +draft/reply for clients that show replies.
        if (frame.by === self) return;
        return this.#emit({
          tags: this.#messageTags(frame.id, frame.edited, { '+draft/reply': String(frame.id) }, false),
          source: this.#mask(frame.by),
          command: 'PRIVMSG',
          params: ['#' + frame.room, `(edited) ${frame.text}`],
        });
      case 'deleted':
        if (this.#caps.has('draft/message-redaction'))
          return this.#emit({
            source: this.#mask(frame.by),
            command: 'REDACT',
            params: ['#' + frame.room, String(frame.id)],
          });
        return this.#emit({
          source: this.#server,
          command: 'NOTICE',
          params: ['#' + frame.room, `${frame.by} deleted message ${frame.id}`],
        });
      case 'reaction': {
        if (frame.nick === self && !this.#caps.has('echo-message')) return;
        const line = this.#reactionLine(frame);
        return line ? this.#emit(line) : undefined;
      }
      case 'marker':
        return this.#announceMarker(frame);
      case 'ack':
      case 'pong':
      case 'users':
      case 'rooms':
      case 'history':
      case 'pm-history':
        return;
      case 'parted':
        // Kicked out (one's own part is an answer).
        if (frame.by !== undefined)
          return this.#emit({
            source: this.#mask(frame.by),
            command: 'KICK',
            params: ['#' + frame.room, this.connection.nick!, frame.reason ?? frame.by],
          });
        return;
    }
  }

  /** A reaction: TAGMSG +draft/react for clients with message-tags, else a NOTICE (added ones only). */
  #reactionLine(frame: Extract<ServerFrame, { type: 'reaction' }>): OutgoingIrcMessage | null {
    if (this.#caps.has('message-tags')) {
      const tags = {
        [frame.added ? '+draft/react' : '+draft/unreact']: frame.emoji,
        '+draft/reply': String(frame.id),
        msgid: this.#gw.nextTagId(),
        ...(this.#caps.has('server-time') ? { time: new Date(frame.ts).toISOString() } : {}),
      };
      return { tags, source: this.#mask(frame.nick), command: 'TAGMSG', params: ['#' + frame.room] };
    }
    if (!frame.added) return null;
    return {
      source: this.#server,
      command: 'NOTICE',
      params: ['#' + frame.room, `${frame.nick} reacted ${frame.emoji} to message ${frame.id}`],
    };
  }

  #takeSent(where: string): Sent | undefined {
    const i = this.#sent.findIndex((s) => s.where === where && !s.echoed);
    if (i === -1) return undefined;
    const s = this.#sent[i];
    s.echoed = true;
    return s;
  }

  #selfRenamed(old: string, now: string): void {
    const oldKey = nickKey(old);
    if (this.#registered) {
      this.#gw.renamed(oldKey, nickKey(now), this);
      this.#listedAs = nickKey(now);
      this.#emit({ source: this.#mask(old, now), command: 'NICK', params: [now] });
    } else {
      // Registration after SASL: the account's nick becomes the one asked for.
      if (this.#wantedNick !== null && nickKey(now) === nickKey(this.#wantedNick)) this.#welcomed();
    }
  }

  #once(key: string): boolean {
    if (this.#seen.includes(key)) return true;
    this.#seen.push(key);
    if (this.#seen.length > 32) this.#seen.shift();
    return false;
  }

  #roomMessage(
    m: RoomMessage,
    extra: Record<string, string | undefined>,
    history: boolean,
    notice = false,
  ): OutgoingIrcMessage {
    return {
      tags: this.#messageTags(m.id, m.ts, extra, history),
      source: this.#mask(m.nick),
      command: notice ? 'NOTICE' : 'PRIVMSG',
      params: ['#' + m.room, m.action ? `\x01ACTION ${m.text}\x01` : m.text],
    };
  }

  #privateMessage(
    m: PrivateMessage,
    extra: Record<string, string | undefined>,
    history: boolean,
    notice = false,
  ): OutgoingIrcMessage {
    return {
      tags: this.#messageTags(m.id, m.ts, extra, history),
      source: this.#mask(m.from),
      command: notice ? 'NOTICE' : 'PRIVMSG',
      params: [m.to, m.action ? `\x01ACTION ${m.text}\x01` : m.text],
    };
  }

  #messageTags(
    id: number,
    ts: number,
    extra: Record<string, string | undefined>,
    history: boolean,
  ): Record<string, string | undefined> {
    const tags: Record<string, string | undefined> = {};
    if (this.#caps.has('server-time') || history) tags['time'] = new Date(ts).toISOString();
    if (this.#caps.has('message-tags')) {
      tags['msgid'] = String(id);
      for (const [k, v] of Object.entries(extra)) tags[k] = v;
    } else {
      if (extra['batch'] !== undefined && this.#caps.has('batch')) tags['batch'] = extra['batch'];
      if (extra['label'] !== undefined) tags['label'] = extra['label'];
    }
    if (!this.#caps.has('server-time') && !this.#caps.has('message-tags') && !this.#caps.has('batch')) return {};
    return tags;
  }

  // ---------- output ----------

  /** `nick!user@host` of anyone: IRC users with their details, teamchat clients as `nick!nick@teamchat`. */
  #mask(nick: string, lookup: string = nick): string {
    const irc = this.#gw.session(nickKey(lookup)) ?? this.#gw.session(nickKey(nick));
    if (irc) return `${nick}!${irc.ident}@${irc.host}`;
    if (nickKey(nick) === this.connection.key || nickKey(lookup) === this.connection.key)
      return `${nick}!${this.ident}@${this.#host}`;
    return `${nick}!${nickKey(nick)}@teamchat`;
  }

  #displayNick(nick: string): string {
    const irc = this.#gw.session(nickKey(nick));
    return irc?.connection.nick ?? nick;
  }

  #online(nick: string): boolean {
    return isValidNick(nick) && this.#core.isOnline(nick);
  }

  #room(target: string): string | null {
    if (!target.startsWith('#')) return null;
    return normalizeRoom(target);
  }

  #numeric(numeric: string, ...params: string[]): void {
    // The trailing parameter is the last; the client's nick comes first.
    this.#respond({ source: this.#server, command: numeric, params: [this.#nick, ...params] });
  }

  #needMore(command: string): void {
    this.#numeric(ERR.NEEDMOREPARAMS, command, 'Not enough parameters');
  }

  #fail(command: string, code: string, description: string, ...context: string[]): void {
    this.#respond({ source: this.#server, command: 'FAIL', params: [command, code, ...context, description] });
  }

  /** A reply to the command being handled: part of its labeled response when it has a label. */
  #respond(message: OutgoingIrcMessage | string): void {
    const line = typeof message === 'string' ? message : this.#format(message);
    if (this.#labeled) this.#labeled.lines.push(line);
    else this.#out(line);
  }

  /** A line that is part of the answer when the command is labeled (own JOIN, PART, MODE ...). */
  #emitEvent(message: OutgoingIrcMessage): void {
    this.#respond(message);
  }

  #emit(message: OutgoingIrcMessage, _ts?: number): void {
    this.#out(this.#format(message));
  }

  #format(message: OutgoingIrcMessage): string {
    const line = formatIrcLine(message);
    const at = line.startsWith('@') ? line.indexOf(' ') + 1 : 0;
    // 512 bytes with CR LF, tags aside.
    return at > 0
      ? line.slice(0, at) + truncateUtf8(line.slice(at), IRC_LINE_BYTES - 2)
      : truncateUtf8(line, IRC_LINE_BYTES - 2);
  }

  #out(line: string): void {
    if (this.#sink) this.#sink.push(line);
    else this.connection.writeText(line + CRLF);
  }

  #write(lines: string[]): void {
    for (const l of lines) this.#out(l);
  }

  /** The connection is gone. */
  closed(): void {
    if (this.#listedAs) this.#gw.remove(this.#listedAs, this);
    if (this.#holdTimer) clearTimeout(this.#holdTimer);
  }
}

/**
 * Room messages rendered for IRC, per shared frame and tag profile (bit 1: server-time, bit 2:
 * message-tags); the entry goes with the frame once every recipient has it.
 */
const SHARED_ROOM_LINES = new WeakMap<EncodedFrame, (Buffer | undefined)[]>();

function compactModes(changes: string[]): string {
  let out = '';
  let sign = '';
  for (const c of changes) {
    if (c[0] !== sign) {
      sign = c[0]!;
      out += sign;
    }
    out += c.slice(1);
  }
  return out;
}

function chunkWords(words: string[], max: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const w of words) {
    if (current !== '' && current.length + 1 + w.length > max) {
      out.push(current);
      current = '';
    }
    current = current === '' ? w : `${current} ${w}`;
  }
  if (current !== '') out.push(current);
  return out;
}

function escapeTag(value: string): string {
  return value.replace(/[\\; \r\n]/g, (c) => ({ '\\': '\\\\', ';': '\\:', ' ': '\\s', '\r': '\\r', '\n': '\\n' })[c]!);
}

/** Adds a tag to a formatted line. */
function withTags(line: string, tag: string): string {
  return line.startsWith('@') ? `@${tag};${line.slice(1)}` : `@${tag} ${line}`;
}
