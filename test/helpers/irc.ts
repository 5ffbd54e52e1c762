/**
 * Helpers for the IRC gateway's end-to-end tests.
 */
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import type { SpawnedServer } from './spawn-server.js';

/** The IRC port from the server's ready line (`teamchat: ready tcp=... http=... irc=HOST:PORT`). */
export function ircPortOf(server: SpawnedServer): number {
  const m = /ready tcp=\S+ http=\S+ irc=\S+:(\d+)/.exec(server.stdout());
  if (!m) throw new Error(`no irc= in the ready line:\n${server.stdout()}`);
  return Number(m[1]);
}

/** True when `command` is on the PATH (IRC clients are optional outside CI). */
export function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The IRC TLS port from the listening line (`irc listening on H:P and H:T (TLS)`). */
export function ircTlsPortOf(server: SpawnedServer): number {
  const m = /irc listening on \S+ and \S+:(\d+) \(TLS\)/.exec(server.stdout() + server.stderr());
  if (!m) throw new Error(`no IRC TLS port in the output:\n${server.stdout()}`);
  return Number(m[1]);
}

/**
 * A raw IRC client for tests: sends lines, and waits for the next line that matches (lines that do
 * not match are skipped over but kept in `lines`). Plain TCP, or TLS trusting one certificate.
 */
export class RawIrcClient {
  readonly lines: string[] = [];
  #cursor = 0;
  #buffer = '';
  #closed = false;
  #wake: (() => void) | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let i: number;
      while ((i = this.#buffer.indexOf('\r\n')) !== -1) {
        this.lines.push(this.#buffer.slice(0, i));
        this.#buffer = this.#buffer.slice(i + 2);
      }
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
  }

  static connect(port: number, tlsCa?: string): Promise<RawIrcClient> {
    return new Promise((resolve, reject) => {
      const socket: net.Socket = tlsCa
        ? tls.connect({ port, host: '127.0.0.1', ca: tlsCa, servername: 'localhost' }, () =>
            resolve(new RawIrcClient(socket)),
          )
        : net.connect({ port, host: '127.0.0.1' }, () => resolve(new RawIrcClient(socket)));
      socket.once('error', reject);
    });
  }

  send(line: string): void {
    this.socket.write(line + '\r\n');
  }

  /** NICK/USER (with CAP REQ of `caps` first), then waits for 001. */
  async register(nick: string, caps: string[] = []): Promise<void> {
    if (caps.length > 0) {
      this.send(`CAP REQ :${caps.join(' ')}`);
      await this.next((l) => / CAP \S+ (ACK|NAK) /.test(l), 'CAP ACK');
    }
    this.send(`NICK ${nick}`);
    this.send(`USER ${nick} 0 * :${nick} test`);
    if (caps.length > 0) this.send('CAP END');
    await this.next((l) => / 001 /.test(l), 'the 001 welcome');
  }

  /** The next line (after those already consumed) for which `match` holds. */
  async next(match: (line: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = this.#cursor; i < this.lines.length; i++) {
        if (match(this.lines[i])) {
          this.#cursor = i + 1;
          return this.lines[i];
        }
      }
      if (this.#closed)
        throw new Error(`connection closed before ${what}; lines:\n${this.lines.slice(-20).join('\n')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; lines:\n${this.lines.slice(-20).join('\n')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
