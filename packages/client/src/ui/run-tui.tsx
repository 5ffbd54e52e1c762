/**
 * Runs the full-screen Ink client until the user quits. Wires the connection to the store
 * (frames in batches) and the UI's intents to the connection. Uses the terminal's alternate
 * screen and bracketed paste, and restores both on exit.
 *
 * Start-up is ordered for a fast first screen: this module loads neither Ink nor React. It
 * creates the store, starts the connection (unless it must first ask for a nick) and paints a
 * boot frame (ui/boot-screen.ts: the status bar, kept up to date), and only then loads Ink and
 * the App (ui/mount-app.tsx), which takes most of the start-up time; the connection handshake
 * runs meanwhile. Keys typed before Ink is up wait in the terminal (raw mode is on at once, so
 * they are not echoed) and reach the input line when it appears.
 *
 * @example
 * const code = await runTui({ connection, noColor: !!process.env.NO_COLOR, theme: 'light' });
 */
import { isValidNick, normalizeRoom, nickKey } from '@teamchat/protocol';
import type { Instance } from 'ink';
import type { ChatConnection } from '../connection/chat-connection.js';
import { interpretInput, olderRequest, type InputWindow } from '../input/interpret-input.js';
import { bindConnection } from '../state/bind-connection.js';
import { ChatStore } from '../state/chat-store.js';
import { currentWindow, initialChatState, pmKey, roomKey, type ChatWindow } from '../state/chat-state.js';
import { BootScreen } from './boot-screen.js';
import { resolveThemeName } from './theme.js';

export interface TuiOptions {
  connection: ChatConnection;
  noColor?: boolean;
  /** `dark` or `light` background; default: from COLORFGBG, else dark. */
  theme?: string;
  scrollbackCap?: number;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** Use the alternate screen (default true). */
  alternateScreen?: boolean;
  /** Offered in the nick prompt when the connection has no nick (default: the login name, when it is a valid nick). */
  suggestedNick?: string;
}

function inputWindow(w: ChatWindow): InputWindow {
  return { kind: w.kind, name: w.name, oldestId: w.scrollback.oldestId() };
}

/** The login name, when it is a valid nick. */
function loginNick(): string | undefined {
  const name = process.env.USER ?? process.env.LOGNAME ?? process.env.USERNAME;
  return name !== undefined && isValidNick(name) ? name : undefined;
}

export async function runTui(options: TuiOptions): Promise<number> {
  const { connection } = options;
  const stdout = options.stdout ?? process.stdout;
  const stdin = options.stdin ?? process.stdin;
  const store = new ChatStore(initialChatState(connection.state, options.scrollbackCap));
  const now = () => Date.now();
  let exitCode = 0;
  let quitting = false;
  /** Ink's instance, once up (the intents that quit come from it). */
  let instance: Instance | null = null;

  const unbind = bindConnection(connection, store, now);
  const unsubscribe = connection.on((event) => {
    // Keep the screen so the user can read why; Ctrl+C leaves.
    if (event.kind === 'closed' && !quitting) exitCode = event.reason === 'quit' ? 0 : 1;
  });

  const older = (key: string, via: 'command' | 'scroll', count = 50) => {
    const w = store.getState().windows.find((x) => x.key === key);
    if (!w) return;
    const frame = olderRequest(inputWindow(w), count);
    if (frame && connection.request(frame) !== null) store.dispatch({ type: 'older-requested', key, via });
  };

  const quit = async (reason?: string) => {
    if (quitting) return;
    quitting = true;
    store.flush();
    await connection.quit(reason);
    instance?.unmount();
  };

  const input = (line: string) => {
    const state = store.getState();
    const w = currentWindow(state);
    for (const effect of interpretInput(line, inputWindow(w), { keys: true })) {
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
          older(w.key, 'command', effect.count);
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
    if (!isValidNick(n)) {
      store.dispatch({ type: 'nick-invalid', text: `"${n}" is not a valid nick (1-24 letters, digits, _ or -, starting with a letter)` });
      return;
    }
    const first = store.getState().awaitingNick;
    store.dispatch({ type: 'nick-retry', nick: n });
    connection.retryNick(n);
    if (first) connection.start();
  };

  const alt = options.alternateScreen ?? true;
  const tty = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  // Alternate screen, bracketed paste on; raw mode now, so keys typed during start-up are not echoed.
  if (alt) stdout.write('\x1b[?1049h\x1b[H');
  stdout.write('\x1b[?2004h');
  if (tty) stdin.setRawMode(true);
  const boot = BootScreen.start(store, stdout);
  const restore = () => {
    stdout.write('\x1b[?2004l');
    if (alt) stdout.write('\x1b[?1049l');
  };

  try {
    if (!store.getState().awaitingNick) connection.start();
    const [{ mountApp }, { makeTheme }] = await Promise.all([import('./mount-app.js'), import('./theme-context.js')]);
    boot.stop();
    const suggestedNick = options.suggestedNick ?? loginNick();
    instance = mountApp({
      store,
      intents: { input, older: (key) => older(key, 'scroll'), quit: () => void quit(), nick },
      theme: makeTheme(options.noColor ?? false, resolveThemeName(options.theme)),
      queued: () => connection.pendingCount,
      ...(suggestedNick ? { suggestedNick } : {}),
      stdout,
      ...(options.stdin ? { stdin: options.stdin } : {}),
    });
    await instance.waitUntilExit();
  } finally {
    boot.stop();
    unsubscribe();
    unbind();
    store.close();
    if (tty) stdin.setRawMode(false);
    restore();
  }
  return exitCode;
}
