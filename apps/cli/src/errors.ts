/** Every failure the CLI itself reports. */
export type CliErrorCode =
  | 'USAGE'
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'NO_INTERVAL'
  | 'EMBEDDED_POSTGRES'
  | 'NOTHING_TO_DO'
  | 'TESTS_FAILED'
  | 'BUILD_FAILED'
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
  readonly exitCode: number;

  constructor(code: CliErrorCode, message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.exitCode = options.exitCode ?? DEFAULT_EXIT[code];
    this.retryable = this.exitCode === 1;
  }
}

const DEFAULT_EXIT: Record<CliErrorCode, number> = {
  USAGE: 2,
  CONFIG_NOT_FOUND: 2,
  CONFIG_INVALID: 2,
  NO_INTERVAL: 2,
  EMBEDDED_POSTGRES: 1,
  NOTHING_TO_DO: 99,
  TESTS_FAILED: 3,
  BUILD_FAILED: 1,
  INIT_TARGET_NOT_EMPTY: 2,
  ABORTED: 130,
};
