import type { ColumnSchema, RecordColumnType } from '@dataflow/ingest/lake';

/** The PostgreSQL type each inferred record type lands as, spelled as `format_type` prints it. */
const PG_TYPES: Readonly<Record<RecordColumnType, string>> = {
  integer: 'integer',
  bigint: 'bigint',
  numeric: 'numeric',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
  jsonb: 'jsonb',
  text: 'text',
};

/**
 * The PostgreSQL type of an inferred record column.
 *
 * @example
 * pgTypeOf('timestamptz'); // 'timestamp with time zone'
 */
export function pgTypeOf(type: RecordColumnType): string {
  return PG_TYPES[type];
}

/** The record type a PostgreSQL type (as `format_type` prints it) corresponds to, if any. */
function recordTypeOf(pgType: string): RecordColumnType | undefined {
  const entry = Object.entries(PG_TYPES).find(([, name]) => name === pgType);
  return entry?.[0] as RecordColumnType | undefined;
}

/** Chains along which a column widens without losing values, narrowest first. */
const CHAINS: readonly (readonly RecordColumnType[])[] = [
  ['integer', 'bigint', 'numeric'],
  ['date', 'timestamp', 'timestamptz'],
];

/**
 * What an existing column must become to hold values of `incoming`: undefined when it already
 * can (same type, a wider one of the same chain, or `text`), the wider type of the chain when
 * `incoming` is wider, else `text` (the only type that holds both). A column whose type dataflow
 * did not infer (declared earlier, such as `numeric(12,2)`) is left alone.
 *
 * @example
 * widenedType('integer', 'numeric'); // 'numeric'
 * widenedType('bigint', 'integer'); // undefined
 * widenedType('boolean', 'integer'); // 'text'
 */
export function widenedType(
  existingPgType: string,
  incoming: RecordColumnType,
): RecordColumnType | undefined {
  const existing = recordTypeOf(existingPgType);
  if (existing === undefined || existing === incoming || existing === 'text') return undefined;
  for (const chain of CHAINS) {
    const from = chain.indexOf(existing);
    const to = chain.indexOf(incoming);
    if (from >= 0 && to >= 0) return to > from ? incoming : undefined;
  }
  return 'text';
}

/** A column whose type must change to hold a partition's records. */
export interface TypeChange {
  column: string;
  from: string;
  to: RecordColumnType;
}

/**
 * The type changes a partition's inferred schema asks of the existing columns. Declared columns
 * (the load's `columns` option, or the schema's `declared` flag) never change.
 *
 * @example
 * typeChanges([{ name: 'amount', type: 'numeric', nullable: false }], new Map([['amount', 'integer']]), {});
 * // [{ column: 'amount', from: 'integer', to: 'numeric' }]
 */
export function typeChanges(
  schema: readonly ColumnSchema[],
  existing: ReadonlyMap<string, string>,
  declared: Readonly<Record<string, string>>,
): TypeChange[] {
  const changes: TypeChange[] = [];
  for (const column of schema) {
    const from = existing.get(column.name);
    if (from === undefined || column.declared || declared[column.name] !== undefined) continue;
    const to = widenedType(from, column.type);
    if (to !== undefined) changes.push({ column: column.name, from, to });
  }
  return changes;
}
