/**
 * Waiting in end-to-end tests without sleeping as synchronisation. A test waits for something to
 * happen with `until` (a predicate over frames, log lines, counters or HTTP answers, checked until
 * it holds). The only fixed pauses left are deliberate, and say why: `quietPeriod` for "nothing
 * happens within this window" (an assertion of absence: there is no event to wait for), and
 * `pace` for sending slower on purpose (staying under a rate, or putting bytes in separate packets).
 *
 * @example
 * await until(() => server.stderr().includes('closing sleeper'), 'the sleeper to be cut');
 * const text = await until(async () => { const t = await fetchText(url); return t.includes('x') ? t : undefined; }, '/metrics to count x');
 * await quietPeriod(2_000, 'an unanswered ping would have dropped it by now');
 */

export interface UntilOptions {
  /** Fail after this long (default 15 s). */
  timeoutMs?: number;
  /** How often to check again (default 20 ms); a check that does I/O may ask for less often. */
  everyMs?: number;
  /** Added to the timeout error: what was seen last. */
  describe?: () => string;
}

/**
 * Resolves with the first value of `check` that is neither `undefined` nor `false` (so a boolean
 * check resolves with `true`), checking again every `everyMs`; rejects with `what` after `timeoutMs`.
 * An error thrown by `check` fails the wait at once.
 */
export async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  options: UntilOptions = {},
): Promise<T> {
  const { timeoutMs = 15_000, everyMs = 20 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const seen = options.describe?.();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen ? `; last seen:\n${seen}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A deliberate wait during which the test expects nothing to happen (a connection is not dropped,
 * no message arrives). There is no event to wait for, so time is the measure; `why` says what the
 * window proves and why it is long enough.
 */
export async function quietPeriod(ms: number, why: string): Promise<void> {
  if (why.trim() === '') throw new Error('quietPeriod needs a reason');
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * A deliberate gap between two sends: pacing a sender under a rate limit, or keeping bytes in
 * separate packets. It synchronises nothing; `why` says what the gap is for.
 */
export async function pace(ms: number, why: string): Promise<void> {
  if (why.trim() === '') throw new Error('pace needs a reason');
  await new Promise((r) => setTimeout(r, ms));
}
