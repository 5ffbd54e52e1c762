/**
 * Where the embedded database lives when `--data-dir` is not given: the platform's data folder
 * (`$XDG_DATA_HOME/teamchat`, else `~/.local/share/teamchat`), not a folder relative to wherever
 * the server happens to be started. A `./.teamchat/data` left by an older version is still used
 * (with a note saying so), so upgrading does not start an empty database.
 *
 * @example
 * const { dir, note } = defaultDataDir(); // '/home/ann/.local/share/teamchat'
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The folder of earlier versions, relative to the working directory. */
export const LEGACY_DATA_DIR = './.teamchat/data';

export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  home = os.homedir(),
): { dir: string; note?: string } {
  const legacy = path.resolve(cwd, LEGACY_DATA_DIR);
  if (existsSync(path.join(legacy, 'PG_VERSION'))) {
    return {
      dir: legacy,
      note: `using the data folder of an earlier version, ${legacy} (move it, or pass --data-dir, to change that)`,
    };
  }
  const base =
    env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(home, '.local', 'share');
  return { dir: path.join(base, 'teamchat') };
}
