export { createServer, type ServerOptions, type ListenInfo, type TeamchatServer } from './create-server.js';
export { openDatabase, type Database } from './store/database.js';
export type { StoreConfig } from './store/message-store.js';
export { VERSION } from './version.js';
export { startIdleCollector } from './runtime/idle-collector.js';
// Metrics (issue 4): `teamchat export-metrics` reads snapshots directly when no server runs.
export * from './metrics/index.js';
export { StoreError, type StoreErrorCode } from './store/store-error.js';
