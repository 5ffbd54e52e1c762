import { startPostgres } from '../test/helpers/postgres-cluster.js';
import { openDatabase, migrate } from '../packages/server/src/store/index.js';
import pg from 'pg';
const h = await startPostgres();
if (!('url' in h)) throw new Error('no pg');
const d = await openDatabase({ kind: 'postgres', url: h.url }); await migrate(d); await d.close();
const c = new pg.Client(h.url); await c.connect();
const n = 1000;
const arr = (f: (i: number) => unknown) => Array.from({ length: n }, (_, i) => f(i));
const params = [arr(i => `bench-${i%10}`), arr(i => `user${i%50}`), arr(() => null), arr(i => `benchmark message number ${i} with some words`), arr(() => false), arr(() => Date.now())];
const q = `INSERT INTO messages (room, sender, recipient, text, action, created_at)
    SELECT u.room, u.sender, u.recipient, u.text, u.action, to_timestamp(u.ms / 1000.0)
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::float8[]) WITH ORDINALITY AS u(room, sender, recipient, text, action, ms, ord)
    ORDER BY u.ord RETURNING id`;
for (let i = 0; i < 5; i++) await c.query(q, params);
let t = performance.now(); for (let i = 0; i < 20; i++) await c.query(q, params); console.log('pg client direct ms/batch', (performance.now() - t) / 20);
const r = await c.query('EXPLAIN (ANALYZE, BUFFERS) ' + q, params); console.log(r.rows.map((x: any) => x['QUERY PLAN']).join('\n'));
t = performance.now(); for (let i = 0; i < 20; i++) await c.query('select $1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::float8[]', params); console.log('roundtrip params only ms', (performance.now() - t) / 20);
await c.end(); await h.stop();
