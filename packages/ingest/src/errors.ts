/** Every failure this package reports, as a stable literal code. */
export type IngestErrorCode =
  | 'INVALID_OPTIONS'
  | 'INVALID_INTERVAL'
  | 'TEMPLATE'
  | 'INVALID_URL'
  | 'INVALID_KEY'
  | 'NOT_FOUND'
  | 'STORE'
  | 'SOURCE'
  | 'EMPTY_FILE'
  | 'BAD_HEADER'
  | 'BAD_ROW'
  | 'BAD_ENCODING'
  | 'BAD_GZIP'
  | 'BAD_VALUE'
  | 'TOO_MANY_REJECTS'
  | 'HTTP_STATUS'
  | 'CONNECTION'
  | 'TIMEOUT'
  | 'BAD_RESPONSE'
  | 'PAGINATION_LOOP'
  | 'MAX_PAGES'
  | 'LOCK_TIMEOUT'
  | 'BAD_MANIFEST'
  /** An optional package this feature needs is not installed (the AWS SDK for `s3://`). */
  | 'MISSING_DEPENDENCY'
  | 'ABORTED';

/** Context carried by an {@link IngestError}; never row values or secrets. */
export interface IngestErrorContext {
  retryable?: boolean;
  source?: string;
  /** Redacted file path / URL / object key the error refers to. */
  location?: string;
  /** 1-based physical line of the input (CSV). */
  line?: number;
  /** 1-based page number (API). */
  page?: number;
  column?: string;
  /** HTTP status, when the error came from an HTTP response. */
  status?: number;
  cause?: unknown;
}

/**
 * The one error class of `@dataflow/ingest`. Branch on `code`, never on the message.
 *
 * @example
 * try { await ingestCsv(options); } catch (e) { if (e instanceof IngestError && e.code === 'BAD_ROW') console.log(e.line); }
 */
export class IngestError extends Error {
  override readonly name = 'IngestError';
  readonly code: IngestErrorCode;
  readonly retryable: boolean;
  readonly source?: string;
  readonly location?: string;
  readonly line?: number;
  readonly page?: number;
  readonly column?: string;
  readonly status?: number;

  constructor(code: IngestErrorCode, message: string, context: IngestErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    this.retryable = context.retryable ?? false;
    if (context.source !== undefined) this.source = context.source;
    if (context.location !== undefined) this.location = context.location;
    if (context.line !== undefined) this.line = context.line;
    if (context.page !== undefined) this.page = context.page;
    if (context.column !== undefined) this.column = context.column;
    if (context.status !== undefined) this.status = context.status;
  }
}

/**
 * True for an {@link IngestError} with the given code.
 *
 * @example
 * if (isIngestError(error, 'NOT_FOUND')) return undefined;
 */
export function isIngestError(error: unknown, code?: IngestErrorCode): error is IngestError {
  return error instanceof IngestError && (code === undefined || error.code === code);
}

/** The error to throw when an AbortSignal fired: ours if the reason is ours, else ABORTED. */
export function abortError(signal: AbortSignal, context: IngestErrorContext = {}): IngestError {
  if (signal.reason instanceof IngestError) return signal.reason;
  return new IngestError('ABORTED', 'operation aborted', { ...context, cause: signal.reason });
}
