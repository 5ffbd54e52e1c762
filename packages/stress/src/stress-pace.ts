/**
 * How fast a stress client spends a server's flood budget. A teamchat server charges every command
 * (packages/server/src/transport/command-cost.ts) from a token bucket per connection (default:
 * burst 5, 2 tokens a second); a command over budget waits in the server, in order, so a client
 * that spends faster than the refill sees its latency grow without bound. The stress tool's
 * defaults stay well inside a default server's budget; `stressPace` tells whether a chosen pace does.
 *
 * Each action of a client is one of: a room message (1), a private message (1), or a room switch
 * (a `part`, 0.5, then a `join`, 1). It sends no pings. At the start it says `hello` (2) with its
 * first room inside it.
 *
 * @example
 * const pace = stressPace({ intervalMs: 500, switchChance: 0.05 });
 * pace.tokensPerSec; // 2.05: over a default server's 2 a second
 * pace.maxRatePerClient; // 1.95
 */

/** A default server's flood budget (`teamchat serve --flood-burst 5 --flood-rate 2`). */
export const DEFAULT_SERVER_FLOOD = Object.freeze({ burst: 5, ratePerSecond: 2 });

/** What the commands the stress tool sends cost a teamchat server (mirrors the server's command-cost.ts). */
export const COMMAND_COST = Object.freeze({ hello: 2, msg: 1, pm: 1, join: 1, part: 0.5 });

/**
 * Default actions per second per client: 1.5, about 77% of a default server's flood budget with the
 * default switch chance, so jittered waits and room switches never make a command wait (a
 * simulation of an hour at this pace delays none; at 1.9 a second, 9% of commands wait, up to 2.8 s).
 */
export const DEFAULT_RATE_PER_CLIENT = 1.5;
export const DEFAULT_INTERVAL_MS = 1000 / DEFAULT_RATE_PER_CLIENT;
/** Default chance that an action is a room switch, and a private message. */
export const DEFAULT_SWITCH_CHANCE = 0.05;
export const DEFAULT_PM_CHANCE = 0.1;

export interface StressPace {
  /** Actions per second per client. */
  ratePerClient: number;
  /** Flood tokens per second one client spends, on average. */
  tokensPerSec: number;
  /** Tokens spent right after connecting (the hello). */
  startTokens: number;
  /** The budget compared with (a default server's, unless given). */
  budget: { burst: number; ratePerSecond: number };
  /** True when the average spend stays under the budget's refill and the burst covers the start. */
  withinBudget: boolean;
  /** The highest actions per second per client that stay within the budget, at this switch chance. */
  maxRatePerClient: number;
  /** A pace with headroom for jitter (about 75% of the budget), rounded down to 0.1. */
  suggestedRatePerClient: number;
}

/** The flood spend of one stress client at this pace (switch chance default 0.05). */
export function stressPace(options: {
  intervalMs: number;
  switchChance?: number;
  budget?: { burst: number; ratePerSecond: number };
}): StressPace {
  const budget = options.budget ?? DEFAULT_SERVER_FLOOD;
  const switchChance = options.switchChance ?? DEFAULT_SWITCH_CHANCE;
  const ratePerClient = 1000 / options.intervalMs;
  // A private message costs what a room message costs; a switch sends part + join instead.
  const perAction = (1 - switchChance) * COMMAND_COST.msg + switchChance * (COMMAND_COST.part + COMMAND_COST.join);
  const tokensPerSec = ratePerClient * perAction;
  const startTokens = COMMAND_COST.hello;
  return {
    ratePerClient,
    tokensPerSec,
    startTokens,
    budget,
    withinBudget:
      tokensPerSec < budget.ratePerSecond && startTokens + COMMAND_COST.part + COMMAND_COST.join <= budget.burst,
    maxRatePerClient: Math.floor((budget.ratePerSecond / perAction) * 100) / 100,
    suggestedRatePerClient: Math.max(0.1, Math.floor((budget.ratePerSecond * 0.77 * 10) / perAction) / 10),
  };
}

/** Two decimals, trailing zeros dropped: 2.05, 1.5, 2. */
export function formatRate(n: number): string {
  return (Math.round(n * 100) / 100).toString();
}

/**
 * A warning before a run whose pace is over a default server's flood budget; null when it fits.
 *
 * @example
 * const warning = paceWarning({ intervalMs: 500 }); // "each client will spend 2.05 ..."
 */
export function paceWarning(options: { intervalMs: number; switchChance?: number }): string | null {
  const pace = stressPace(options);
  if (pace.withinBudget) return null;
  const { budget } = pace;
  return (
    `each client will spend ${formatRate(pace.tokensPerSec)} flood tokens a second (a message 1, a room switch 1.5), ` +
    `but a default server refills ${budget.ratePerSecond} a second (burst ${budget.burst}): its commands will wait in the server and latency will grow. ` +
    `Use --rate ${formatRate(pace.suggestedRatePerClient)} or less, ` +
    `or start the server with --flood-rate ${Math.ceil(pace.tokensPerSec * 1.3)} (or --no-flood-control)`
  );
}
