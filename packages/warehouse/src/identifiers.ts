import { WarehouseError } from './errors.js';

/** PostgreSQL's NAMEDATALEN - 1: longer identifiers are silently truncated by the server. */
export const MAX_IDENTIFIER_BYTES = 63;

/**
 * Quotes one SQL identifier. Rejects names PostgreSQL would truncate (> 63 bytes) or cannot
 * hold (empty, NUL), so two long names can never collide after truncation.
 *
 * @example
 * quoteIdent('order "id"'); // => "order ""id"""
 */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new WarehouseError('BAD_IDENTIFIER', 'identifier must be a non-empty string');
  }
  if (name.includes('\u0000')) {
    throw new WarehouseError('BAD_IDENTIFIER', 'identifier must not contain NUL');
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IDENTIFIER_BYTES) {
    throw new WarehouseError(
      'IDENTIFIER_TOO_LONG',
      `identifier of ${bytes} bytes exceeds PostgreSQL's ${MAX_IDENTIFIER_BYTES}-byte limit: ${JSON.stringify(name.slice(0, 20))}…`,
      { column: name },
    );
  }
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Schema-qualified, quoted relation name; unqualified (resolved by search_path) without schema.
 *
 * @example
 * qualify('raw', 'orders'); // => "raw"."orders"
 */
export function qualify(schema: string | undefined, name: string): string {
  return schema === undefined ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** Truncates a string to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateBytes(value: string, maxBytes: number): string {
  let out = '';
  let used = 0;
  for (const ch of value) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (used + size > maxBytes) break;
    out += ch;
    used += size;
  }
  return out;
}

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
