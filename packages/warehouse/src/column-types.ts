import { quoteIdent } from '@dataflow/pg';
import { WarehouseError } from './errors.js';

/** Accepts a declared column type such as `integer`, `numeric(12,2)`, `timestamp with time zone`, `text[]`. */
const TYPE_PATTERN =
  /^[a-z_][a-z0-9_]*( [a-z_][a-z0-9_]*)*( ?\(\d+( ?, ?\d+)?\))?( [a-z_][a-z0-9_]*)*(\[\])*$/i;

/** Validates a declared PostgreSQL type so it can be spliced into DDL; throws INVALID_OPTIONS otherwise. */
export function checkTypeName(type: string, column: string): string {
  const trimmed = type.trim();
  if (!TYPE_PATTERN.test(trimmed)) {
    throw new WarehouseError(
      'INVALID_OPTIONS',
      `column type for ${quoteIdent(column)} is not a plain type name`,
      {
        column,
      },
    );
  }
  return trimmed;
}

/** Type names the configuration documents that PostgreSQL spells differently. */
const TYPE_ALIASES: Readonly<Record<string, string>> = { double: 'double precision' };

/**
 * A declared column type as PostgreSQL knows it (`double` is `double precision`), validated
 * so it can be spliced into DDL.
 *
 * @example
 * declaredType('double', 'amount'); // 'double precision'
 */
export function declaredType(type: string, column: string): string {
  const checked = checkTypeName(type, column);
  return TYPE_ALIASES[checked.toLowerCase()] ?? checked;
}
