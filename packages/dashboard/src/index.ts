/**
 * The teamchat metrics dashboard: static assets served by the server, and the CSV writer that the
 * page, the server and `teamchat export-metrics` share.
 */
export { dashboardAssets, type DashboardAsset } from './dashboard-assets.js';
export {
  csvHeader,
  csvRooms,
  csvRow,
  snapshotsToCsv,
  ROOM_COLUMNS,
  TOTAL_COLUMNS,
  type CsvSnapshot,
} from '../src/public/metrics-csv.js'; // the same path from src/ and dist/: the build emits no JavaScript assets
