/**
 * Makes a value from node-pg safe for JSON: Dates become ISO strings, bigint becomes a string,
 * non-finite numbers become strings, bytea becomes `\x<hex>` (PostgreSQL's text form), and objects
 * with `toISOString` (pg's interval) use it.
 *
 * @example
 * toJsonSafe({ n: 10n, d: new Date(0), b: Buffer.from('hi') });
 * // { n: '10', d: '1970-01-01T00:00:00.000Z', b: '\\x6869' }
 */
export function toJsonSafe(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (Array.isArray(value)) return value.map(toJsonSafe);
  if (typeof value === 'object') {
    const iso = (value as { toISOString?: unknown }).toISOString;
    if (typeof iso === 'function') return String(iso.call(value));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSafe(v)]));
  }
  return String(value);
}

/** One failing row, JSON-safe, with the key columns first. */
export function _sampleRow(
  row: Record<string, unknown>,
  keyColumns: readonly string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keyColumns) if (Object.hasOwn(row, key)) out[key] = toJsonSafe(row[key]);
  for (const [key, value] of Object.entries(row)) if (!Object.hasOwn(out, key)) out[key] = toJsonSafe(value);
  return out;
}
