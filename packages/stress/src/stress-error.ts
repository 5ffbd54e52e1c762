/**
 * Errors of the stress tool, with stable codes: `TC_STRESS_BAD_OPTION` and
 * `TC_STRESS_UNREACHABLE` are usage errors (the CLI exits 2), the others are failures.
 *
 * @example
 * throw new StressError('TC_STRESS_UNREACHABLE', 'cannot reach localhost:5555: connect ECONNREFUSED');
 */
export type StressErrorCode =
  'TC_STRESS_BAD_OPTION' | 'TC_STRESS_UNREACHABLE' | 'TC_STRESS_NO_WORKERS' | 'TC_STRESS_SCRIPT_FAILED';

export class StressError extends Error {
  constructor(
    readonly code: StressErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StressError';
  }

  /** True for errors caused by the caller's arguments (exit code 2 in the CLI). */
  get isUsageError(): boolean {
    return this.code === 'TC_STRESS_BAD_OPTION' || this.code === 'TC_STRESS_UNREACHABLE';
  }
}
