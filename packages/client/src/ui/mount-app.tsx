/** @jsxRuntime automatic @jsxImportSource react */
/**
 * Renders the App with Ink. Kept apart from run-tui so that Ink and React (most of the client's
 * start-up time) load only after the connection has started and the boot screen is up.
 *
 * @example
 * const { mountApp } = await import('./mount-app.js');
 * const instance = mountApp({ store, intents, theme, stdout });
 */
import { render, type Instance } from 'ink';
import type { ChatStore } from '../state/chat-store.js';
import { App, type ChatIntents } from './App.js';
import { ThemeContext, type Theme } from './theme-context.js';

export interface MountOptions {
  store: ChatStore;
  intents: ChatIntents;
  theme: Theme;
  queued: () => number;
  suggestedNick?: string;
  stdout: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
}

export function mountApp(o: MountOptions): Instance {
  return render(
    <ThemeContext.Provider value={o.theme}>
      <App
        store={o.store}
        intents={o.intents}
        queued={o.queued}
        {...(o.suggestedNick ? { suggestedNick: o.suggestedNick } : {})}
      />
    </ThemeContext.Provider>,
    { stdout: o.stdout, ...(o.stdin ? { stdin: o.stdin } : {}), exitOnCtrlC: false, patchConsole: true, maxFps: 30 },
  );
}
