/**
 * Keeps the person's highlight words on the server (`highlights` frame), for the full-screen app
 * and the line mode alike. A change reads the server's list first and stores the changed list, so
 * words added on another device meanwhile are kept. The answers also reach the chat state as
 * frames (the reducer adopts the list).
 *
 * @example
 * await adoptServerHighlights(connection, ['deploy']); // at login: the server's words plus --highlight
 * await changeServerHighlights(connection, { op: 'add', words: ['oncall'] });
 */
import type { ServerFrame } from '@teamchat/protocol';
import { changeHighlightWords, mergeHighlightWords, type HighlightChange } from '../state/highlight-words.js';
import type { CommandFrame } from './chat-connection.js';

/** What these helpers need of a connection (a ChatConnection). */
export interface HighlightRequester {
  request(frame: CommandFrame): Promise<ServerFrame | undefined> | null;
}

/** The words of a `highlights` answer; null when there was none (offline, refused: an error frame says why). */
async function ask(connection: HighlightRequester, words?: string[]): Promise<string[] | null> {
  const answer = await connection.request({ type: 'highlights', ...(words !== undefined ? { words } : {}) });
  return answer?.type === 'highlights' ? answer.words : null;
}

/** The server's list now. */
export function fetchServerHighlights(connection: HighlightRequester): Promise<string[] | null> {
  return ask(connection);
}

/** Applies `/highlight add|remove|clear` to the server's list; resolves with the list stored, or null. */
export async function changeServerHighlights(
  connection: HighlightRequester,
  change: HighlightChange,
): Promise<string[] | null> {
  const current = await ask(connection);
  if (current === null) return null;
  const next = changeHighlightWords(current, change);
  if (next.length === current.length && next.every((w, i) => w === current[i])) return current;
  return ask(connection, next);
}

/**
 * At login: the server's list, with the words given on the command line (`--highlight`) added and
 * stored when they were missing. Resolves with the list in force, or null.
 */
export async function adoptServerHighlights(
  connection: HighlightRequester,
  local: readonly string[],
): Promise<string[] | null> {
  const server = await ask(connection);
  if (server === null) return null;
  const merged = mergeHighlightWords(server, local);
  if (merged.length === server.length) return server;
  return ask(connection, merged);
}
