/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The one render helper for component tests: Ink on fake streams (as ink-testing-library does,
 * plus a terminal size of our choosing) with the theme provider and real ANSI colours (chalk
 * level forced on), plus a way to wait for a frame. `cleanupUi()` unmounts everything rendered.
 *
 * `type()` synchronises on React, not on time: each chunk is written inside React's `act()`,
 * which returns once React has done all the work the keys caused (state updates, the render,
 * and the effects that hand the next key to a handler that sees the new state).
 *
 * @example
 * const ui = renderUi(<Sidebar ... />, { columns: 50 });
 * await ui.waitFor((frame) => frame.includes('#general'));
 * await ui.type('/jo', '\t'); // the second chunk is read by a handler that saw the first
 */
import { EventEmitter } from 'node:events';
import chalk from 'chalk';
import { render, type Instance } from 'ink';
import { act, type ReactElement } from 'react';
import type { ThemeName } from './theme.js';
import { makeTheme, ThemeContext } from './theme-context.js';

export interface RenderedUi {
  stdin: { write: (data: string) => void };
  lastFrame: () => string | undefined;
  unmount: () => void;
  rerender: (tree: ReactElement) => void;
  /** The last frame, with ANSI codes. */
  frame: () => string;
  /** The last frame without ANSI codes. */
  text: () => string;
  waitFor: (check: (frame: string) => boolean, timeoutMs?: number) => Promise<string>;
  type: (...chunks: string[]) => Promise<void>;
}

export interface RenderOptions {
  noColor?: boolean;
  theme?: ThemeName;
  /** Terminal size (default 100 x 24). */
  columns?: number;
  rows?: number;
}

class FakeStdout extends EventEmitter {
  frames: string[] = [];
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
  }
  write = (frame: string) => {
    this.frames.push(frame);
    return true;
  };
  lastFrame = () => this.frames.at(-1);
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  data: string | null = null;
  write = (data: string) => {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = () => {
    const { data } = this;
    this.data = null;
    return data;
  };
  /** Resolves once Ink reads this stream: its `readable` listener is attached by an effect of the mounted tree. */
  listening(timeoutMs: number): Promise<void> {
    if (this.listenerCount('readable') > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('newListener', onListener);
        reject(new Error('nothing reads the keys: no mounted component uses input'));
      }, timeoutMs);
      const onListener = (event: string | symbol) => {
        if (event !== 'readable') return;
        clearTimeout(timer);
        this.off('newListener', onListener);
        resolve(); // the listener is added right after this event, before the promise's continuation runs
      };
      this.on('newListener', onListener);
    });
  }
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

const mounted: Instance[] = [];

/** Unmounts every UI rendered by `renderUi` (call in afterEach). */
export function cleanupUi(): void {
  for (const instance of mounted.splice(0)) {
    instance.unmount();
    instance.cleanup();
  }
}

export function renderUi(tree: ReactElement, options: RenderOptions = {}): RenderedUi {
  chalk.level = 3;
  const theme = makeTheme(options.noColor ?? false, options.theme ?? 'dark');
  const wrap = (t: ReactElement) => <ThemeContext.Provider value={theme}>{t}</ThemeContext.Provider>;
  const stdout = new FakeStdout(options.columns ?? 100, options.rows ?? 24);
  const stdin = new FakeStdin();
  const instance = render(wrap(tree), {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: new FakeStdout(100, 24) as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  mounted.push(instance);
  const frame = () => stdout.lastFrame() ?? '';
  return {
    stdin,
    lastFrame: stdout.lastFrame,
    unmount: instance.unmount,
    rerender: (t: ReactElement) => instance.rerender(wrap(t)),
    frame,
    text: () => stripAnsi(frame()),
    async waitFor(check: (frame: string) => boolean, timeoutMs = 5_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const f = frame();
        if (check(f)) return f;
        if (Date.now() > deadline) throw new Error(`frame never matched; last frame:\n${f}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    /** Types keys, one chunk at a time, each handled by React (render and effects) before the next. */
    async type(...chunks: string[]): Promise<void> {
      for (const c of chunks) {
        await stdin.listening(5_000);
        if (ESCAPE_AT_END.test(c)) {
          // Ink keeps a trailing ESC (a lone Escape key, or the start of a sequence) until its own
          // setImmediate: that hop happens inside the act scope, so the key is handled before it ends.
          await inAct(async () => {
            stdin.write(c);
            await new Promise((r) => setImmediate(r));
          });
        } else {
          await inAct(() => stdin.write(c));
        }
        if (stdin.data !== null) throw new Error(`Ink did not read the keys ${JSON.stringify(c)}`);
      }
    },
  };
}

/**
 * Runs `work` in React's `act()`: when it resolves, React has flushed everything `work` caused.
 * React wants `IS_REACT_ACT_ENVIRONMENT` while it acts (else it warns the environment does not
 * support act); it is set only for that time, so updates outside `type()` (timers, rerender)
 * are not reported as unwrapped.
 */
async function inAct(work: () => void | Promise<void>): Promise<void> {
  const env = globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean };
  const before = env.IS_REACT_ACT_ENVIRONMENT;
  env.IS_REACT_ACT_ENVIRONMENT = true;
  try {
    await act(work);
  } finally {
    env.IS_REACT_ACT_ENVIRONMENT = before;
  }
}

/** A chunk that ends with ESC or an unfinished escape sequence (`ESC`, `ESC [`, `ESC [ 1 ;`). */
const ESCAPE_AT_END = /\x1b(?:\[[0-9;]*|O)?$/;

export function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}
