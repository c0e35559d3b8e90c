/** Every failure code `@dataflow/warehouse` raises; stable, matched by callers and the CLI. */
export type WarehouseErrorCode =
  | 'BAD_IDENTIFIER'
  | 'IDENTIFIER_TOO_LONG'
  | 'INVALID_OPTIONS'
  | 'NOT_COMMITTED'
  | 'BAD_MANIFEST'
  | 'HEADER_MISMATCH'
  | 'ROW_COUNT_MISMATCH'
  | 'SCHEMA_DRIFT'
  | 'NULL_KEY'
  | 'DUPLICATE_KEY'
  | 'TOO_MANY_REJECTS'
  | 'LOCK_TIMEOUT'
  | 'COPY_FAILED'
  | 'CONNECTION_LOST'
  | 'QUERY_FAILED'
  | 'BAD_FILE'
  | 'ABORTED';

/**
 * A row named by position, never by value: its part file (lake key), its 1-based data record
 * number in that file, and the physical line it starts on (header = line 1) when it was
 * resolved. `group` numbers the repeated key values of a DUPLICATE_KEY error (1..): rows with
 * the same `group` share one key value.
 */
export interface RowRef {
  file: string;
  record: number;
  line?: number;
  group?: number;
}

/** Context a warehouse error may carry; never row values, parameters or secrets. */
export interface WarehouseErrorContext {
  retryable?: boolean;
  table?: string;
  file?: string;
  line?: number;
  column?: string;
  sqlState?: string;
  /** NULL_KEY / DUPLICATE_KEY: the first offending rows, by position. */
  rows?: readonly RowRef[];
  cause?: unknown;
}

/**
 * The one error class of `@dataflow/warehouse`. `code` is stable; `sqlState` carries the
 * PostgreSQL SQLSTATE when the server raised the underlying error.
 *
 * @example
 * try { await loadPartition(pool, opts); }
 * catch (e) { if (e instanceof WarehouseError && e.retryable) scheduleRetry(); }
 */
export class WarehouseError extends Error {
  override readonly name = 'WarehouseError';
  readonly code: WarehouseErrorCode;
  readonly retryable: boolean;
  readonly table?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: string;
  readonly sqlState?: string;
  readonly rows?: readonly RowRef[];

  constructor(code: WarehouseErrorCode, message: string, context: WarehouseErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    this.retryable = context.retryable ?? false;
    if (context.table !== undefined) this.table = context.table;
    if (context.file !== undefined) this.file = context.file;
    if (context.line !== undefined) this.line = context.line;
    if (context.column !== undefined) this.column = context.column;
    if (context.sqlState !== undefined) this.sqlState = context.sqlState;
    if (context.rows !== undefined) this.rows = context.rows;
  }
}

/** SQLSTATE of a pg error, if any. */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Data errors a row can cause during COPY: class 22 (data exception: bad input syntax, out of
 * range, wrong column count) and class 23 (integrity: NOT NULL, CHECK). Those are the rows
 * worth isolating by bisection; anything else is an environment failure.
 */
export function isDataError(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

/** Connection-level failures: the backend went away, was terminated, or the socket broke. */
export function isConnectionError(error: unknown): boolean {
  const state = sqlStateOf(error);
  if (state !== undefined) {
    // 08: connection exception; 57P01-57P05: admin shutdown / crash / cannot connect now / idle timeout.
    return state.startsWith('08') || state.startsWith('57P');
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(code))
    return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection .*closed|Client has encountered a connection error/i.test(message);
}

/** Wraps an unknown failure from PostgreSQL into a WarehouseError, keeping SQLSTATE and cause. */
export function toWarehouseError(
  error: unknown,
  fallback: WarehouseErrorCode,
  what: string,
  context: Omit<WarehouseErrorContext, 'cause' | 'sqlState' | 'retryable'> = {},
): WarehouseError {
  if (error instanceof WarehouseError) return error;
  const sqlState = sqlStateOf(error);
  if ((error as { name?: string } | null)?.name === 'AbortError') {
    return new WarehouseError('ABORTED', `${what}: aborted`, { ...context, cause: error });
  }
  if (isConnectionError(error)) {
    return new WarehouseError('CONNECTION_LOST', `${what}: connection to PostgreSQL lost`, {
      ...context,
      retryable: true,
      cause: error,
      ...(sqlState ? { sqlState } : {}),
    });
  }
  // 40001 serialization failure, 40P01 deadlock, 55P03 lock not available, 57014 query canceled.
  const retryable =
    sqlState !== undefined && ['40001', '40P01', '55P03', '57014', '53300'].includes(sqlState);
  return new WarehouseError(fallback, `${what} failed${sqlState ? ` (SQLSTATE ${sqlState})` : ''}`, {
    ...context,
    retryable,
    cause: error,
    ...(sqlState ? { sqlState } : {}),
  });
}

/**
 * Whether `error` is a {@link WarehouseError} (with that `code`, when given): a typed narrowing instead
 * of a cast to `{ code }`.
 *
 * @example
 * if (isWarehouseError(error, 'NOT_COMMITTED')) return; // nothing to load yet
 */
export function isWarehouseError(error: unknown, code?: WarehouseErrorCode): error is WarehouseError {
  return error instanceof WarehouseError && (code === undefined || error.code === code);
}
