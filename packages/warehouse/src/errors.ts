import { classifyPgError, isDataError, isPgError, sqlStateOf } from '@dataflow/pg';

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

/** Longest cause text kept in a one-line message. */
const CAUSE_CHARS = 200;

/**
 * Why something failed, for a one-line message: the cause's own message (first line, bounded)
 * and its SQLSTATE or errno code. A data error (class 22/23) names only its SQLSTATE and
 * column: PostgreSQL quotes the offending value in those messages, and row values never go
 * into ours.
 *
 * @example
 * describeCause(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
 * // 'connect ECONNREFUSED 127.0.0.1:5432'
 */
export function describeCause(error: unknown): string {
  const sqlState = sqlStateOf(error);
  if (isDataError(error)) {
    const column = (error as { column?: unknown }).column;
    return `data error SQLSTATE ${sqlState}${typeof column === 'string' ? ` in column ${JSON.stringify(column)}` : ''}`;
  }
  const raw = error instanceof Error ? error.message : String(error);
  const first = (raw.split('\n')[0] ?? '').trim();
  const text = first.length > CAUSE_CHARS ? `${first.slice(0, CAUSE_CHARS)}…` : first;
  const code = sqlState ?? (error as { code?: unknown } | null)?.code;
  const suffix =
    typeof code === 'string' && !text.includes(code) ? ` (${sqlState ? 'SQLSTATE ' : ''}${code})` : '';
  return `${text || 'unknown error'}${suffix}`;
}

/** Wraps an unknown failure from PostgreSQL into a WarehouseError, keeping SQLSTATE, cause and why. */
export function toWarehouseError(
  error: unknown,
  fallback: WarehouseErrorCode,
  what: string,
  context: Omit<WarehouseErrorContext, 'cause' | 'sqlState' | 'retryable'> = {},
): WarehouseError {
  if (error instanceof WarehouseError) return error;
  if (isPgError(error)) {
    const code = error.code === 'BAD_SAVEPOINT' ? 'INVALID_OPTIONS' : error.code;
    return new WarehouseError(code, error.message, { ...context, cause: error });
  }
  const sqlState = sqlStateOf(error);
  if ((error as { name?: string } | null)?.name === 'AbortError') {
    return new WarehouseError('ABORTED', `${what}: aborted`, { ...context, cause: error });
  }
  const failure = classifyPgError(error);
  if (failure.connectionLost) {
    return new WarehouseError('CONNECTION_LOST', `${what}: connection lost: ${describeCause(error)}`, {
      ...context,
      retryable: true,
      cause: error,
      ...(sqlState ? { sqlState } : {}),
    });
  }
  // 40001 serialization failure, 40P01 deadlock, 55P03 lock not available, 57014 query canceled.
  const retryable =
    sqlState !== undefined && ['40001', '40P01', '55P03', '57014', '53300'].includes(sqlState);
  const code = (error as { code?: unknown } | null)?.code;
  // Missing or unreadable lake objects are the lake's problem, not the database's.
  const fromLake = typeof code === 'string' && ['NOT_FOUND', 'ENOENT', 'NoSuchKey'].includes(code);
  return new WarehouseError(fromLake ? 'BAD_FILE' : fallback, `${what} failed: ${describeCause(error)}`, {
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
