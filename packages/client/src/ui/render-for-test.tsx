/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The one render helper for component tests: ink-testing-library with the theme provider and
 * real ANSI colours (chalk level forced on), plus a way to wait for a frame.
 *
 * @example
 * const ui = renderUi(<Sidebar ... />);
 * await ui.waitFor((frame) => frame.includes('#general'));
 */
import chalk from 'chalk';
import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
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

export function renderUi(tree: ReactElement, options: { noColor?: boolean } = {}): RenderedUi {
  chalk.level = 3;
  const instance = render(<ThemeContext.Provider value={makeTheme(options.noColor ?? false)}>{tree}</ThemeContext.Provider>);
  const frame = () => instance.lastFrame() ?? '';
  return {
    stdin: instance.stdin,
    lastFrame: instance.lastFrame,
    unmount: instance.unmount,
    rerender: (t: ReactElement) => instance.rerender(<ThemeContext.Provider value={makeTheme(options.noColor ?? false)}>{t}</ThemeContext.Provider>),
    frame,
    /** Frame without ANSI codes. */
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
    /** Types keys, letting React handle each chunk. */
    async type(...chunks: string[]): Promise<void> {
      for (const c of chunks) {
        instance.stdin.write(c);
        await new Promise((r) => setTimeout(r, 15));
      }
    },
  };
}

export function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}
