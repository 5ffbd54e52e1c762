/**
 * The teamchat terminal client: the connection (on @teamchat/client-core: NDJSON over TCP with reconnect and resume),
 * the chat state, the line mode and the full-screen Ink UI.
 */
export {
  ChatConnection,
  type ChatConnectionOptions,
  type CommandFrame,
  type ConnectionEvent,
  type ConnectionState,
  type Target,
} from './connection/chat-connection.js';
export {
  checkAddress,
  checkAddresses,
  formatAddress,
  parseAddress,
  type AddressCheck,
  type AddressListCheck,
} from './connection/address.js';
export { FileTokenStore, teamchatHome, type FileTokenStoreOptions, type TokenStore } from './connection/token-store.js';
export { runLineMode, type LineModeOptions } from './line-mode/run-line-mode.js';
export { formatLine } from './line-mode/format-line.js';
export { clientHelpLines, CLIENT_COMMANDS } from './input/interpret-input.js';
export type { TuiOptions } from './ui/run-tui.js';

/** Runs the Ink UI; loaded on demand so line mode starts without React and Ink. */
export async function runTui(options: import('./ui/run-tui.js').TuiOptions): Promise<number> {
  const { runTui: run } = await import('./ui/run-tui.js');
  return run(options);
}
