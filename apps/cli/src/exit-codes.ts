/** Process exit codes; Airflow maps 99 to "skipped" with `skip_on_exit_code=99`. */
export const EXIT = {
  OK: 0,
  /** Runtime failure worth a retry: connection, timeout, upstream 5xx, a failed model. */
  RUNTIME: 1,
  /** Usage or configuration error; a retry will not help. */
  USAGE: 2,
  /** Data tests failed (severity error). */
  TESTS_FAILED: 3,
  /** Bad input data (malformed CSV, schema drift, duplicate keys); a retry will not help. */
  BAD_INPUT: 4,
  /** Nothing to do: no committed partition for the date. */
  NOTHING_TO_DO: 99,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

/** Every exit code the CLI uses. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * Run status stored in run_history for an exit code.
 *
 * @example
 * statusForExit(EXIT.NOTHING_TO_DO); // 'skipped'
 */
export function statusForExit(exitCode: number): 'success' | 'failed' | 'aborted' | 'skipped' {
  if (exitCode === EXIT.OK) return 'success';
  if (exitCode === EXIT.NOTHING_TO_DO) return 'skipped';
  if (exitCode === EXIT.SIGINT || exitCode === EXIT.SIGTERM) return 'aborted';
  return 'failed';
}
