export { createServer, type ServerOptions, type ListenInfo, type TeamchatServer } from './create-server.js';
export { openDatabase, type Database } from './store/database.js';
export type { StoreConfig } from './store/message-store.js';
export { VERSION } from './version.js';
