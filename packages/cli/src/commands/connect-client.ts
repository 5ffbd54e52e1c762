/**
 * Loads the terminal client for `teamchat connect`: the bundle `npm run build` makes
 * (packages/client/dist/bundle/, by scripts/bundle-tui.mjs: a dozen files instead of ~600
 * modules, most of the full UI's start-up time) when it is there and current, else
 * @teamchat/client itself.
 *
 * "Current": every workspace file it was made from (its inputs.json) is unchanged. A file not
 * newer than the bundle is taken as unchanged; a newer one (a `tsc -b` after an edit, or any file
 * of an `npm install -g`, which writes files in no set order) is compared by content hash.
 *
 * @example
 * const { ChatConnection, runTui } = await loadClient();
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

export type ClientModule = typeof import('@teamchat/client');

export type BundleState = { kind: 'fresh'; entry: URL } | { kind: 'stale'; changed: string } | { kind: 'absent' };

interface BundleManifest {
  entry: string;
  /** Path from the bundle folder: sha256 (base64) of the content that was bundled. */
  inputs: Record<string, string>;
}

/** Where the bundle's manifest would be: beside @teamchat/client's build. */
function manifestUrl(): URL | null {
  try {
    return new URL('./bundle/inputs.json', import.meta.resolve('@teamchat/client'));
  } catch {
    return null; // not resolvable (no build): the caller falls back
  }
}

/** Whether the bundle is there and made from the files now in the workspaces' dist folders. */
export function bundleState(manifest: URL | null = manifestUrl()): BundleState {
  if (manifest === null) return { kind: 'absent' };
  let made: number;
  let parsed: BundleManifest;
  try {
    made = statSync(manifest).mtimeMs;
    parsed = JSON.parse(readFileSync(manifest, 'utf8')) as BundleManifest;
  } catch {
    return { kind: 'absent' };
  }
  for (const [input, hash] of Object.entries(parsed.inputs)) {
    const file = new URL(input, manifest);
    const stat = statSync(file, { throwIfNoEntry: false });
    // A file that is gone was bundled as it was (what imported it changed too, if it mattered).
    if (stat === undefined || stat.mtimeMs <= made) continue;
    if (createHash('sha256').update(readFileSync(file)).digest('base64') !== hash)
      return { kind: 'stale', changed: input };
  }
  return { kind: 'fresh', entry: new URL(parsed.entry, manifest) };
}

/** The client: its bundle when current, else the package (also when running from the sources). */
export async function loadClient(): Promise<ClientModule> {
  const state = bundleState();
  if (state.kind === 'fresh') return (await import(state.entry.href)) as ClientModule;
  return import('@teamchat/client');
}
