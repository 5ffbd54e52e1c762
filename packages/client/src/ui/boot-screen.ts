/**
 * The first frame, painted with plain escape codes while Ink and React are still loading (that
 * takes most of a second, longer on a busy machine): the status bar and the input prompt in the
 * rows where the App will draw them, kept up to date from the chat store, so the connection
 * state (and its countdown) shows from the start. `stop()` stops painting and leaves the
 * status bar on screen for Ink's first frame to paint over (clearing the screen would blank it
 * while React renders that frame).
 *
 * @example
 * const boot = BootScreen.start(store, process.stdout);
 * const { mountApp } = await import('./mount-app.js');
 * boot.stop();
 */
import type { ChatStore } from '../state/chat-store.js';
import { currentWindow } from '../state/chat-state.js';
import { connectionLabel, windowLabel } from './status-text.js';

/** The few things the boot screen needs of a terminal stream. */
export interface BootOutput {
  write(data: string): unknown;
  columns?: number;
  rows?: number;
}

/** Text of the boot frame's status bar: the same words as the App's status bar. */
export function bootStatusText(store: ChatStore, now: number): string {
  const state = store.getState();
  const label = state.awaitingNick ? 'choose a nick' : connectionLabel(state.connection, now, state.everConnected);
  const win = currentWindow(state);
  const index = state.windows.indexOf(win) + 1;
  return ` [${label}] ${state.connection.server} | ${state.nick === '' ? '(no nick)' : state.nick} | ${index}:${windowLabel(win)}`;
}

export class BootScreen {
  #timer: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void) | null = null;
  #last = '';

  private constructor(
    readonly store: ChatStore,
    readonly out: BootOutput,
  ) {}

  /** Clears the screen and paints the first frame; repaints when the store changes. */
  static start(store: ChatStore, out: BootOutput): BootScreen {
    const boot = new BootScreen(store, out);
    out.write('\x1b[2J\x1b[H');
    boot.paint();
    boot.#unsubscribe = store.subscribe(() => boot.paint());
    // The countdown moves without store changes.
    boot.#timer = setInterval(() => boot.paint(), 250);
    boot.#timer.unref();
    return boot;
  }

  paint(): void {
    const columns = Math.max(10, this.out.columns || 80);
    const rows = Math.max(4, this.out.rows || 24);
    const state = this.store.getState();
    const text = bootStatusText(this.store, Date.now()).slice(0, columns).padEnd(columns);
    const prompt = state.nickPrompt ?? `[${windowLabel(currentWindow(state))}] `;
    const frame = `${text}\n${prompt}`;
    if (frame === this.#last) return;
    this.#last = frame;
    // The App is rows - 1 high: its status bar is on row rows - 2, its input line on rows - 1.
    this.out.write(
      `\x1b[${rows - 2};1H\x1b[7m${text}\x1b[27m\x1b[${rows - 1};1H\x1b[2K\x1b[1m${prompt.slice(0, columns)}\x1b[22m\x1b[H`,
    );
  }

  /**
   * Stops painting (once). Ink's first frame is drawn from the top-left corner over the same
   * rows; only the prompt row is erased, since Ink's input line may be shorter.
   */
  stop(): void {
    if (!this.#unsubscribe) return;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#unsubscribe();
    this.#unsubscribe = null;
    const rows = Math.max(4, this.out.rows || 24);
    this.out.write(`\x1b[${rows - 1};1H\x1b[2K\x1b[H`);
  }
}
