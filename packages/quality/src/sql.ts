import { isPgError, quoteLiteral as pgQuoteLiteral, quoteIdent } from '@dataflow/pg';
import { QualityError } from './errors.js';

/** @dataflow/pg's quoting rule, with its misuse errors reported as this package's INVALID_ARGUMENT. */
function asQualityError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (isPgError(error)) throw new QualityError('INVALID_ARGUMENT', error.message, { cause: error });
    throw error;
  }
}

/**
 * Quotes one identifier for PostgreSQL (`order id` → `"order id"`) with `@dataflow/pg`'s rule
 * (non-empty, no NUL, at most 63 bytes).
 *
 * @example
 * quoteIdentifier('order id'); // '"order id"'
 */
export function quoteIdentifier(name: string): string {
  return asQualityError(() => quoteIdent(name));
}

/**
 * Quotes a value as a SQL string literal. Test SQL is plain text stored with each result (no bind
 * parameters), so values listed in a test (accepted_values) are inlined as standard-conforming literals.
 *
 * @example
 * quoteLiteral("it's"); // "'it''s'"
 */
export function quoteLiteral(value: string): string {
  return asQualityError(() => pgQuoteLiteral(value));
}

/** Removes trailing semicolons and whitespace so a query can be wrapped in a subquery. */
export function stripTrailingSemicolons(sql: string): string {
  return sql.replace(/[\s;]+$/u, '');
}
