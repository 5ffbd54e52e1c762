export {
  runStress,
  checkReachable,
  type StressOptions,
  type StressHooks,
  type StressReport,
  type StressTick,
} from './stress-run.js';
export { StressError, type StressErrorCode } from './stress-error.js';
export { formatTick, formatProgress, formatSummary, formatCsvRow, CSV_HEADER } from './stress-format.js';
export { LatencyHistogram, type LatencySummaryMs } from './latency-histogram.js';
export { expectedDeliveries } from './expected-deliveries.js';
export { playScript, DEMO_SCRIPT, type ScriptLine, type ScriptStep } from './scripted-conversation.js';
export type { ShowEvent } from './shard-types.js';
export {
  stressPace,
  paceWarning,
  formatRate,
  COMMAND_COST,
  DEFAULT_INTERVAL_MS,
  DEFAULT_PM_CHANCE,
  DEFAULT_RATE_PER_CLIENT,
  DEFAULT_SERVER_FLOOD,
  DEFAULT_SWITCH_CHANCE,
  type StressPace,
} from './stress-pace.js';
export {
  diagnose,
  FLOOD_LATENCY_MS,
  SLOW_LATENCY_MS,
  type StressNote,
  type StressNoteCode,
} from './stress-diagnosis.js';
