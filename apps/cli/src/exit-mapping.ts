import { type IngestErrorCode, isIngestError } from '@dataflow/ingest/lake';
import type { ModelingErrorCode } from '@dataflow/modeling';
import { classifyPgError, isPgError, type PgErrorCode } from '@dataflow/pg';
import type { QualityErrorCode } from '@dataflow/quality';
import { isRunlogError, type RunlogErrorCode } from '@dataflow/runlog';
import { isWarehouseError, type WarehouseErrorCode } from '@dataflow/warehouse';
import { isCliError } from './errors.js';

import { EXIT, type ExitCode } from './exit-codes.js';

/** How a library error code maps: a fixed exit code, or 1 / 4 by the error's `retryable`. */
type ExitRule = ExitCode | 'retry-or-bad-input';

// One Record per package, keyed by its code union: a new code without an exit mapping fails the
// typecheck here instead of silently exiting 1.
const INGEST_EXIT: Record<IngestErrorCode, ExitRule> = {
  INVALID_OPTIONS: EXIT.USAGE,
  INVALID_INTERVAL: EXIT.USAGE,
  TEMPLATE: EXIT.USAGE,
  INVALID_URL: EXIT.USAGE,
  INVALID_KEY: EXIT.USAGE,
  // The day's file is not there (yet): the upstream may still deliver it.
  NOT_FOUND: EXIT.RUNTIME,
  STORE: EXIT.RUNTIME,
  SOURCE: EXIT.RUNTIME,
  EMPTY_FILE: EXIT.BAD_INPUT,
  BAD_HEADER: EXIT.BAD_INPUT,
  BAD_ROW: EXIT.BAD_INPUT,
  BAD_ENCODING: EXIT.BAD_INPUT,
  BAD_GZIP: EXIT.BAD_INPUT,
  BAD_VALUE: EXIT.BAD_INPUT,
  TOO_MANY_REJECTS: EXIT.BAD_INPUT,
  // A 4xx other than 408/429 will not fix itself.
  HTTP_STATUS: 'retry-or-bad-input',
  CONNECTION: EXIT.RUNTIME,
  TIMEOUT: EXIT.RUNTIME,
  BAD_RESPONSE: EXIT.BAD_INPUT,
  PAGINATION_LOOP: EXIT.BAD_INPUT,
  // More pages than the source allows: the source changed or the limit is wrong, not a retry.
  MAX_PAGES: EXIT.BAD_INPUT,
  // Another ingest of the partition holds its lease: a later retry gets it.
  LOCK_TIMEOUT: EXIT.RUNTIME,
  BAD_MANIFEST: EXIT.BAD_INPUT,
  // The AWS SDK was left out of the install: installing it is the fix, not a retry.
  MISSING_DEPENDENCY: EXIT.USAGE,
  ABORTED: EXIT.SIGINT,
};

const WAREHOUSE_EXIT: Record<WarehouseErrorCode, ExitRule> = {
  BAD_IDENTIFIER: EXIT.USAGE,
  IDENTIFIER_TOO_LONG: EXIT.USAGE,
  INVALID_OPTIONS: EXIT.USAGE,
  NOT_COMMITTED: EXIT.NOTHING_TO_DO,
  BAD_MANIFEST: EXIT.BAD_INPUT,
  HEADER_MISMATCH: EXIT.BAD_INPUT,
  ROW_COUNT_MISMATCH: EXIT.BAD_INPUT,
  SCHEMA_DRIFT: EXIT.BAD_INPUT,
  NULL_KEY: EXIT.BAD_INPUT,
  DUPLICATE_KEY: EXIT.BAD_INPUT,
  TOO_MANY_REJECTS: EXIT.BAD_INPUT,
  LOCK_TIMEOUT: EXIT.RUNTIME,
  COPY_FAILED: EXIT.RUNTIME,
  CONNECTION_LOST: EXIT.RUNTIME,
  QUERY_FAILED: EXIT.RUNTIME,
  BAD_FILE: EXIT.BAD_INPUT,
  ABORTED: EXIT.SIGINT,
};

const MODELING_EXIT: Record<ModelingErrorCode, ExitRule> = {
  PROJECT_NOT_FOUND: EXIT.USAGE,
  PROJECT_CONFIG_INVALID: EXIT.USAGE,
  COMPILE_FAILED: EXIT.USAGE,
  NULL_UNIQUE_KEY: EXIT.BAD_INPUT,
  DUPLICATE_UNIQUE_KEY: EXIT.BAD_INPUT,
  AUDIT_FAILED: EXIT.TESTS_FAILED,
  SCHEMA_CHANGED: EXIT.USAGE,
  DEPS_FAILED: EXIT.RUNTIME,
  SNAPSHOT_INVALID: EXIT.USAGE,
  UNIT_TEST_INVALID: EXIT.USAGE,
  INVALID_SELECTOR: EXIT.USAGE,
  STATE_INVALID: EXIT.USAGE,
  UNSUPPORTED_CONFIG: EXIT.USAGE,
  HOOK_FAILED: EXIT.RUNTIME,
  ABORTED: EXIT.SIGINT,
};

