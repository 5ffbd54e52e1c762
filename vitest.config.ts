import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** Tests run the TypeScript sources; the processes they start (bin/teamchat) run the build. */
const source = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@teamchat\/server\/time-range$/, replacement: source('server/src/metrics/time-range.ts') },
      ...['protocol', 'client-core', 'server', 'client', 'stress', 'dashboard'].map((name) => ({
        find: new RegExp(`^@teamchat/${name}$`),
        replacement: source(`${name}/src/index.ts`),
      })),
    ],
  },
  test: {
    globalSetup: ['./test/global-setup.ts'],
    include: ['packages/*/src/**/*.test.{ts,tsx}', 'test/**/*.test.ts'],
    // End-to-end tests start real server processes; keep the machine (2 cores) from thrashing.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
