/**
 * Bundles one module through one of the client bundle's esbuild plugins (scripts/*.mjs), as
 * scripts/bundle-tui.mjs does, and imports the result: tests compare it with the original module.
 *
 * @example
 * const patched = await importBundled(diffFile, ansiDiffShortcut, dir, 'diff');
 * patched.diffAnsiCodes(from, to);
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

/** The bundled module's exports; throws when the plugin warned (the package changed shape). */
export async function importBundled(
  entry: string,
  plugin: Plugin,
  outDir: string,
  name: string,
): Promise<Record<string, unknown>> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    plugins: [plugin],
  });
  if (result.warnings.length > 0) throw new Error(`${plugin.name}: ${result.warnings.map((w) => w.text).join('; ')}`);
  const out = path.join(outDir, `${name}.mjs`);
  writeFileSync(out, result.outputFiles[0].text);
  return (await import(pathToFileURL(out).href)) as Record<string, unknown>;
}
