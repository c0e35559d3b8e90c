/** Every code a {@link QualityError} can carry. */
export type QualityErrorCode =
  /** A test config value is malformed (severity, limit, store_failures_limit...). */
  | 'INVALID_CONFIG'
  /** A `warn_if` / `error_if` expression is not `<op> <number>`. */
  | 'INVALID_THRESHOLD'
  /** The generic test name is neither built in nor defined in the registry. */
  | 'UNKNOWN_TEST'
  /** A generic test argument is missing or has the wrong type. */
  | 'INVALID_ARGUMENT'
  /** `define()` was called twice for the same test name. */
  | 'DUPLICATE_TEST'
  /** The caller's AbortSignal fired. */
  | 'ABORTED'
  /** The database could not be reached or dropped the connection (retryable). */
  | 'CONNECTION_FAILED';

/** Context fields and `cause` of a {@link QualityError}. */
export interface QualityErrorOptions {
  /** Name of the test being compiled or run, when known. */
  test?: string;
  /** PostgreSQL SQLSTATE of the underlying error, when there is one. */
  sqlstate?: string;
  retryable?: boolean;
  cause?: unknown;
}

const RETRYABLE_BY_DEFAULT: ReadonlySet<QualityErrorCode> = new Set(['CONNECTION_FAILED']);

/**
 * The one error class of `@dataflow/quality`. Messages never contain row values.
 *
 * @example
 * try { compileGenericTest(inv, ctx); } catch (e) { if (e instanceof QualityError && e.code === 'UNKNOWN_TEST') ... }
 */
export class QualityError extends Error {
  override readonly name = 'QualityError';
  readonly code: QualityErrorCode;
  readonly retryable: boolean;
  readonly test?: string;
  readonly sqlstate?: string;

  constructor(code: QualityErrorCode, message: string, options: QualityErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    if (options.test !== undefined) this.test = options.test;
    if (options.sqlstate !== undefined) this.sqlstate = options.sqlstate;
  }
}

/**
 * Whether `error` is a {@link QualityError} (with that `code`, when given): a typed narrowing instead
 * of a cast to `{ code }`.
 *
 * @example
 * if (isQualityError(error, 'CONNECTION_FAILED')) retryLater();
 */
export function isQualityError(error: unknown, code?: QualityErrorCode): error is QualityError {
  return error instanceof QualityError && (code === undefined || error.code === code);
}
