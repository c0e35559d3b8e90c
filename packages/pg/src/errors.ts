/** Codes of {@link PgError}: misuse of the helpers, never a server failure (those keep their SQLSTATE). */
export type PgErrorCode = 'BAD_IDENTIFIER' | 'IDENTIFIER_TOO_LONG' | 'BAD_SAVEPOINT';

/**
 * The one error this package throws: an identifier PostgreSQL would truncate or reject, or a
 * helper used wrongly. Server errors pass through untouched (classify them with
 * {@link classifyPgError}).
 *
 * @example
 * try { quoteIdent('x'.repeat(64)); } catch (e) { if (isPgError(e, 'IDENTIFIER_TOO_LONG')) console.log(e.identifier); }
 */
export class PgError extends Error {
  override readonly name = 'PgError';
  readonly code: PgErrorCode;
  /** The first 20 characters of the identifier at fault, when there is one. */
  readonly identifier?: string;

  constructor(code: PgErrorCode, message: string, options: { identifier?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.identifier !== undefined) this.identifier = options.identifier;
  }
}

/**
 * Narrows an unknown error to {@link PgError}, optionally of one code.
 *
 * @example
 * if (isPgError(error, 'IDENTIFIER_TOO_LONG')) return exitCodes.config;
 */
export function isPgError(error: unknown, code?: PgErrorCode): error is PgError {
  return error instanceof PgError && (code === undefined || error.code === code);
}
