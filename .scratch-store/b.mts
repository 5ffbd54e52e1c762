import { startPostgres } from '../test/helpers/postgres-cluster.js';
const t0 = Date.now();
const h = await startPostgres();
console.log(h, Date.now() - t0);
if ('url' in h) { await h.stopServer(); console.log('stopped'); await h.startServer(); console.log('restarted', Date.now()-t0); await h.stop(); console.log('done', Date.now()-t0); }
