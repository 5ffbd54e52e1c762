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
import { formatIrcLine, IRC_CLIENT_TAG_BYTES, IRC_LINE_BYTES, parseIrcLine, truncateUtf8, type IrcMessage, type OutgoingIrcMessage } from './irc-message.js';
import type { IrcGateway } from './irc-gateway.js';
import { capabilities, isupportTokens } from './isupport.js';

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
    | 'mode-init'
    | 'invite'
    | 'nick'
    | 'register'
    | 'history'
    | 'pm-history'
    | 'kick-part';
  /** The channel or nick as the client typed it. */
  target: string;
  /** Whether the connection waits for this answer. */
  holds: boolean;
  reason?: string;
  /** Mode changes asked for, as the client wrote them (echoed back). */
  modes?: string[];
  /** LIST: only these rooms. */
  only?: Set<string>;
  notice?: string;
  batchType?: string;
  label?: string;
  /** Lines collected so far for a multi-page answer. */
  lines?: string[];
}

/** A message this client sent, waiting for its echo and acknowledgement. */
interface Sent {
  where: string;
  ref: string;
  label?: string;
  tags?: Map<string, string>;
  notice?: string;
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
  /** Room modes last seen, to tell changes as +k/-i. */
  readonly #modes = new Map<string, { key: boolean; inviteOnly: boolean }>();
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
      if (tagBytes > IRC_CLIENT_TAG_BYTES) return this.#failing(() => this.#numeric(ERR.INPUTTOOLONG, 'Input line was too long'));
      body = space === -1 ? EMPTY : bytes.subarray(space + 1);
    }
    if (body.length > IRC_LINE_BYTES - 2) return this.#failing(() => this.#numeric(ERR.INPUTTOOLONG, 'Input line was too long'));
    if (!isUtf8(bytes)) {
      const command = parseIrcLine(bytes.toString('latin1')).command || '*';
      const label = parseIrcLine(bytes.toString('latin1')).tags.get('label');
      return this.#failing(() =>
        this.#emit({ ...(label && this.#caps.has('labeled-response') ? { tags: { label } } : {}), source: this.#server, command: 'FAIL', params: [command, 'INVALID_UTF8', 'Message rejected, your message must be UTF-8'] }),
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
      case 'INVITE':
      case 'KICK':
        return 1;
      default:
        return QUERY_COST;
    }
  }

  #run(m: IrcMessage): void {
    const label = this.#caps.has('labeled-response') ? m.tags.get('label') : undefined;
    if (label !== undefined && m.command !== 'PING' && m.command !== 'PONG') this.#labeled = { label, lines: [] };
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
        return this.#pong(p[0]!, m.tags.get('label'));
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
        this.#user = { ident: (p[0]!.replace(/[^A-Za-z0-9._~-]/g, '') || 'user').slice(0, 16), realname: p[3]! };
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
        return this.#numeric(RPL.VERSION, `teamchat-${this.#gw.options.version}.`, this.#server, 'IRC gateway of teamchat');
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
        return; // client-only tags without text: teamchat messages always have text
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
        return this.#numeric(RPL.ISON, p.join(' ').split(/\s+/).filter((n) => n && this.#online(n)).join(' '));
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
        const ok = asked.length > 0 && asked.every((c) => caps.has(c.replace(/^-/, '')) && !(c === '-cap-notify' && this.#capVersion >= 302));
        this.#emit({ source: this.#server, command: 'CAP', params: [this.#nick, ok ? 'ACK' : 'NAK', p[1] ?? ''] });
        if (ok) for (const c of asked) c.startsWith('-') ? this.#caps.delete(c.slice(1)) : this.#caps.add(c);
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
      this.#emit({ source: this.#server, command: 'CAP', params: [this.#nick, sub, ...(more ? ['*'] : []), line.join(' ')] });
    });
  }

  #nickCommand(p: string[]): void {
    const wanted = p[0];
    if (wanted === undefined || wanted === '') return this.#numeric(ERR.NONICKNAMEGIVEN, 'No nickname given');
    if (!isValidNick(wanted)) return this.#numeric(ERR.ERRONEUSNICKNAME, wanted, 'Erroneous nickname (letters, digits, _ and -, starting with a letter, at most 24)');
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
    this.#core.login(this.connection, { nick: loginNick, restore: false, ...(password !== undefined ? { password } : {}) }, (error) => {
      this.#release('login');
      if (error) {
        const numeric = numericForError(error.code, 'nick') ?? ERR.NICKNAMEINUSE;
        if (error.code === 'TC_ERR_AUTH_REQUIRED') return this.#numeric(ERR.NICKNAMEINUSE, loginNick, `${loginNick} is a registered account: log in with SASL or PASS ${loginNick}:<password>`);
        if (numeric === ERR.PASSWDMISMATCH) return this.#numeric(ERR.PASSWDMISMATCH, error.message);
        return this.#numeric(numeric, loginNick, error.message);
      }
      if (password !== undefined && this.#lastWelcomeAccount) this.#account = this.connection.nick;
      if (this.connection.nick !== nick) this.#tryRegister();
      else this.#welcomed();
    });
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
    this.#numeric(RPL.MYINFO, this.#server, `teamchat-${o.version}`, 'iow', 'ik', 'k');
    const tokens = isupportTokens({ network: o.network ?? 'teamchat', ...(o.maxRooms !== undefined ? { maxRooms: o.maxRooms } : {}) });
    for (let i = 0; i < tokens.length; i += 12) this.#numeric(RPL.ISUPPORT, ...tokens.slice(i, i + 12), 'are supported by this server');
    this.#lusers();
    this.#motd();
    if (this.#account) this.#emit({ source: this.#server, command: 'NOTICE', params: [nick, `You are logged in to the account ${this.#account}`] });
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
    if (!this.#caps.has('sasl')) return this.#numeric(ERR.SASLFAIL, 'SASL authentication failed: request the sasl capability first');
    if (this.#registered || this.#account !== null) return this.#numeric(ERR.SASLALREADY, 'You have already authenticated');
    if (arg === '*') {
      this.#sasl = null;
      return this.#numeric(ERR.SASLABORTED, 'SASL authentication aborted');
    }
    if (this.#sasl === null) {
      if (arg.toUpperCase() !== 'PLAIN') return this.#numeric(RPL.SASLMECHS, 'PLAIN', 'are available SASL mechanisms');
      this.#sasl = { buffer: '' };
      return this.#emit({ command: 'AUTHENTICATE', params: ['+'] });
    }
    if (arg !== '+') this.#sasl.buffer += arg;
    if (this.#sasl.buffer.length > SASL_MAX_BYTES) {
      this.#sasl = null;
      return this.#numeric(ERR.SASLTOOLONG, 'SASL message too long');
    }
    if (arg.length === 400) return; // more chunks follow
    const [, authcid, password] = Buffer.from(this.#sasl.buffer, 'base64').toString('utf8').split('\0');
    this.#sasl = null;
    if (authcid === undefined || password === undefined || !isValidNick(authcid)) return this.#numeric(ERR.SASLFAIL, 'SASL authentication failed');
    if (this.connection.nick !== null) return this.#numeric(ERR.SASLALREADY, 'You have already authenticated');
    this.#hold('sasl');
    this.#core.login(this.connection, { nick: authcid, password, restore: false }, (error) => {
      this.#release('sasl');
      if (error || !this.#lastWelcomeAccount) {
        // Not an account: the core logged the nick in as a guest; registration goes on as one.
        return this.#numeric(ERR.SASLFAIL, 'SASL authentication failed');
      }
      this.#account = this.connection.nick!;
      this.#numeric(RPL.LOGGEDIN, `${this.connection.nick ?? "*"}!${this.ident}@${this.#host}`, this.#account, `You are now logged in as ${this.#account}`);
      this.#numeric(RPL.SASLSUCCESS, 'SASL authentication successful');
    });
  }

  /** draft/account-registration: `REGISTER <account> <email> <password>`. */
  #registerAccount(p: string[]): void {
    if (p.length < 3) return this.#fail('REGISTER', 'NEED_MORE_PARAMS', 'Not enough parameters');
    const account = p[0] === '*' ? (this.connection.nick ?? this.#wantedNick) : p[0]!;
    const password = p[2]!;
    if (account === null || !isValidNick(account)) return this.#fail('REGISTER', 'BAD_ACCOUNT_NAME', 'Choose a nick first', account ?? '*');
    if (this.connection.nick !== null) {
      if (nickKey(account) !== this.connection.key) return this.#fail('REGISTER', 'ACCOUNT_NAME_MUST_BE_NICK', 'You can only register your current nick', account);
      return void this.#request({ type: 'register', password }, { kind: 'register', target: account, holds: true });
    }
    this.#hold('register');
    this.#core.login(this.connection, { nick: account, password, register: true, restore: false }, (error) => {
      this.#release('register');
      if (error) {
        if (error.code === 'TC_ERR_AUTH_REQUIRED' || error.code === 'TC_ERR_BAD_PASSWORD' || error.code === 'TC_ERR_NICK_IN_USE') return this.#fail('REGISTER', 'ACCOUNT_EXISTS', 'Account already exists', account);
        if (error.code === 'TC_ERR_WEAK_PASSWORD') return this.#fail('REGISTER', 'WEAK_PASSWORD', error.message, account);
        return this.#fail('REGISTER', 'UNACCEPTABLE_PASSWORD', error.message, account);
      }
      this.#account = this.connection.nick!;
      this.#emit({ source: this.#server, command: 'REGISTER', params: ['SUCCESS', this.#account, 'Account created'] });
      this.#numeric(RPL.LOGGEDIN, `${this.connection.nick ?? "*"}!${this.ident}@${this.#host}`, this.#account, `You are now logged in as ${this.#account}`);
    });
  }

  // ---------- chat ----------

  #join(p: string[]): void {
    if (p.length === 0 || p[0] === '') return this.#needMore('JOIN');
    if (p[0] === '0') {
      for (const room of [...this.connection.rooms]) this.#step(() => this.#request({ type: 'part', room: room.name }, { kind: 'part', target: '#' + room.name, holds: true }));
      return this.#nextStep();
    }
    const keys = (p[1] ?? '').split(',');
    p[0]!.split(',').forEach((target, i) => {
      const key = keys[i];
      this.#step(() => {
        const room = this.#room(target);
        if (!room) return this.#numeric(ERR.NOSUCHCHANNEL, target, 'No such channel (a room name is # and 1-32 of a-z 0-9 _ . -)');
        this.#request({ type: 'join', room, ...(key ? { key } : {}) }, { kind: 'join', target, holds: true });
      });
    });
    this.#nextStep();
  }

  #part(p: string[]): void {
    if (p.length === 0 || p[0] === '') return this.#needMore('PART');
    const reason = p[1];
    for (const target of p[0]!.split(',')) {
      this.#step(() => {
        const room = this.#room(target);
        if (!room) return this.#numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
        this.#request({ type: 'part', room }, { kind: 'part', target, holds: true, ...(reason ? { reason } : {}) });
      });
    }
    this.#nextStep();
  }

  #privmsg(m: IrcMessage): void {
    const notice = m.command === 'NOTICE';
    const [targets, text] = m.params;
    if (targets === undefined || targets === '') return notice ? undefined : this.#numeric(ERR.NORECIPIENT, `No recipient given (${m.command})`);
    if (text === undefined || text === '') return notice ? undefined : this.#numeric(ERR.NOTEXTTOSEND, 'No text to send');
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
      const frame: ClientFrame = room ? { type: 'msg', room, text: body, ...(action ? { action } : {}) } : { type: 'pm', to: target, text: body, ...(action ? { action } : {}) };
      const where = room ? '#' + room : nickKey(target);
      const mark = notice ? this.#gw.markNotice(where, this.connection.nick!, body) : undefined;
      const label = this.#labeled?.label;
      // Messages do not hold the connection (their delivery waits for the database's commit);
      // a labeled one does, so its echo or ACK is the answer to its label.
      const ref = this.#request(frame, { kind: notice ? 'notice' : 'privmsg', target, holds: label !== undefined, ...(mark ? { notice: mark } : {}) });
      this.#sent.push({ where, ref, ...(label !== undefined ? { label } : {}), ...(tags.size > 0 ? { tags } : {}), ...(mark ? { notice: mark } : {}), echoed: false });
    }
  }

  #topic(p: string[]): void {
    const target = p[0];
    if (target === undefined) return this.#needMore('TOPIC');
    const room = this.#room(target);
    if (!room) return this.#numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
    if (p.length < 2) return void this.#request({ type: 'topic', room }, { kind: 'topic', target, holds: true });
    this.#request({ type: 'topic', room, topic: p[1]! }, { kind: 'topic-set', target, holds: true });
  }

  #names(p: string[]): void {
    const target = p[0];
    if (!target) return this.#numeric(RPL.ENDOFNAMES, '*', 'End of /NAMES list');
    const room = this.#room(target.split(',')[0]!);
    if (!room) return this.#numeric(RPL.ENDOFNAMES, target, 'End of /NAMES list');
    this.#request({ type: 'users', room }, { kind: 'names', target: '#' + room, holds: true, lines: [] });
  }

  #who(p: string[]): void {
    const mask = p[0] ?? '*';
    const room = mask.startsWith('#') ? this.#room(mask) : null;
    if (room) return void this.#request({ type: 'users', room }, { kind: 'who', target: mask, holds: true, lines: [] });
    if (!mask.startsWith('#') && isValidNick(mask) && this.#online(mask)) this.#whoReply('*', this.#displayNick(mask));
    this.#numeric(RPL.ENDOFWHO, mask, 'End of WHO list');
  }

  #whoReply(channel: string, nick: string, room?: string): void {
    const irc = this.#gw.session(nickKey(nick));
    const flags = (irc?.away ? 'G' : 'H') + (irc?.isOper ? '*' : '') + (room && this.#gw.isOperator(room, nickKey(nick)) ? '@' : '');
    this.#numeric(RPL.WHOREPLY, channel, irc?.ident ?? nickKey(nick), irc?.host ?? 'teamchat', this.#server, nick, flags, `0 ${irc?.realname ?? 'teamchat user'}`);
  }

  #whois(p: string[]): void {
    const target = p.length > 1 ? p[1]! : p[0];
    if (!target) return this.#numeric(ERR.NONICKNAMEGIVEN, 'No nickname given');
    const nick = target.split(',')[0]!;
    if (!isValidNick(nick) || !this.#online(nick)) {
      this.#numeric(ERR.NOSUCHNICK, nick, 'No such nick/channel');
      return this.#numeric(RPL.ENDOFWHOIS, nick, 'End of /WHOIS list');
    }
    const irc = this.#gw.session(nickKey(nick));
    const shown = this.#displayNick(nick);
    if (irc) {
      this.#numeric(RPL.WHOISUSER, shown, irc.ident, irc.host, '*', irc.realname);
      const rooms = [...irc.connection.rooms].map((r) => (this.#gw.isOperator(r.name, nickKey(shown)) ? '@#' : '#') + r.name);
      if (rooms.length > 0) this.#numeric(RPL.WHOISCHANNELS, shown, rooms.join(' '));
      this.#numeric(RPL.WHOISSERVER, shown, this.#server, 'teamchat IRC gateway');
      if (irc.isOper) this.#numeric(RPL.WHOISOPERATOR, shown, 'is an IRC operator');
      if (irc.account) this.#numeric(RPL.WHOISACCOUNT, shown, irc.account, 'is logged in as');
      if (irc.away) this.#numeric(RPL.AWAY, shown, irc.away);
      if (irc === this) this.#numeric(RPL.WHOISACTUALLY, shown, irc.host, 'Actual user@host, Actual IP');
    } else {
      // A teamchat client (NDJSON, WebSocket or plain text): the core does not share more about it.
      this.#numeric(RPL.WHOISUSER, shown, nickKey(shown), 'teamchat', '*', 'teamchat user');
      this.#numeric(RPL.WHOISSERVER, shown, this.#server, 'teamchat');
    }
    this.#numeric(RPL.ENDOFWHOIS, shown, 'End of /WHOIS list');
  }

  #list(p: string[]): void {
    const only = p[0] ? new Set(p[0].split(',').map((t) => this.#room(t)).filter((r): r is string => r !== null)) : undefined;
    this.#numeric(RPL.LISTSTART, 'Channel', 'Users  Name');
    this.#request({ type: 'rooms' }, { kind: 'list', target: '*', holds: true, ...(only ? { only } : {}) });
  }

  #mode(p: string[]): void {
    const target = p[0];
    if (target === undefined) return this.#needMore('MODE');
    if (!target.startsWith('#')) return this.#userMode(target, p.slice(1));
    const room = this.#room(target);
    if (!room) return this.#numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
    if (p.length < 2) return void this.#request({ type: 'mode', room }, { kind: 'mode', target, holds: true });
    const modes = p[1]!;
    const args = p.slice(2);
    let sign = '+';
    let key: string | null | undefined;
    let inviteOnly: boolean | undefined;
    const applied: string[] = [];
    const appliedArgs: string[] = [];
    for (const c of modes) {
      if (c === '+' || c === '-') {
        sign = c;
        continue;
      }
      switch (c) {
        case 'b':
        case 'e':
        case 'I': {
          // Lists teamchat does not have: shown empty; setting one is not possible.
          if (sign === '+' && args.length > 0 && !/^[+-]?[beI]+$/.test(modes)) continue;
          const end = c === 'b' ? RPL.ENDOFBANLIST : c === 'e' ? RPL.ENDOFEXCEPTLIST : RPL.ENDOFINVITELIST;
          const what = c === 'b' ? 'ban' : c === 'e' ? 'exception' : 'invite exception';
          if (args.length > 0) this.#numeric(ERR.CHANOPRIVSNEEDED, target, `teamchat rooms have no ${what} list`);
          else this.#numeric(end, target, `End of channel ${what} list`);
          continue;
        }
        case 'k':
          if (sign === '+') {
            const k = args.shift();
            if (!k) {
              this.#numeric(ERR.NEEDMOREPARAMS, 'MODE', 'Not enough parameters');
              continue;
            }
            key = k;
            applied.push('+k');
            appliedArgs.push(k);
          } else {
            args.shift();
            key = null;
            applied.push('-k');
            appliedArgs.push('*');
          }
          continue;
        case 'i':
          inviteOnly = sign === '+';
          applied.push(sign + 'i');
          continue;
        default:
          this.#numeric(ERR.UNKNOWNMODE, c, 'is not a mode teamchat rooms have (+k, +i)');
      }
    }
    if (key === undefined && inviteOnly === undefined) return;
    this.#request({ type: 'mode', room, ...(key !== undefined ? { key } : {}), ...(inviteOnly !== undefined ? { inviteOnly } : {}) }, { kind: 'mode-set', target, holds: true, modes: [compactModes(applied), ...appliedArgs.filter((a) => a !== '*' || applied.includes('-k'))] });
  }

  #userMode(target: string, p: string[]): void {
    if (nickKey(target) !== this.connection.key) {
      return this.#online(target) ? this.#numeric(ERR.USERSDONTMATCH, "Can't change mode for other users") : this.#numeric(ERR.NOSUCHNICK, target, 'No such nick/channel');
    }
    const nick = this.connection.nick!;
    if (p.length === 0) return this.#numeric(RPL.UMODEIS, '+' + [...this.#userModes, ...(this.#oper ? ['o'] : [])].join(''));
    let sign = '+';
    const changed: string[] = [];
    for (const c of p[0]!) {
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
    if (changed.length > 0) this.#emit({ source: this.#mask(nick), command: 'MODE', params: [nick, compactModes(changed)] });
  }

  #invite(p: string[]): void {
    if (p.length < 2) return this.#needMore('INVITE');
    const [nick, target] = p as [string, string];
    const room = this.#room(target);
    if (!room) return this.#numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
    if (!isValidNick(nick) || !this.#online(nick)) return this.#numeric(ERR.NOSUCHNICK, nick, 'No such nick/channel');
    const invitee = this.#gw.connection(nickKey(nick));
    if (invitee && [...invitee.rooms].some((r) => r.name === room)) return this.#numeric(ERR.USERONCHANNEL, nick, target, 'is already on channel');
    this.#request({ type: 'invite', nick, room }, { kind: 'invite', target, holds: true });
  }

  /**
   * KICK: the core has no kick, so the gateway asks the kicked IRC session's connection to part,
   * and IRC clients see that part as the kick. Only the room's operator (see IrcGateway) may kick,
   * and only IRC users can be kicked.
   */
  #kick(p: string[]): void {
    if (p.length < 2) return this.#needMore('KICK');
    const [target, who] = p as [string, string];
    const room = this.#room(target);
    if (!room) return this.#numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
    if (![...this.connection.rooms].some((r) => r.name === room)) return this.#numeric(ERR.NOTONCHANNEL, target, "You're not on that channel");
    const nick = who.split(',')[0]!;
    const victim = isValidNick(nick) ? this.#gw.session(nickKey(nick)) : undefined;
    if (!this.#gw.isOperator(room, this.connection.key!)) return this.#numeric(ERR.CHANOPRIVSNEEDED, target, "You're not channel operator");
    if (!victim || ![...victim.connection.rooms].some((r) => r.name === room)) {
      if (this.#online(nick) && !victim) return this.#numeric(ERR.CHANOPRIVSNEEDED, target, 'Only IRC users can be kicked');
      return this.#numeric(ERR.USERNOTINCHANNEL, nick, target, "They aren't on that channel");
    }
    const reason = (p[2] ?? this.connection.nick!).slice(0, REASON_MAX_LENGTH);
    victim.kicked(room, this.connection.nick!, reason);
  }

  /** This session is kicked out of `room`: it parts, and IRC clients see a KICK. */
  kicked(room: string, by: string, reason: string): void {
    this.#gw.markKick(room, this.connection.key!, by, reason);
    const ref = `irc${this.connection.id}.${this.#nextRef++}`;
    this.#pending.set(ref, { kind: 'kick-part', target: '#' + room, holds: false, reason: `${by}\0${reason}` });
    this.connection.dispatch({ type: 'part', room, ref });
    const key = this.connection.key!;
    this.#gw.options.inOrder(() => this.#gw.unmarkKick(room, key));
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
        irc.tell(formatIrcLine({ source: this.#mask(this.connection.nick!), command: 'AWAY', params: away ? [away] : [] }));
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

  /** draft/chathistory: LATEST, BEFORE, AFTER, BETWEEN, AROUND with `msgid=` references (message ids). */
  #chathistory(p: string[]): void {
    const [sub, target] = [(p[0] ?? '').toUpperCase(), p[1]];
    if (sub === 'TARGETS') return this.#fail('CHATHISTORY', 'INVALID_PARAMS', 'TARGETS is not supported', sub);
    if (!target || p.length < 4) return this.#fail('CHATHISTORY', 'NEED_MORE_PARAMS', 'Not enough parameters', sub || '*');
    const ref = (s: string | undefined): number | '*' | null => {
      if (s === '*') return '*';
      const m = /^msgid=(\d+)$/.exec(s ?? '');
      return m ? Number(m[1]) : null;
    };
    const limitArg = Number(p[p.length - 1]);
    if (!Number.isInteger(limitArg) || limitArg < 0) return this.#fail('CHATHISTORY', 'INVALID_PARAMS', 'Bad limit', sub, target);
    const limit = Math.min(limitArg || HISTORY_MAX, HISTORY_MAX);
    let before: number | undefined;
    let after: number | undefined;
    const a = ref(p[2]);
    const b = ref(p[3]);
    switch (sub) {
      case 'LATEST':
        if (a === null) return this.#fail('CHATHISTORY', 'INVALID_PARAMS', 'Only msgid= references are supported', sub, target);
        if (a !== '*') after = a;
        break;
      case 'BEFORE':
        if (typeof a !== 'number') return this.#fail('CHATHISTORY', 'INVALID_PARAMS', 'Only msgid= references are supported', sub, target);
        before = a;
        break;
      case 'AFTER':
        if (typeof a !== 'number') return this.#fail('CHATHISTORY', 'INVALID_PARAMS', 'Only msgid= references are supported', sub, target);
        after = a;
        break;
      case 'BETWEEN':
        if (typeof a !== 'number' || typeof b !== 'number' || p.length < 5) return this.#fail('CHATHISTORY', 'INVALID_PARAMS', 'Only msgid= references are supported', sub, target);
        [after, before] = a < b ? [a, b] : [b, a];
        break;
      case 'AROUND':
        if (typeof a !== 'number') return this.#fail('CHATHISTORY', 'INVALID_PARAMS', 'Only msgid= references are supported', sub, target);
        before = a + Math.ceil(limit / 2) * 1_000_000; // ids are sparse: an approximation, bounded below
        after = Math.max(0, a - 1);
        break;
      default:
        return this.#fail('CHATHISTORY', 'INVALID_PARAMS', 'Unknown subcommand', sub);
    }
    const reverse = sub === 'BETWEEN' && typeof a === 'number' && typeof b === 'number' && a > b;
    if (target.startsWith('#')) {
      const room = this.#room(target);
      if (!room) return this.#fail('CHATHISTORY', 'INVALID_TARGET', 'No such channel', sub, target);
      const frame: ClientFrame = { type: 'history', room, limit, ...(before !== undefined ? { before } : {}), ...(after !== undefined && sub !== 'LATEST' ? { after } : {}) };
      this.#request(frame, { kind: 'history', target, holds: true, reason: `${sub}${reverse ? ' reverse' : ''}${sub === 'LATEST' && after !== undefined ? ` after=${after}` : ''}` });
    } else {
      if (!isValidNick(target)) return this.#fail('CHATHISTORY', 'INVALID_TARGET', 'No such nick', sub, target);
      const frame: ClientFrame = { type: 'pm-history', with: target, limit, ...(before !== undefined ? { before } : {}), ...(after !== undefined && sub !== 'LATEST' ? { after } : {}) };
      this.#request(frame, { kind: 'pm-history', target, holds: true, reason: `${sub}${reverse ? ' reverse' : ''}${sub === 'LATEST' && after !== undefined ? ` after=${after}` : ''}` });
    }
  }

  #pong(token: string, label: string | undefined): void {
    const line = formatIrcLine({ ...(label !== undefined && this.#caps.has('labeled-response') ? { tags: { label } } : {}), source: this.#server, command: 'PONG', params: [this.#server, token] });
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
    this.#core.handle(this.connection, { ...frame, ref } as ClientFrame);
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
    else if (lines.length === 1) out = [withTags(lines[0]!, `label=${escapeTag(label)}`)];
    else {
      const id = this.#newBatchId();
      out = [formatIrcLine({ tags: { label }, source: this.#server, command: 'BATCH', params: ['+' + id, 'labeled-response'] }), ...lines.map((l) => withTags(l, `batch=${id}`)), formatIrcLine({ source: this.#server, command: 'BATCH', params: ['-' + id] })];
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
    const label = pending.label;
    if (frame.type === 'error') return this.#error(frame.code, frame.message, pending, ref);
    switch (frame.type) {
      case 'joined': {
        this.#joinedRoom(frame);
        return;
      }
      case 'parted': {
        if (pending.kind === 'kick-part') {
          const [by, reason] = (pending.reason ?? '').split('\0');
          return this.#emitEvent({ source: this.#mask(by!), command: 'KICK', params: ['#' + frame.room, this.connection.nick!, reason ?? ''] });
        }
        return this.#emitEvent({ source: this.#mask(this.connection.nick!), command: 'PART', params: ['#' + frame.room, ...(pending.reason ? [pending.reason] : [])] });
      }
      case 'topic':
        if (pending.kind === 'topic-set' || frame.by !== undefined) return this.#respond({ source: frame.by ? this.#mask(frame.by) : this.#server, command: 'TOPIC', params: ['#' + frame.room, frame.topic ?? ''] });
        if (frame.topic === null) return this.#numeric(RPL.NOTOPIC, '#' + frame.room, 'No topic is set');
        return this.#numeric(RPL.TOPIC, '#' + frame.room, frame.topic);
      case 'users': {
        const room = frame.room;
        if (pending.kind === 'names') {
          const names = frame.users.map((n) => this.#nameEntry(room, n));
          for (const chunk of chunkWords(names, 400)) pending.lines!.push(chunk);
        } else {
          for (const nick of frame.users) this.#whoReply('#' + room, nick, room);
        }
        if (frame.more && frame.users.length > 0) {
          const next = `irc${this.connection.id}.${this.#nextRef++}`;
          this.#pending.set(next, pending);
          this.#hold(next);
          queueMicrotask(() => this.connection.dispatch({ type: 'users', room, after: frame.users[frame.users.length - 1]!, ref: next }));
          return;
        }
        if (pending.kind === 'names') {
          for (const chunk of pending.lines!) this.#numeric(RPL.NAMREPLY, '=', '#' + room, chunk);
          return this.#numeric(RPL.ENDOFNAMES, '#' + room, 'End of /NAMES list');
        }
        return this.#numeric(RPL.ENDOFWHO, pending.target, 'End of WHO list');
      }
      case 'rooms': {
        for (const r of frame.rooms) {
          if (pending.only && !pending.only.has(r.name)) continue;
          this.#numeric(RPL.LIST, '#' + r.name, String(r.members), r.topic ?? '');
        }
        if (frame.more && frame.rooms.length > 0) {
          const next = `irc${this.connection.id}.${this.#nextRef++}`;
          this.#pending.set(next, pending);
          this.#hold(next);
          queueMicrotask(() => this.connection.dispatch({ type: 'rooms', after: frame.rooms[frame.rooms.length - 1]!.name, ref: next }));
          return;
        }
        return this.#numeric(RPL.LISTEND, 'End of /LIST');
      }
      case 'mode': {
        this.#gw.noteCreator(frame.room, frame.creator);
        if (pending.kind === 'mode-init') {
          this.#modes.set(frame.room, { key: frame.key, inviteOnly: frame.inviteOnly });
          return;
        }
        if (pending.kind === 'mode') {
          this.#modes.set(frame.room, { key: frame.key, inviteOnly: frame.inviteOnly });
          const flags = (frame.inviteOnly ? 'i' : '') + (frame.key ? 'k' : '');
          const member = [...this.connection.rooms].some((r) => r.name === frame.room);
          return this.#numeric(RPL.CHANNELMODEIS, '#' + frame.room, '+' + flags, ...(frame.key ? [member ? '*' : '*'] : []));
        }
        // mode-set: the change asked for, as asked.
        this.#modes.set(frame.room, { key: frame.key, inviteOnly: frame.inviteOnly });
        return this.#emitEvent({ source: this.#mask(this.connection.nick!), command: 'MODE', params: ['#' + frame.room, ...(pending.modes ?? [])] });
      }
      case 'invite':
        return this.#numeric(RPL.INVITING, frame.nick, '#' + frame.room);
      case 'nick':
        if (frame.room !== undefined) return;
        return this.#selfRenamed(frame.old, frame.new);
      case 'registered':
        this.#account = frame.nick;
        this.#emit({ source: this.#server, command: 'REGISTER', params: ['SUCCESS', frame.nick, 'Account created'] });
        return this.#numeric(RPL.LOGGEDIN, `${this.connection.nick ?? "*"}!${this.ident}@${this.#host}`, frame.nick, `You are now logged in as ${frame.nick}`);
      case 'history':
        return this.#historyBatch('#' + frame.room, frame.messages, pending, label);
      case 'pm-history':
        return this.#historyBatch(pending.target, frame.messages, pending, label);
      case 'ack': {
        // A message whose echo was not asked for: a labeled one is acknowledged with ACK.
        const sent = this.#sent.findIndex((s) => s.ref === ref);
        if (sent !== -1) {
          const s = this.#sent[sent]!;
          this.#sent.splice(sent, 1);
          if (s.notice) this.#gw.unmarkNotice(s.notice);
        }
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
    if (pending.kind === 'mode-init' || pending.kind === 'kick-part') return;
    if (pending.kind === 'history' || pending.kind === 'pm-history') return this.#fail('CHATHISTORY', code === 'TC_ERR_NOT_IN_ROOM' ? 'INVALID_TARGET' : 'MESSAGE_ERROR', message, pending.reason?.split(' ')[0] ?? '*', pending.target);
    if (pending.kind === 'names') return this.#numeric(RPL.ENDOFNAMES, pending.target, 'End of /NAMES list');
    if (pending.kind === 'who') return this.#numeric(RPL.ENDOFWHO, pending.target, 'End of WHO list');
    if (pending.kind === 'register') return this.#fail('REGISTER', code === 'TC_ERR_WEAK_PASSWORD' ? 'WEAK_PASSWORD' : 'UNACCEPTABLE_PASSWORD', message, pending.target);
    if (pending.kind === 'notice') return; // never answered with an error (RFC 2812)
    const numeric = numericForError(code, context);
    if (numeric === null) return this.#emit({ source: this.#server, command: 'NOTICE', params: [this.#nick, `${message} [${code}]`] });
    switch (numeric) {
      case ERR.NOSUCHNICK:
      case ERR.NOSUCHCHANNEL:
      case ERR.CANNOTSENDTOCHAN:
      case ERR.NOTONCHANNEL:
      case ERR.BADCHANNELKEY:
      case ERR.INVITEONLYCHAN:
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
    if (frame.users.length === 1 && nickKey(frame.users[0]!) === this.connection.key) this.#gw.noteFirstIn(room, this.connection.key!);
    this.#emitEvent({ source: this.#mask(self), command: 'JOIN', params: [channel] });
    if (frame.topic !== null) this.#numeric(RPL.TOPIC, channel, frame.topic);
    const names = frame.users.map((n) => this.#nameEntry(room, n));
    for (const chunk of chunkWords(names, 400)) this.#numeric(RPL.NAMREPLY, '=', channel, chunk);
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
    // Learn the room's modes (creator, +k, +i) for NAMES prefixes and MODE changes; not shown.
    const ref = `irc${this.connection.id}.${this.#nextRef++}`;
    this.#pending.set(ref, { kind: 'mode-init', target: channel, holds: false });
    queueMicrotask(() => this.connection.dispatch({ type: 'mode', room, ref }));
  }

  #nameEntry(room: string, nick: string): string {
    const op = this.#gw.isOperator(room, nickKey(nick)) ? '@' : '';
    if (!this.#caps.has('userhost-in-names')) return op + nick;
    return op + this.#mask(nick);
  }

  #historyBatch(target: string, messages: (RoomMessage | PrivateMessage)[], pending: Pending, _label: string | undefined): void {
    const [, mode, after] = /^(\S+)(?: (reverse))?(?: after=(\d+))?$/.exec(pending.reason ?? 'LATEST') ?? [];
    let list = messages;
    if (after !== undefined) list = list.filter((m) => m.id > Number(after));
    if (mode === 'reverse') list = [...list].reverse();
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
        if (sent?.tags) for (const [k, v] of sent.tags) tags[k] = v;
        const line = this.#roomMessage(frame, tags, false, sent?.notice !== undefined || this.#gw.isNotice('#' + frame.room, frame.nick, frame.text));
        return own && sent?.label !== undefined && this.#labeled?.label === sent.label ? this.#respond(line) : this.#emit(line);
      }
      case 'pm': {
        const own = frame.from === self && nickKey(frame.to) !== this.connection.key;
        const sent = own ? this.#takeSent(nickKey(frame.to)) : undefined;
        if (own && !this.#caps.has('echo-message')) return;
        const tags: Record<string, string | undefined> = {};
        if (sent?.tags) for (const [k, v] of sent.tags) tags[k] = v;
        const line = this.#privateMessage(frame, tags, false, sent?.notice !== undefined || this.#gw.isNotice(nickKey(frame.to), frame.from, frame.text));
        return own && sent?.label !== undefined && this.#labeled?.label === sent.label ? this.#respond(line) : this.#emit(line);
      }
      case 'presence': {
        const channel = '#' + frame.room;
        if (frame.event === 'join') return this.#emit({ source: this.#mask(frame.nick), command: 'JOIN', params: [channel] });
        if (frame.event === 'part') {
          const kick = this.#gw.kick(frame.room, nickKey(frame.nick));
          if (kick) return this.#emit({ source: this.#mask(kick.by), command: 'KICK', params: [channel, frame.nick, kick.reason] });
          return this.#emit({ source: this.#mask(frame.nick), command: 'PART', params: [channel, ...(frame.reason ? [frame.reason] : [])] });
        }
        if (this.#once(`quit\0${frame.nick}\0${frame.ts}`)) return;
        const reason = frame.event === 'quit' ? `Quit: ${frame.reason ?? ''}`.replace(/: $/, '') : frame.reason ? `Connection closed: ${frame.reason}` : 'Connection closed';
        return this.#emit({ source: this.#mask(frame.nick), command: 'QUIT', params: [reason] });
      }
      case 'nick':
        if (frame.room === undefined) return this.#selfRenamed(frame.old, frame.new);
        if (nickKey(frame.new) === this.connection.key || this.#once(`nick\0${frame.old}\0${frame.new}\0${frame.ts}`)) return;
        return this.#emit({ source: this.#mask(frame.old, frame.new), command: 'NICK', params: [frame.new] });
      case 'topic':
        return this.#emit({ source: frame.by ? this.#mask(frame.by) : this.#server, command: 'TOPIC', params: ['#' + frame.room, frame.topic ?? ''] }, frame.ts);
      case 'mode': {
        this.#gw.noteCreator(frame.room, frame.creator);
        const before = this.#modes.get(frame.room) ?? { key: false, inviteOnly: false };
        this.#modes.set(frame.room, { key: frame.key, inviteOnly: frame.inviteOnly });
        if (!frame.by) return;
        const changes: string[] = [];
        const args: string[] = [];
        if (frame.inviteOnly !== before.inviteOnly) changes.push(frame.inviteOnly ? '+i' : '-i');
        if (frame.key !== before.key) {
          changes.push(frame.key ? '+k' : '-k');
          args.push('*');
        }
        if (changes.length === 0) return;
        return this.#emit({ source: this.#mask(frame.by), command: 'MODE', params: ['#' + frame.room, compactModes(changes), ...args] });
      }
      case 'invite':
        if (nickKey(frame.nick) !== this.connection.key) return;
        return this.#emit({ source: this.#mask(frame.by), command: 'INVITE', params: [frame.nick, '#' + frame.room] });
      case 'error':
        if (!this.#registered && frame.code === 'TC_ERR_NOT_REGISTERED') return this.#numeric(ERR.NOTREGISTERED, 'You have not registered');
        if (frame.code === 'TC_ERR_LINE_TOO_LONG') return this.#numeric(ERR.INPUTTOOLONG, 'Input line was too long');
        return this.#emit({ source: this.#server, command: 'NOTICE', params: [this.#nick, `${frame.message} [${frame.code}]`] });
      case 'status':
        return this.#emit({ source: this.#server, command: 'NOTICE', params: [this.#nick, `*** ${frame.message ?? `database ${frame.db}`}`] });
      case 'bye': {
        const reason = frame.code === 'TC_ERR_PING_TIMEOUT' ? 'Ping timeout' : frame.reason;
        return this.#emit({ command: 'ERROR', params: [`Closing Link: ${this.#host} (${reason})`] });
      }
      case 'ping':
        return this.#emit({ command: 'PING', params: [this.#server] });
      case 'registered':
        this.#account = frame.nick;
        return;
      case 'ack':
      case 'pong':
      case 'users':
      case 'rooms':
      case 'history':
      case 'pm-history':
      case 'parted':
        return;
    }
  }

  #takeSent(where: string): Sent | undefined {
    const i = this.#sent.findIndex((s) => s.where === where && !s.echoed);
    if (i === -1) return undefined;
    const s = this.#sent[i]!;
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

  #roomMessage(m: RoomMessage, extra: Record<string, string | undefined>, history: boolean, notice = false): OutgoingIrcMessage {
    return {
      tags: this.#messageTags(m.id, m.ts, extra, history),
      source: this.#mask(m.nick),
      command: notice ? 'NOTICE' : 'PRIVMSG',
      params: ['#' + m.room, m.action ? `\x01ACTION ${m.text}\x01` : m.text],
    };
  }

  #privateMessage(m: PrivateMessage, extra: Record<string, string | undefined>, history: boolean, notice = false): OutgoingIrcMessage {
    return {
      tags: this.#messageTags(m.id, m.ts, extra, history),
      source: this.#mask(m.from),
      command: notice ? 'NOTICE' : 'PRIVMSG',
      params: [m.to, m.action ? `\x01ACTION ${m.text}\x01` : m.text],
    };
  }

  #messageTags(id: number, ts: number, extra: Record<string, string | undefined>, history: boolean): Record<string, string | undefined> {
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
    if (nickKey(nick) === this.connection.key || nickKey(lookup) === this.connection.key) return `${nick}!${this.ident}@${this.#host}`;
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
    return at > 0 ? line.slice(0, at) + truncateUtf8(line.slice(at), IRC_LINE_BYTES - 2) : truncateUtf8(line, IRC_LINE_BYTES - 2);
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
