import { IngestError } from './errors.js';

/** How nested objects of API records land: one `jsonb` column (default) or `parent__child` columns. */
export type NestedMode = 'jsonb' | { flatten: number };

/** The separator of flattened column names (dlt's). */
export const FLATTEN_SEPARATOR = '__';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function flattenInto(
  out: Record<string, unknown>,
  prefix: string,
  value: Record<string, unknown>,
  depth: number,
): void {
  for (const [key, child] of Object.entries(value)) {
    const name = prefix === '' ? key : `${prefix}${FLATTEN_SEPARATOR}${key}`;
    // An empty object has no child columns: it stays one jsonb value.
    if (depth > 0 && isPlainObject(child) && Object.keys(child).length > 0) {
      flattenInto(out, name, child, depth - 1);
    } else {
      out[name] = child;
    }
  }
}

/**
 * Flattens nested objects into `parent__child` keys, `depth` levels down; objects deeper than
 * that, and arrays at any level, stay JSON values (jsonb columns). Depth 0 returns the record's
 * own keys. A flattened name equal to an existing top-level key takes the later value (record
 * key order).
 *
 * @example
 * flattenRecord({ id: 1, user: { name: 'a', geo: { lat: 1 } }, tags: ['x'] }, 1);
 * // { id: 1, user__name: 'a', user__geo: { lat: 1 }, tags: ['x'] }
 */
export function flattenRecord(record: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  flattenInto(out, '', record, depth);
  return out;
}

/**
 * The record as it lands under `mode`: itself for `jsonb`, else {@link flattenRecord}.
 *
 * @example
 * shapeRecord({ a: { b: 1 } }, { flatten: 2 }); // { a__b: 1 }
 */
export function shapeRecord(record: Record<string, unknown>, mode: NestedMode): Record<string, unknown> {
  return mode === 'jsonb' ? record : flattenRecord(record, mode.flatten);
}

/**
 * Checks a `nested` option: `'jsonb'` (also when absent) or `{ flatten: n }` with a whole n ≥ 0.
 *
 * @example
 * nestedMode(undefined); // 'jsonb'
 */
export function nestedMode(input: NestedMode | undefined): NestedMode {
  if (input === undefined || input === 'jsonb') return 'jsonb';
  const depth = (input as { flatten?: unknown } | null)?.flatten;
  if (typeof depth === 'number' && Number.isInteger(depth) && depth >= 0) return { flatten: depth };
  throw new IngestError('INVALID_OPTIONS', "nested must be 'jsonb' or { flatten: <depth ≥ 0> }");
}
