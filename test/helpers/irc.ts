/**
 * Helpers for the IRC gateway's end-to-end tests.
 */
import { execFileSync } from 'node:child_process';
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
