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
  // Up to 15 characters (sign included) a double is exact: skip the BigInt allocation.
  if (value.length <= 15) {
    const n = Number(value);
    return n >= Number(min) && n <= Number(max);
  }
  const n = BigInt(value);
  return n >= min && n <= max;
};

const digit = (value: string, i: number): number => {
  const c = value.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
};

/**
 * The one `YYYY-MM-DD` validator of dataflow: a real Gregorian calendar date with year ≥ 100
 * (Date.UTC maps years 0-99 to 1900-1999), checked without a regex or a Date round trip since
 * it runs per value on the ingest hot path.
 *
 * @example
 * isIsoDate('2024-02-29'); // true
 * isIsoDate('2026-02-30'); // false
 */
export const isIsoDate = (value: string): boolean => {
  if (value.length !== 10 || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45) return false;
  return validDateDigits(
    digit(value, 0),
    digit(value, 1),
    digit(value, 2),
    digit(value, 3),
    digit(value, 5),
    digit(value, 6),
    digit(value, 8),
    digit(value, 9),
  );
};

function validDateDigits(
  y0: number,
  y1: number,
  y2: number,
  y3: number,
  m0: number,
  m1: number,
  d0: number,
  d1: number,
): boolean {
  if ((y0 | y1 | y2 | y3 | m0 | m1 | d0 | d1) < 0) return false;
  const y = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const m = m0 * 10 + m1;
  const d = d0 * 10 + d1;
  if (y < 100 || m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = m === 2 ? (leap ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
  return d <= days;
}

/** Checks the UTF-8 bytes `b[start, end)` (non-empty, no quotes to undo) without decoding them. */
export type BytesValidator = (b: Uint8Array, start: number, end: number) => boolean;

const byteDigit = (b: Uint8Array, i: number): number => {
  const c = (b[i] as number) - 48;
  return c >= 0 && c <= 9 ? c : -1;
};

const dateBytes: BytesValidator = (b, s, e) =>
  e - s === 10 &&
  b[s + 4] === 45 &&
  b[s + 7] === 45 &&
  validDateDigits(
    byteDigit(b, s),
    byteDigit(b, s + 1),
    byteDigit(b, s + 2),
    byteDigit(b, s + 3),
    byteDigit(b, s + 5),
    byteDigit(b, s + 6),
    byteDigit(b, s + 8),
    byteDigit(b, s + 9),
  );

const PLUS = 43;
const MINUS = 45;
const DOT = 46;

/** `^[+-]?\d+$` within [min, max]; long values fall back to the string check (BigInt). */
const intBytes =
  (type: ColumnType, min: number, max: number): BytesValidator =>
  (b, s, e) => {
    if (e - s > 15)
      return validators[type](Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1'));
    let i = s;
    const sign = b[i];
    const negative = sign === MINUS;
    if (negative || sign === PLUS) i++;
    if (i >= e) return false;
    let n = 0;
    for (; i < e; i++) {
      const c = (b[i] as number) - 48;
      if (c < 0 || c > 9) return false;
      n = n * 10 + c;
    }
    if (negative) n = -n;
    return n >= min && n <= max;
  };

/** `^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$` */
const numericBytes: BytesValidator = (b, s, e) => {
  let i = s;
  if (b[i] === PLUS || b[i] === MINUS) i++;
  let digits = 0;
  while (i < e && byteDigit(b, i) >= 0) {
    i++;
    digits++;
  }
  if (i < e && b[i] === DOT) {
    i++;
    while (i < e && byteDigit(b, i) >= 0) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return false;
  if (i < e && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    if (i < e && (b[i] === PLUS || b[i] === MINUS)) i++;
    const from = i;
    while (i < e && byteDigit(b, i) >= 0) i++;
    if (i === from) return false;
  }
  return i === e;
};

const bytesValidators: Partial<Record<ColumnType, BytesValidator>> = {
  integer: intBytes('integer', -2147483648, 2147483647),
  int: intBytes('int', -2147483648, 2147483647),
  smallint: intBytes('smallint', -32768, 32767),
  bigint: intBytes('bigint', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  numeric: numericBytes,
  decimal: numericBytes,
  date: dateBytes,
};

/**
 * A check of `type` that works on undecoded bytes (same answers as {@link valueValidator}), for
 * the types where that is exact and cheap; undefined for the others.
 */
export function bytesValidator(type: ColumnType): BytesValidator | undefined {
  return bytesValidators[type];
}

const validTimestamp = (value: string, requireZone: boolean): boolean => {
  const m = TS_RE.exec(value);
  if (!m || !isIsoDate(m[1] ?? '')) return false;
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
  date: isIsoDate,
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

/** The check of non-empty values of `type` (callers treat the empty string as NULL). */
export function valueValidator(type: ColumnType): (value: string) => boolean {
  return validators[type];
}

/**
 * The PostgreSQL type of a declared column type: the name itself, except `double`, which
 * PostgreSQL spells `double precision` (a bare `double` is error 42704 at CREATE TABLE).
 *
 * @example
 * postgresType('double'); // 'double precision'
 * postgresType('date');   // 'date'
 */
export function postgresType(type: ColumnType | (string & {})): string {
  return type.trim() === 'double' ? 'double precision' : type;
}