const QUALITY_EXIT: Record<QualityErrorCode, ExitRule> = {
  INVALID_CONFIG: EXIT.USAGE,
  INVALID_THRESHOLD: EXIT.USAGE,
  UNKNOWN_TEST: EXIT.USAGE,
  INVALID_ARGUMENT: EXIT.USAGE,
  DUPLICATE_TEST: EXIT.USAGE,
  ABORTED: EXIT.SIGINT,
  CONNECTION_FAILED: EXIT.RUNTIME,
};

const RUNLOG_EXIT: Record<RunlogErrorCode, ExitRule> = {
  INVALID_SCHEMA_NAME: EXIT.USAGE,
  MIGRATION_FAILED: EXIT.RUNTIME,
  QUERY_FAILED: EXIT.RUNTIME,
  RUN_NOT_FOUND: EXIT.RUNTIME,
};

const PG_EXIT: Record<PgErrorCode, ExitRule> = {
  BAD_IDENTIFIER: EXIT.USAGE,
  IDENTIFIER_TOO_LONG: EXIT.USAGE,
  BAD_SAVEPOINT: EXIT.RUNTIME,
};

/** S3 error names that a retry cannot fix: the bucket or the credentials are wrong. */
const CONFIG_S3_ERRORS = new Set([
  'NoSuchBucket',
  'InvalidBucketName',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'CredentialsProviderError',
]);

/** The error and its causes, outermost first (bounded: a cause chain may be cyclic). */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e !== undefined && e !== null && chain.length < 8; ) {
    chain.push(e);
    e = e instanceof Error ? e.cause : undefined;
  }
  return chain;
}

/**
 * Whether a failure is a configuration problem wearing a runtime error: a wrong PostgreSQL
 * password or database name, a missing S3 bucket or bad credentials anywhere in the cause chain.
 *
 * @example
 * isConfigurationFailure(Object.assign(new Error('password authentication failed'), { code: '28P01' })); // true
 */
export function isConfigurationFailure(error: unknown): boolean {
  return causeChain(error).some((e) => {
    // @dataflow/pg's family: 28xxx (bad password, no such role) and 3D000 (no such database).
    if (classifyPgError(e).family === 'authentication') return true;
    const { name } = e as { name?: unknown };
    return typeof name === 'string' && CONFIG_S3_ERRORS.has(name);
  });
}

function apply(rule: ExitRule, retryable: boolean): ExitCode {
  if (rule === 'retry-or-bad-input') return retryable ? EXIT.RUNTIME : EXIT.BAD_INPUT;
  return rule;
}

/**
 * A ModelingError / QualityError, recognised by name and code rather than `instanceof`: such an
 * error exists only once its package was loaded by the command, and `load` / `ingest` must not
 * import modeling and quality just to map their errors (start-up time, issue 13).
 */
function namedLibraryError<C extends string>(
  error: unknown,
  name: 'ModelingError' | 'QualityError',
  table: Record<C, ExitRule>,
): { code: C; retryable: boolean } | undefined {
  if (!(error instanceof Error) || error.name !== name) return undefined;
  const { code, retryable } = error as { code?: unknown; retryable?: unknown };
  return typeof code === 'string' && Object.hasOwn(table, code)
    ? { code: code as C, retryable: retryable === true }
    : undefined;
}

function libraryExit(error: unknown): ExitCode | undefined {
  if (isIngestError(error)) return apply(INGEST_EXIT[error.code], error.retryable);
  if (isWarehouseError(error)) return apply(WAREHOUSE_EXIT[error.code], error.retryable);
  const modeling = namedLibraryError(error, 'ModelingError', MODELING_EXIT);
  if (modeling) return apply(MODELING_EXIT[modeling.code], modeling.retryable);
  const quality = namedLibraryError(error, 'QualityError', QUALITY_EXIT);
  if (quality) return apply(QUALITY_EXIT[quality.code], quality.retryable);
  if (isRunlogError(error)) return apply(RUNLOG_EXIT[error.code], error.retryable);
  if (isPgError(error)) return apply(PG_EXIT[error.code], false);
  return undefined;
}

/**
 * Maps any error to an exit code by family: a CliError carries its own; a configuration problem
 * hidden in a cause (wrong password, missing bucket) is 2; library errors map by their code
 * through the tables above; anything else is a retryable runtime failure. An abort wins.
 *
 * @example
 * exitCodeFor(new WarehouseError('NOT_COMMITTED', '…')) // 99
 */
export function exitCodeFor(error: unknown, abortReason?: unknown): ExitCode {
  if (abortReason !== undefined) return abortReason === 'SIGTERM' ? EXIT.SIGTERM : EXIT.SIGINT;
  if (isCliError(error)) return error.exitCode;
  const mapped = libraryExit(error);
  if (mapped !== EXIT.BAD_INPUT && isConfigurationFailure(error)) return EXIT.USAGE;
  return mapped ?? EXIT.RUNTIME;
}
