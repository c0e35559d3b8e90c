import { parseIsoDate } from './interval.js';

/** Declared column types that CSV values are validated against (empty string = NULL, always valid). */
export type ColumnType =
  | 'text'
  | 'varchar'
  | 'integer'
  | 'int'
  | 'smallint'
  | 'bigint'
  | 'numeric'
  | 'decimal'
  | 'real'
  | 'double'
  | 'float'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'uuid'
  | 'json';

const INT_RE = /^[+-]?\d+$/;
const NUMERIC_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const FLOAT_RE = /^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?(Infinity|inf)|NaN)$/i;
const BOOL_RE = /^(true|false|t|f|yes|no|y|n|1|0|on|off)$/i;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TS_RE =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

const intInRange = (value: string, min: bigint, max: bigint): boolean => {
  if (!INT_RE.test(value)) return false;
  const n = BigInt(value);
  return n >= min && n <= max;
};

const validTimestamp = (value: string, requireZone: boolean): boolean => {
  const m = TS_RE.exec(value);
  if (!m || parseIsoDate(m[1] ?? '') === undefined) return false;
  if (m[2] !== undefined && (Number(m[2]) > 23 || Number(m[3]) > 59 || Number(m[4] ?? 0) > 60)) return false;
  return requireZone ? m[5] !== undefined : true;
};

const validators: Record<ColumnType, (value: string) => boolean> = {
  text: () => true,
  varchar: () => true,
  integer: (v) => intInRange(v, -2147483648n, 2147483647n),
  int: (v) => intInRange(v, -2147483648n, 2147483647n),
  smallint: (v) => intInRange(v, -32768n, 32767n),
  bigint: (v) => intInRange(v, -9223372036854775808n, 9223372036854775807n),
  numeric: (v) => NUMERIC_RE.test(v),
  decimal: (v) => NUMERIC_RE.test(v),
  real: (v) => FLOAT_RE.test(v),
  double: (v) => FLOAT_RE.test(v),
  float: (v) => FLOAT_RE.test(v),
  boolean: (v) => BOOL_RE.test(v),
  date: (v) => parseIsoDate(v) !== undefined,
  timestamp: (v) => validTimestamp(v, false),
  timestamptz: (v) => validTimestamp(v, false),
  uuid: (v) => UUID_RE.test(v),
  json: (v) => {
    try {
      JSON.parse(v);
      return true;
    } catch {
      return false;
    }
  },
};

/** All supported type names. */
export const COLUMN_TYPES = Object.keys(validators) as ColumnType[];

/**
 * True when `value` is acceptable for `type`; the empty string (NULL) is always acceptable.
 *
 * @example
 * isValidValue('integer', '42'); // true
 * isValidValue('date', '2026-02-30'); // false
 */
export function isValidValue(type: ColumnType, value: string): boolean {
  return value === '' || validators[type](value);
}

/** True when `type` is a supported column type name. */
export function isColumnType(type: string): type is ColumnType {
  return Object.hasOwn(validators, type);
}
