// Worker-thread entry of PGliteWorker: registers tsx (the code is TypeScript run from source,
// also under test runners that transform only their own thread), then runs the worker's main.
import { register } from 'tsx/esm/api';

register();
await import('./pglite-worker-main.ts');
