import { createHash } from 'node:crypto';
import { PgError } from './errors.js';

/** PostgreSQL's NAMEDATALEN - 1: longer identifiers are silently truncated by the server. */
export const MAX_IDENTIFIER_BYTES = 63;

/**
 * Byte length of an identifier as PostgreSQL counts it (UTF-8).
 *
 * @example
 * identifierBytes('é'); // 2
 */
export function identifierBytes(name: string): number {
  return Buffer.byteLength(name, 'utf8');
}

/**
 * Quotes one SQL identifier (`a"b` → `"a""b"`). Rejects names PostgreSQL would truncate
 * (over 63 bytes) or cannot hold (empty, NUL), so two long names never collide after truncation.
 * The only identifier quoting in dataflow.
 *
 * @example
 * quoteIdent('order "id"'); // '"order ""id"""'
 */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new PgError('BAD_IDENTIFIER', 'identifier must be a non-empty string');
  }
  if (name.includes('\u0000')) {
    throw new PgError('BAD_IDENTIFIER', 'identifier must not contain NUL', { identifier: name.slice(0, 20) });
  }
  const bytes = identifierBytes(name);
  if (bytes > MAX_IDENTIFIER_BYTES) {
    throw new PgError(
      'IDENTIFIER_TOO_LONG',
      `identifier of ${bytes} bytes exceeds PostgreSQL's ${MAX_IDENTIFIER_BYTES}-byte limit: ${JSON.stringify(name.slice(0, 20))}…`,
      { identifier: name.slice(0, 20) },
    );
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Schema-qualified, quoted relation name; unqualified (resolved by search_path) without a schema.
 *
 * @example
 * qualify('raw', 'orders');      // '"raw"."orders"'
 * qualify(undefined, 'orders');  // '"orders"'
 */
export function qualify(schema: string | undefined, name: string): string {
  return schema === undefined ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/**
 * A SQL string literal, for compile-time constants only (values from data are always bound
 * parameters). Doubles quotes; backslashes are literal under standard_conforming_strings.
 *
 * @example
 * quoteLiteral("it's"); // "'it''s'"
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) throw new PgError('BAD_IDENTIFIER', 'a SQL literal must not contain NUL');
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * Cuts a string to at most `maxBytes` UTF-8 bytes without splitting a character.
 *
 * @example
 * truncateBytes('ééé', 4); // 'éé'
 */
export function truncateBytes(value: string, maxBytes: number): string {
  if (identifierBytes(value) <= maxBytes) return value;
  let out = '';
  let used = 0;
  for (const ch of value) {
    const size = identifierBytes(ch);
    if (used + size > maxBytes) break;
    out += ch;
    used += size;
  }
  return out;
}

/**
 * A name built from a base and a suffix that always fits in 63 bytes: the base is shortened and,
 * when it had to be, a 6-hex hash of the full base keeps two long bases apart. The suffix is never
 * cut (it carries run tokens that sweeps parse).
 *
 * @example
 * shortName('orders', '__df_tmp_ab12cd34');           // 'orders__df_tmp_ab12cd34'
 * shortName('x'.repeat(80), '__df_tmp_ab12cd34').length; // 63
 */
export function shortName(base: string, suffix: string): string {
  const room = MAX_IDENTIFIER_BYTES - identifierBytes(suffix);
  if (room < 8)
    throw new PgError('IDENTIFIER_TOO_LONG', `suffix ${JSON.stringify(suffix)} leaves no room for a name`);
  if (identifierBytes(base) <= room) return base + suffix;
  const hash = createHash('sha256').update(base).digest('hex').slice(0, 6);
  return `${truncateBytes(base, room - 7)}_${hash}${suffix}`;
}
