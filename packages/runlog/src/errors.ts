import { classifyPgError, sqlStateOf } from '@dataflow/pg';

/** Every failure the run log reports carries one of these codes. */
export type RunlogErrorCode = 'INVALID_SCHEMA_NAME' | 'MIGRATION_FAILED' | 'QUERY_FAILED' | 'RUN_NOT_FOUND';

/**
 * Base error of `@dataflow/runlog`. Messages never carry bound values or secrets; the SQLSTATE
 * of the underlying PostgreSQL error (when any) is in `sqlState`.
 *
 * @example
 * try { await runLog.migrate(); } catch (e) { if (e instanceof RunlogError && e.retryable) retry(); }
 */
export class RunlogError extends Error {
  override readonly name: string = 'RunlogError';
  readonly code: RunlogErrorCode;
  /** Retryable by `@dataflow/pg`'s one SQLSTATE table (connection loss, conflicts, cancels). */
  readonly retryable: boolean;
  readonly sqlState: string | undefined;

  constructor(
    code: RunlogErrorCode,
    message: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.sqlState = options.cause === undefined ? undefined : sqlStateOf(options.cause);
    this.retryable =
      options.retryable ?? (options.cause !== undefined && classifyPgError(options.cause).retryable);
  }
}

/**
 * Narrows an unknown error to {@link RunlogError}, optionally of one code.
 *
 * @example
 * if (isRunlogError(error, 'RUN_NOT_FOUND')) console.error('unknown run id');
 */
export function isRunlogError(error: unknown, code?: RunlogErrorCode): error is RunlogError {
  return error instanceof RunlogError && (code === undefined || error.code === code);
}
