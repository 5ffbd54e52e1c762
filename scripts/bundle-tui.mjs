#!/usr/bin/env node
/**
 * Bundles the terminal client (@teamchat/client's build, with Ink, React, chalk, client-core,
 * protocol, ...) into a few ES modules in packages/client/dist/bundle/, so that `teamchat connect`
 * loads a handful of files instead of ~600 (issue #10: the full UI in 0.5 s). Run by
 * `npm run build` after `tsc -b`; it reads the tsc output, never the sources.
 *
 * - Code splitting keeps the start-up order of the unbundled client: index.js (connection,
 *   line mode) loads without Ink and React; the UI chunks load on demand, after the boot frame.
 * - React and Ink run their production builds (NODE_ENV is defined as "production").
 * - Yoga (Ink's layout engine) is handed its wasm bytes instead of fetch()ing its data: URL,
 *   which would load Node's fetch implementation (undici) at start-up.
 * - inputs.json lists the workspace files the bundle was made from, with their content hashes:
 *   `teamchat connect` uses the bundle only while they are unchanged (after a `tsc -b` without
 *   this step it runs packages/client/dist/ itself, never stale code).
 *
 * Deterministic (content-hashed chunk names, sorted inputs) and fast (~1-2 s). Without esbuild
 * (`npm install --omit=dev`) it says so and exits 0: the client then runs unbundled.
 *
 * @example
 * node scripts/bundle-tui.mjs            # after tsc -b
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ansiDiffShortcut } from './ansi-diff-shortcut.mjs';
import { narrowTextWidth } from './string-width-narrow.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const clientDist = path.join(root, 'packages/client/dist');
const entry = path.join(clientDist, 'index.js');
const outdir = path.join(clientDist, 'bundle');

/** What packages/cli/src/commands/connect-client.ts compares a changed input with. */
const contentHash = (data) => createHash('sha256').update(data).digest('base64');

/** Optional, not installed: React DevTools (Ink loads it only with DEV=true), ws's native add-ons. */
const EXTERNAL = ['react-devtools-core', 'bufferutil', 'utf-8-validate'];

/**
 * Yoga's loader fetch()es its own base64 data: URL when no wasmBinary is given; in Node that
 * loads undici, a third of the UI's load time. Hand it the bytes instead (an Emscripten option).
 * Left as it is, with a warning, when the package no longer looks as expected.
 */
const yogaWasmBinary = {
  name: 'yoga-wasm-binary',
  setup(build) {
    build.onLoad({ filter: /[\\/]yoga-layout[\\/]dist[\\/]src[\\/]index\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const binaries = path.join(path.dirname(args.path), '../binaries/yoga-wasm-base64-esm.js');
      const base64 = existsSync(binaries)
        ? /"data:application\/octet-stream;base64,([A-Za-z0-9+/=]+)"/.exec(readFileSync(binaries, 'utf8'))?.[1]
        : undefined;
      if (!base64 || !source.includes('await loadYoga()')) {
        return {
          contents: source,
          warnings: [{ text: 'yoga-layout changed: its wasm is loaded through fetch() (slower start-up)' }],
        };
      }
      return {
        contents: source.replace(
          'await loadYoga()',
          `await loadYoga({ wasmBinary: Buffer.from(${JSON.stringify(base64)}, 'base64') })`,
        ),
      };
    });
  },
};

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('bundle-tui: esbuild is not installed (dev dependency); teamchat connect runs unbundled');
  process.exit(0);
}
if (!existsSync(entry)) {
  console.error(`bundle-tui: ${path.relative(root, entry)} is missing: run tsc -b first`);
  process.exit(1);
}

const started = Date.now();
// Built beside, then swapped in: a client starting meanwhile sees the old bundle or the new one.
const staging = path.join(clientDist, `.bundle-${process.pid}`);
rmSync(staging, { recursive: true, force: true });
try {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { index: entry },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    define: { 'process.env.NODE_ENV': '"production"' },
    // CommonJS packages (React, signal-exit, ...) call require() for Node's built-ins.
    banner: {
      js: "import { createRequire as __teamchatCreateRequire } from 'node:module';\nconst require = __teamchatCreateRequire(import.meta.url);",
    },
    plugins: [yogaWasmBinary, narrowTextWidth, ansiDiffShortcut],
    metafile: true,
    logLevel: 'warning',
  });
  // The workspace files (not node_modules: `npm install` rebuilds), by path from the bundle and content hash.
  const inputs = Object.fromEntries(
    Object.keys(result.metafile.inputs)
      .filter((file) => !file.split('/').includes('node_modules'))
      .sort()
      .map((file) => [
        path.relative(outdir, path.join(root, file)).split(path.sep).join('/'),
        contentHash(readFileSync(path.join(root, file))),
      ]),
  );
  // Written last: its mtime is the bundle's.
  writeFileSync(path.join(staging, 'inputs.json'), `${JSON.stringify({ entry: 'index.js', inputs }, null, 1)}\n`);
  rmSync(outdir, { recursive: true, force: true });
  renameSync(staging, outdir);
  const files = Object.keys(result.metafile.outputs).length;
  const ms = Date.now() - started;
  console.log(
    `bundle-tui: ${path.relative(root, outdir)}/ (${files} files from ${Object.keys(result.metafile.inputs).length} modules) in ${ms} ms`,
  );
} finally {
  rmSync(staging, { recursive: true, force: true });
}
