/** Codes of {@link LineageError}. */
export type LineageErrorCode =
  /** `lineage:` config or `OPENLINEAGE_*` env that cannot be used (bad URL, unknown transport). */
  | 'BAD_CONFIG'
  /** A transport could not deliver an event (HTTP status, network error, file write). */
  | 'EMIT_FAILED'
  /** The lineage backend did not answer within the transport's timeout. */
  | 'EMIT_TIMEOUT'
  /** A manifest or run-history input to the site generator has the wrong shape. */
  | 'BAD_SITE_INPUT'
  /** The site's files could not be written. */
  | 'SITE_WRITE_FAILED';

/**
 * The one error this package throws. Messages never carry the API key or the URL's credentials.
 *
 * @example
 * try { await transport.send(event); } catch (e) { if (e instanceof LineageError && e.retryable) retry(); }
 */
export class LineageError extends Error {
  override readonly name = 'LineageError';
  readonly code: LineageErrorCode;
  /** A later attempt may succeed (timeouts, network errors, 429 and 5xx answers). */
  readonly retryable: boolean;
  /** The HTTP status of the backend's answer, when there was one. */
  readonly status?: number;

  constructor(
    code: LineageErrorCode,
    message: string,
    options: { retryable?: boolean; status?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    if (options.status !== undefined) this.status = options.status;
  }
}
