/**
 * A small tmux driver for end-to-end tests of the full-screen client: a private tmux server
 * (its own socket), one detached session of a fixed size, keys in, screen text out.
 *
 * @example
 * const t = await TmuxSession.start('node bin/teamchat connect ...', { width: 120, height: 40 });
 * await t.waitFor((screen) => screen.includes('#general'));
 * await t.sendKeys('hello', 'Enter');
 * await t.paste('one\ntwo\n', { bracketed: true });
 * await t.kill();
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { until } from './waits.js';

const run = promisify(execFile);

/** Whether tmux is installed: the terminal tests and the bench's TUI timing skip without it. */
export function tmuxInstalled(): boolean {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
}

export interface TmuxOptions {
  width?: number;
  height?: number;
  env?: Record<string, string>;
  cwd?: string;
}

export class TmuxSession {
  private constructor(
    readonly socket: string,
    readonly name: string,
  ) {}

  static async start(command: string, options: TmuxOptions = {}): Promise<TmuxSession> {
    const id = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const session = new TmuxSession(`teamchat-test-${id}`, `tc-${id}`);
    const env = Object.entries(options.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    await session.tmux(
      'new-session',
      '-d',
      '-s',
      session.name,
      '-x',
      String(options.width ?? 120),
      '-y',
      String(options.height ?? 40),
      ...(options.cwd ? ['-c', options.cwd] : []),
      ...env,
      command,
    );
    return session;
  }

  async tmux(...args: string[]): Promise<string> {
    const { stdout } = await run('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {
      env: { ...process.env, TMUX: '' },
    });
    return stdout;
  }

  /** Sends keys as `tmux send-keys` understands them (`Enter`, `C-c`, `PageUp`, or literal text with `-l`). */
  async sendKeys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', this.name, ...keys);
  }

  /** Types text literally (no key-name lookup). */
  async type(text: string): Promise<void> {
    await this.tmux('send-keys', '-t', this.name, '-l', text);
  }

  /** The visible screen as plain text, or with its colour and attribute escapes (`escapes`). */
  async capture(options: { escapes?: boolean } = {}): Promise<string> {
    return this.tmux('capture-pane', '-p', ...(options.escapes ? ['-e'] : []), '-t', this.name);
  }

  /**
   * Pastes text as a terminal does: `bracketed` wraps it in ESC[200~ ... ESC[201~ when the
   * program turned bracketed paste on; line ends go in as CR, as from a terminal.
   */
  async paste(text: string, options: { bracketed?: boolean } = {}): Promise<void> {
    const buffer = `paste-${Math.random().toString(36).slice(2, 8)}`;
    await this.tmux('set-buffer', '-b', buffer, '--', text);
    await this.tmux('paste-buffer', '-d', '-b', buffer, ...(options.bracketed ? ['-p'] : []), '-t', this.name);
  }

  /**
   * Polls the screen every `everyMs` until `check` passes; resolves with the time it passed,
   * in ms since `since` (for start-up timings).
   */
  async timeUntil(
    check: (screen: string) => boolean,
    since: number,
    what: string,
    timeoutMs = 30_000,
    everyMs = 10,
  ): Promise<number> {
    await this.#screenUntil(check, what, timeoutMs, everyMs);
    return Date.now() - since;
  }

  /** Polls the screen until `check` passes (or throws after `timeoutMs`, showing the last screen). */
  async waitFor(check: (screen: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
    return this.#screenUntil(check, what, timeoutMs, 150);
  }

  /** The first captured screen that passes `check` (a session that is gone reads as "(no session)"). */
  async #screenUntil(
    check: (screen: string) => boolean,
    what: string,
    timeoutMs: number,
    everyMs: number,
  ): Promise<string> {
    let screen = '';
    return until(
      async () => {
        screen = await this.capture().catch(() => '(no session)');
        return check(screen) ? screen : undefined;
      },
      what,
      { timeoutMs, everyMs, describe: () => `screen:\n${screen}` },
    );
  }

  /** Ends the session and its private tmux server. */
  async kill(): Promise<void> {
    await this.tmux('kill-server').catch(() => {});
  }
}
