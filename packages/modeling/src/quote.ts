/** Byte length of an identifier as PostgreSQL counts it (NAMEDATALEN - 1 = 63). */
export const MAX_IDENTIFIER_BYTES = 63;

export function identifierBytes(name: string): number {
  return Buffer.byteLength(name, 'utf8');
}

/**
 * Quotes one identifier: `a"b` → `"a""b"`. The only place this package quotes identifiers.
 *
 * @example
 * quoteIdent('a"b'); // '"a""b"'
 */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * `"schema"."name"`
 *
 * @example
 * qualify('analytics', 'orders'); // '"analytics"."orders"'
 */
export function qualify(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** A SQL string literal, for compile-time constants only (values from data are always bound). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Cuts a name to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateBytes(name: string, maxBytes: number): string {
  if (identifierBytes(name) <= maxBytes) return name;
  let out = '';
  for (const ch of name) {
    if (identifierBytes(out + ch) > maxBytes) break;
    out += ch;
  }
  return out;
}
