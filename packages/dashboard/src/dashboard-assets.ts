/**
 * The files of the metrics dashboard, by the URL path the server serves them at. The page's own
 * sources live in public/; the charting libraries come from node_modules (resolved with
 * createRequire, so npm's hoisting does not matter). Nothing is fetched from a CDN.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DashboardAsset {
  /** Absolute path of the file on disk. */
  file: string;
  contentType: string;
}

// The assets stay in src/ (the build emits only the TypeScript): the same path from src/ and dist/.
const PUBLIC_DIR = fileURLToPath(new URL('../src/public/', import.meta.url));

const JS = 'text/javascript; charset=utf-8';

/**
 * @example
 * const assets = dashboardAssets();
 * assets.get('/')?.file // .../packages/dashboard/src/public/index.html
 */
export function dashboardAssets(): Map<string, DashboardAsset> {
  const require = createRequire(import.meta.url);
  // chart.js exports only its entry points; its UMD build sits beside the CommonJS entry.
  const chartDist = dirname(require.resolve('chart.js'));
  const zoom = require.resolve('chartjs-plugin-zoom/dist/chartjs-plugin-zoom.min.js');
  const hammer = require.resolve('hammerjs/hammer.min.js');
  const own = (name: string) => join(PUBLIC_DIR, name);
  return new Map<string, DashboardAsset>([
    ['/', { file: own('index.html'), contentType: 'text/html; charset=utf-8' }],
    ['/app.js', { file: own('app.js'), contentType: JS }],
    ['/app.css', { file: own('app.css'), contentType: 'text/css; charset=utf-8' }],
    ['/metrics-csv.js', { file: own('metrics-csv.js'), contentType: JS }],
    ['/snapshot-rooms.js', { file: own('snapshot-rooms.js'), contentType: JS }],
    ['/favicon.svg', { file: own('favicon.svg'), contentType: 'image/svg+xml' }],
    ['/favicon.ico', { file: own('favicon.svg'), contentType: 'image/svg+xml' }],
    ['/vendor/chart.umd.min.js', { file: join(chartDist, 'chart.umd.min.js'), contentType: JS }],
    ['/vendor/chartjs-plugin-zoom.min.js', { file: zoom, contentType: JS }],
    ['/vendor/hammer.min.js', { file: hammer, contentType: JS }],
  ]);
}
