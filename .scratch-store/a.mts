import { PGlite, types } from '@electric-sql/pglite';
const t0 = Date.now();
const db = await PGlite.create('/tmp/store-exp/data1', { parsers: { [types.INT8]: (v: string) => Number(v) } });
console.log('open ms', Date.now() - t0);
await db.exec(`create table if not exists m (id bigint generated always as identity primary key, room text, t text, at timestamptz)`);
const r = await db.query(`insert into m (room, t, at) select room, t, to_timestamp(ms / 1000) from unnest($1::text[], $2::text[], $3::float8[]) as u(room, t, ms) returning id, at`, [['a', null], ['x,"y"\\z{}', 'é ok'], [1700000000123, 1700000000456]]);
console.log(r.rows);
console.log((await db.query('select * from m order by id desc limit 2')).rows);
try { await db.query(`select $1::text`, ['a\u0000b']); console.log('nul ok?'); } catch (e) { console.log('nul err', (e as Error).message); }
await db.query('begin'); await db.query('insert into m(t) values ($1)', ['tx']); await db.query('rollback');
console.log((await db.query('select count(*) from m')).rows);
await db.close();
