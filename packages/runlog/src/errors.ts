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
  readonly retryable: boolean;
  readonly sqlState: string | undefined;

  constructor(
    code: RunlogErrorCode,
    message: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    const sqlState = (options.cause as { code?: unknown } | undefined)?.code;
    this.sqlState = typeof sqlState === 'string' && /^[0-9A-Z]{5}$/.test(sqlState) ? sqlState : undefined;
    this.retryable = options.retryable ?? isRetryableCause(options.cause);
  }
}

/** Connection-level failures (refused, reset, timeouts, server shutting down) are worth a retry. */
function isRetryableCause(cause: unknown): boolean {
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return false;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(code))
    return true;
  // 08xxx connection exceptions, 57P0x operator intervention (shutdown), 53xxx insufficient resources, 40001/40P01.
  return /^(08|53|57P0)/.test(code) || code === '40001' || code === '40P01';
}

/**
 * Whether `error` is a {@link RunlogError} (with that `code`, when given): a typed narrowing instead
 * of a cast to `{ code }`.
 *
 * @example
 * if (isRunlogError(error, 'MIGRATION_FAILED') && error.retryable) retryLater();
 */
export function isRunlogError(error: unknown, code?: RunlogErrorCode): error is RunlogError {
  return error instanceof RunlogError && (code === undefined || error.code === code);
}
