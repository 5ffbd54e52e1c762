import utils from 'pg/lib/utils.js';
const n = 1000;
const arr = (f: (i: number) => unknown) => Array.from({ length: n }, (_, i) => f(i));
const params = [arr(i => `bench-${i%10}`), arr(i => `user${i%50}`), arr(() => null), arr(i => `benchmark message number ${i} with some words`), arr(() => false), arr(() => Date.now())];
for (let k = 0; k < 50; k++) params.map((p) => (utils as any).prepareValue(p));
let t = performance.now(); for (let k = 0; k < 100; k++) params.map((p) => (utils as any).prepareValue(p)); console.log('prepareValue ms', (performance.now() - t) / 100);
