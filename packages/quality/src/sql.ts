import { QualityError } from './errors.js';

/**
 * Quotes one identifier for PostgreSQL (`order id` → `"order id"`). The single place this package
 * quotes identifiers.
 *
 * @example
 * quoteIdentifier('order id'); // '"order id"'
 */
export function quoteIdentifier(name: string): string {
  if (name.length === 0 || name.includes('\0')) {
    throw new QualityError('INVALID_ARGUMENT', 'identifier must be non-empty and contain no NUL character');
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Quotes a value as a SQL string literal. Test SQL is plain text stored with each result (no bind
 * parameters), so values listed in a test (accepted_values) are inlined as standard-conforming literals.
 *
 * @example
 * quoteLiteral("it's"); // "'it''s'"
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) {
    throw new QualityError('INVALID_ARGUMENT', 'a literal cannot contain a NUL character');
  }
  return `'${value.replaceAll("'", "''")}'`;
}

/** Removes trailing semicolons and whitespace so a query can be wrapped in a subquery. */
export function stripTrailingSemicolons(sql: string): string {
  return sql.replace(/[\s;]+$/u, '');
}
