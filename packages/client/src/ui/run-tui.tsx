/** @jsxRuntime automatic @jsxImportSource react */
/**
 * Runs the full-screen Ink client until the user quits. Wires the connection to the store
 * (frames in batches) and the UI's intents to the connection. Uses the terminal's alternate
 * screen and restores it on exit.
 *
 * @example
 * const code = await runTui({ connection, noColor: !!process.env.NO_COLOR });
 */
import { render } from 'ink';
import { isValidNick, normalizeRoom, nickKey } from '@teamchat/protocol';
import type { ChatConnection } from '../connection/chat-connection.js';
import { interpretInput, olderRequest, type InputWindow } from '../input/interpret-input.js';
import { ChatStore } from '../state/chat-store.js';
import { currentWindow, initialChatState, pmKey, roomKey, type ChatWindow } from '../state/chat-state.js';
import { App } from './App.js';
import { makeTheme, ThemeContext } from './theme-context.js';

export interface TuiOptions {
  connection: ChatConnection;
  noColor?: boolean;
  scrollbackCap?: number;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** Use the alternate screen (default true). */
  alternateScreen?: boolean;
}

function inputWindow(w: ChatWindow): InputWindow {
  return { kind: w.kind, name: w.name, oldestId: w.scrollback.oldestId() };
}

export async function runTui(options: TuiOptions): Promise<number> {
  const { connection } = options;
  const stdout = options.stdout ?? process.stdout;
  const store = new ChatStore(initialChatState(connection.state, options.scrollbackCap));
  const now = () => Date.now();
  let exitCode = 0;

  const unsubscribe = connection.on((event) => {
    switch (event.kind) {
      case 'frame':
        store.pushFrame(event.frame);
        return;
      case 'state':
        store.dispatch({ type: 'connection', state: event.state, now: now() });
        return;
      case 'notice':
        store.dispatch({ type: 'notice', level: event.level, text: event.text, now: now() });
        return;
      case 'nick-rejected':
        store.dispatch({ type: 'nick-rejected', text: `${event.error.message} [${event.error.code}]` });
        return;
      case 'ready':
      case 'closed':
        return;
    }
  });

  const older = (key: string) => {
    const w = store.getState().windows.find((x) => x.key === key);
    if (!w) return;
    const frame = olderRequest(inputWindow(w), 50);
    if (frame && connection.request(frame) !== null) store.dispatch({ type: 'older-requested', key });
  };

  let quitting = false;
  const quit = async (reason?: string) => {
    if (quitting) return;
    quitting = true;
    store.flush();
    await connection.quit(reason);
    instance.unmount();
  };

  const input = (line: string) => {
    const state = store.getState();
    const w = currentWindow(state);
    for (const effect of interpretInput(line, inputWindow(w))) {
      switch (effect.kind) {
        case 'send':
          connection.sendText(effect.target, effect.text, effect.action);
          break;
        case 'request':
          connection.request(effect.frame);
          break;
        case 'focus-room':
          store.dispatch({ type: 'focus-on-join', room: effect.room });
          break;
        case 'open-pm':
          store.dispatch({ type: 'open-pm', nick: effect.nick });
          break;
        case 'switch': {
          const room = normalizeRoom(effect.name);
          const windows = store.getState().windows;
          const found =
            windows.find((x) => room !== null && x.key === roomKey(room)) ??
            windows.find((x) => x.key === pmKey(effect.name)) ??
            windows.find((x) => nickKey(x.name) === nickKey(effect.name.replace(/^[#@]/, '')));
          if (found) store.dispatch({ type: 'switch', key: found.key });
          else if (isValidNick(effect.name)) store.dispatch({ type: 'open-pm', nick: effect.name });
          else store.dispatch({ type: 'notice', level: 'error', text: `No window ${effect.name}`, now: now() });
          break;
        }
        case 'close':
          if (w.kind === 'room') connection.request({ type: 'part', room: w.name });
          else if (w.kind === 'pm') store.dispatch({ type: 'close-window', key: w.key });
          break;
        case 'older':
          {
            const frame = olderRequest(inputWindow(w), effect.count);
            if (frame && connection.request(frame) !== null) store.dispatch({ type: 'older-requested', key: w.key });
          }
          break;
        case 'notice':
          store.dispatch({ type: 'notice', level: effect.level, text: effect.text, now: now() });
          break;
        case 'quit':
          void quit(effect.reason);
          break;
      }
    }
  };

  const nick = (n: string) => {
    store.dispatch({ type: 'nick-retry', nick: n });
    connection.retryNick(n);
  };

  const alt = options.alternateScreen ?? true;
  if (alt) stdout.write('\x1b[?1049h\x1b[H');
  const instance = render(
    <ThemeContext.Provider value={makeTheme(options.noColor ?? false)}>
      <App store={store} intents={{ input, older, quit: () => void quit(), nick }} queued={() => connection.pendingCount} />
    </ThemeContext.Provider>,
    { stdout, ...(options.stdin ? { stdin: options.stdin } : {}), exitOnCtrlC: false, patchConsole: true, maxFps: 30 },
  );
  connection.on((event) => {
    if (event.kind === 'closed' && !quitting) {
      exitCode = event.reason === 'quit' ? 0 : 1;
      // Keep the screen so the user can read why; Ctrl+C leaves.
    }
  });
  connection.start();
  try {
    await instance.waitUntilExit();
  } finally {
    unsubscribe();
    store.close();
    if (alt) stdout.write('\x1b[?1049l');
  }
  return exitCode;
}
