/**
 * Resume tokens kept between runs. A server gives a client that is not logged in to an account a
 * secret token in `welcome`; presenting it in the next `hello` makes the client the same person
 * again (memberships of restricted rooms, invitations, room-creator rights, private history).
 *
 * `TokenStore` is the port the connection uses; `FileTokenStore` keeps the tokens in one small
 * JSON file, `$TEAMCHAT_HOME/tokens.json` (default `~/.teamchat/tokens.json`), mode 0600,
 * written atomically (a temporary file, then rename):
 *
 *   {"version":1,"servers":{"chat.example:5555":{"alice":"<token>","alice_away":"<token>"}}}
 *
 * Tokens are filed per server and per nick (lower-cased). The connection files the token under
 * every nick the person used in a session, so after `/nick` the next run finds it under either
 * nick; two scripts with different nicks on one machine stay two different people.
 *
 * @example
 * const tokens = new FileTokenStore(); // $TEAMCHAT_HOME or ~/.teamchat
 * tokens.set('localhost:5555', 'alice', token);
 * tokens.get('localhost:5555', 'Alice'); // the same token
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { nickKey } from '@teamchat/protocol';

/**
 * Where the connection keeps resume tokens. Both methods may throw (a file that cannot be read
 * or written): the caller reports the error and goes on without a stored token.
 */
export interface TokenStore {
  /** The token kept for this nick on this server (`host:port`), if any. */
  get(server: string, nick: string): string | undefined;
  /** Keeps a token for this nick on this server. */
  set(server: string, nick: string, token: string): void;
}

export interface FileTokenStoreOptions {
  /** The folder of `tokens.json`; default `$TEAMCHAT_HOME`, else `~/.teamchat`. */
  home?: string;
}

type Tokens = Record<string, Record<string, string>>;

const FILE_VERSION = 1;

/** The teamchat home folder: `$TEAMCHAT_HOME`, else `~/.teamchat`. */
export function teamchatHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.TEAMCHAT_HOME;
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  return path.join(homedir(), '.teamchat');
}

export class FileTokenStore implements TokenStore {
  /** The file: `<home>/tokens.json`. */
  readonly path: string;
  /** What was read (null: not read yet). */
  #tokens: Tokens | null = null;

  constructor(options: FileTokenStoreOptions = {}) {
    this.path = path.join(options.home ?? teamchatHome(), 'tokens.json');
  }

  /**
   * Reads the file on first use. A missing file is empty; a file that cannot be read or is not a
   * token file throws once (with the reason) and is then treated as empty.
   */
  get(server: string, nick: string): string | undefined {
    if (this.#tokens === null) {
      this.#tokens = {};
      const read = this.#read();
      if (!read.ok) throw new Error(`ignoring ${this.path}: ${read.reason}`);
      this.#tokens = read.tokens;
    }
    return own(own(this.#tokens, server), nickKey(nick));
  }

  /** Files the token and writes the file (merged with what is on disk now, so concurrent clients keep each other's tokens). */
  set(server: string, nick: string, token: string): void {
    const key = nickKey(nick);
    const read = this.#read();
    // A file we cannot understand is replaced: its tokens could not be used anyway.
    const tokens = read.ok ? read.tokens : (this.#tokens ?? {});
    if (own(own(tokens, server), key) === token) {
      this.#tokens = tokens;
      return;
    }
    tokens[server] = { ...own(tokens, server), [key]: token };
    this.#write(tokens);
    this.#tokens = tokens;
  }

  #read(): { ok: true; tokens: Tokens } | { ok: false; reason: string } {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') return { ok: true, tokens: {} };
      return { ok: false, reason: `cannot read it (${e.code ?? e.message})` };
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return { ok: false, reason: 'it is not valid JSON' };
    }
    if (!isObject(data) || data.version !== FILE_VERSION || !isObject(data.servers)) {
      return { ok: false, reason: `it is not a version ${FILE_VERSION} token file` };
    }
    const tokens: Tokens = {};
    for (const [server, nicks] of Object.entries(data.servers)) {
      if (!isObject(nicks) || server === '__proto__') continue;
      const kept = Object.entries(nicks).filter(
        (e): e is [string, string] => e[0] !== '__proto__' && typeof e[1] === 'string' && e[1] !== '',
      );
      if (kept.length > 0) tokens[server] = Object.fromEntries(kept);
    }
    return { ok: true, tokens };
  }

  #write(tokens: Tokens): void {
    const dir = path.dirname(this.path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      try {
        writeSync(fd, JSON.stringify({ version: FILE_VERSION, servers: tokens }, null, 2) + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }
}

/** `obj[key]` when it is the object's own property (a nick like `constructor` is not `Object.prototype.constructor`). */
function own<T>(obj: Record<string, T> | undefined, key: string): T | undefined {
  return obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
