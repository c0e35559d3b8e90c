import { temporalType } from './infer.js';
import type { ColumnSchema, RecordColumnType } from './manifest.js';

const INT4_MIN = -2147483648;
const INT4_MAX = 2147483647;

/**
 * The type one JSON value asks for, or `undefined` for null/missing (which only makes the column
 * nullable). JSON strings are text unless they are ISO dates or timestamps: `"42"` stays text.
 *
 * @example
 * valueType(12); // 'integer'
 * valueType('2024-05-01T10:00:00Z'); // 'timestamptz'
 * valueType({ a: 1 }); // 'jsonb'
 */
export function valueType(value: unknown): RecordColumnType | undefined {
  switch (typeof value) {
    case 'number':
      if (Number.isInteger(value)) {
        if (value >= INT4_MIN && value <= INT4_MAX) return 'integer';
        return Number.isSafeInteger(value) ? 'bigint' : 'numeric';
      }
      return 'numeric';
    case 'bigint':
      return value >= -(2n ** 63n) && value < 2n ** 63n ? 'bigint' : 'numeric';
    case 'boolean':
      return 'boolean';
    case 'string':
      return temporalType(value) ?? 'text';
    case 'object':
      return value === null ? undefined : 'jsonb';
    default:
      return undefined;
  }
}

const NUMBERS: readonly RecordColumnType[] = ['integer', 'bigint', 'numeric'];
const TIMES: readonly RecordColumnType[] = ['date', 'timestamp', 'timestamptz'];

/**
 * The narrowest type holding values of both types: integer → bigint → numeric,
 * date → timestamp → timestamptz; any other mix is text.
 *
 * @example
 * widenType('integer', 'numeric'); // 'numeric'
 * widenType('date', 'timestamptz'); // 'timestamptz'
 * widenType('boolean', 'integer'); // 'text'
 */
export function widenType(a: RecordColumnType, b: RecordColumnType): RecordColumnType {
  if (a === b) return a;
  for (const family of [NUMBERS, TIMES]) {
    const i = family.indexOf(a);
    const j = family.indexOf(b);
    if (i >= 0 && j >= 0) return family[Math.max(i, j)] as RecordColumnType;
  }
  return 'text';
}

const DECLARED: Record<string, RecordColumnType> = {
  int: 'integer',
  int2: 'integer',
  int4: 'integer',
  integer: 'integer',
  smallint: 'integer',
  bigint: 'bigint',
  int8: 'bigint',
  numeric: 'numeric',
  decimal: 'numeric',
  real: 'numeric',
  float: 'numeric',
  float4: 'numeric',
  float8: 'numeric',
  double: 'numeric',
  'double precision': 'numeric',
  bool: 'boolean',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  timestamptz: 'timestamptz',
  'timestamp with time zone': 'timestamptz',
  json: 'jsonb',
  jsonb: 'jsonb',
};

/**
 * The record column type closest to a declared (PostgreSQL) type: `numeric(12,2)` → numeric,
 * `json` → jsonb; types outside the record set (uuid, varchar(20), ...) → text. The declared
 * text itself is kept in {@link ColumnSchema.declaredType}.
 *
 * @example
 * declaredRecordType('NUMERIC(12,2)'); // 'numeric'
 */
export function declaredRecordType(declared: string): RecordColumnType {
  const base = declared
    .trim()
    .toLowerCase()
    .replace(/\s*\(.*\)\s*$/, '');
  return DECLARED[base] ?? 'text';
}

interface ColumnStats {
  type: RecordColumnType | undefined;
  /** Records that had a non-null value. */
  present: number;
}

/**
 * One streaming pass over the records of a partition (constant memory per column): the type of
 * every top-level key, widened across records, and whether it is nullable (null or missing in
 * some record). Declared types win and are marked `declared`.
 *
 * @example
 * const schema = new RecordSchemaInferrer();
 * schema.add({ id: 1, at: '2024-05-01T00:00:00Z' });
 * schema.add({ id: 3_000_000_000 });
 * schema.columns({}); // id bigint (not null), at timestamptz (nullable)
 */
export class RecordSchemaInferrer {
  private readonly stats = new Map<string, ColumnStats>();
  private records = 0;

  add(record: Readonly<Record<string, unknown>>): void {
    this.records++;
    for (const key of Object.keys(record)) {
      let s = this.stats.get(key);
      if (s === undefined) {
        s = { type: undefined, present: 0 };
        this.stats.set(key, s);
      }
      const t = valueType(record[key]);
      if (t === undefined) continue;
      s.present++;
      s.type = s.type === undefined ? t : widenType(s.type, t);
    }
  }

  /**
   * The schema, in first-seen key order, declared columns first-seen or appended when no record
   * had them. A column with no non-null value is text.
   */
  columns(declared: Readonly<Record<string, string>> = {}): ColumnSchema[] {
    const names = [...this.stats.keys()];
    for (const name of Object.keys(declared)) if (!this.stats.has(name)) names.push(name);
    return names.map((name) => {
      const s = this.stats.get(name);
      const nullable = (s?.present ?? 0) < this.records || this.records === 0;
      const declaredType = Object.hasOwn(declared, name) ? declared[name] : undefined;
      if (declaredType !== undefined) {
        return { name, type: declaredRecordType(declaredType), nullable, declared: true, declaredType };
      }
      return { name, type: s?.type ?? 'text', nullable };
    });
  }
}
