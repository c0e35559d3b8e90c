import { CliError } from './errors.js';

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
  /** Nothing to do: no committed partition for the date, `--source` matched nothing. */
  NOTHING_TO_DO: 99,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

const BAD_INPUT_CODES = new Set([
  // ingest
  'EMPTY_FILE',
  'BAD_HEADER',
  'BAD_ROW',
  'BAD_ENCODING',
  'BAD_GZIP',
  'BAD_VALUE',
  'BAD_RESPONSE',
  'PAGINATION_LOOP',
  // warehouse
  'HEADER_MISMATCH',
  'ROW_COUNT_MISMATCH',
  'SCHEMA_DRIFT',
  'NULL_KEY',
  'DUPLICATE_KEY',
  'BAD_FILE',
  'BAD_MANIFEST',
  // both
  'TOO_MANY_REJECTS',
  // modeling (unique_key violations in incremental models)
  'NULL_UNIQUE_KEY',
  'DUPLICATE_UNIQUE_KEY',
]);

const USAGE_CODES = new Set([
  'INVALID_SELECTOR',
  'INVALID_OPTIONS',
  'INVALID_INTERVAL',
  'TEMPLATE',
  'INVALID_URL',
  'INVALID_KEY',
  'BAD_IDENTIFIER',
  'IDENTIFIER_TOO_LONG',
  'PROJECT_NOT_FOUND',
  'PROJECT_CONFIG_INVALID',
  'COMPILE_FAILED',
]);

const SKIP_CODES = new Set(['NOT_COMMITTED']);

/**
 * Maps any error to an exit code by family: a CliError carries its own; library errors map by their
 * stable `code`, then by `retryable`. An abort (signal) wins over everything.
 *
 * @example
 * exitCodeFor(new WarehouseError('NOT_COMMITTED', '…')) // 99
 */
export function exitCodeFor(error: unknown, abortReason?: unknown): number {
  if (abortReason !== undefined) return abortReason === 'SIGTERM' ? EXIT.SIGTERM : EXIT.SIGINT;
  if (error instanceof CliError) return error.exitCode;
  const e = error as { code?: unknown; retryable?: unknown; status?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code === 'ABORTED') return EXIT.SIGINT;
  if (code && SKIP_CODES.has(code)) return EXIT.NOTHING_TO_DO;
  if (code && BAD_INPUT_CODES.has(code)) return EXIT.BAD_INPUT;
  if (code && USAGE_CODES.has(code)) return EXIT.USAGE;
  // A 4xx (other than 408/429) from an API source will not fix itself.
  if (code === 'HTTP_STATUS' && e?.retryable === false) return EXIT.BAD_INPUT;
  return EXIT.RUNTIME;
}

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
