/**
 * Preloaded into the shared generator (`node --import ./bench/chatload-lag.mjs chatload.mjs ...`) by
 * `npm run bench -- fanout-vs-inspircd`, to measure the generator's own lag without changing it.
 *
 * chatload times a message from the moment its send timer fires to the moment it reads the
 * delivery. While its one thread works through a burst of deliveries, its timers fire late, and
 * every late client then waits a full period again: sends bunch up, and so do the deliveries that
 * come back. How late its send timers fire (and how bunched its sends are) says how much of a
 * latency figure is the generator's own queue, and it differs by how a server shapes its output.
 *
 * Measured: each send timer's lateness (fired minus due, ms), and the sends counted per 10 ms from
 * the first send to the last: a steady generator sends in every bin. Printed as one line on stderr
 * when chatload exits: `chatload-lag {"timers":...}`.
 *
 * It recognises the send timers by their function's name (`tick` in chatload.mjs); if chatload is
 * changed so that none is seen, it says so (`timers: 0`) rather than guessing.
 */
import { performance } from 'node:perf_hooks';

const BIN_MS = 10;
const realSetTimeout = globalThis.setTimeout;
/** Lateness of each send timer, ms. */
const lateness = [];
/** When each send timer fired (performance.now()). */
const fired = [];

globalThis.setTimeout = function setTimeoutMeasured(callback, delay, ...args) {
  if (typeof callback !== 'function' || callback.name !== 'tick') return realSetTimeout(callback, delay, ...args);
  const due = performance.now() + Math.max(1, Number(delay) || 0);
  return realSetTimeout(
    function measured(...callArgs) {
      const now = performance.now();
      lateness.push(now - due);
      fired.push(now);
      return callback.apply(this, callArgs);
    },
    delay,
    ...args,
  );
};

function summary() {
  if (lateness.length === 0) return { timers: 0 };
  const sorted = [...lateness].sort((a, b) => a - b);
  const at = (p) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 10) / 10;
  const first = fired[0];
  const bins = new Array(Math.max(1, Math.ceil((fired[fired.length - 1] - first) / BIN_MS))).fill(0);
  for (const t of fired) bins[Math.min(bins.length - 1, Math.floor((t - first) / BIN_MS))]++;
  const mean = fired.length / bins.length;
  const sd = Math.sqrt(bins.reduce((s, c) => s + (c - mean) ** 2, 0) / bins.length);
  return {
    timers: lateness.length,
    lateP50Ms: at(0.5),
    lateP99Ms: at(0.99),
    lateMaxMs: Math.round(sorted[sorted.length - 1] * 10) / 10,
    binMs: BIN_MS,
    emptyBinsPct: Math.round((bins.filter((c) => c === 0).length / bins.length) * 1000) / 10,
    binCv: Math.round((sd / mean) * 100) / 100,
  };
}

// chatload ends with process.exit(0) right after printing its result.
const realExit = process.exit;
process.exit = function exitWithLag(code) {
  process.stderr.write(`chatload-lag ${JSON.stringify(summary())}\n`);
  return realExit.call(process, code);
};
