/** Column types seed inference can produce (dbt's agate-style inference, PostgreSQL names). */
export type InferredType = 'integer' | 'bigint' | 'numeric' | 'boolean' | 'date' | 'timestamp' | 'text';

const INT4_MIN = -2147483648n;
const INT4_MAX = 2147483647n;
const INT8_MIN = -9223372036854775808n;
const INT8_MAX = 9223372036854775807n;

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/;
const BOOLEAN = /^(true|false)$/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(:(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;

function validDate(y: string, m: string, d: string): boolean {
  const year = Number(y);
  const month = Number(m);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1) return false;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= days;
}

/**
 * The temporal type of an ISO 8601 text value: `date` (`YYYY-MM-DD`), `timestamptz` (with `Z` or
 * an offset), `timestamp` (without), or `undefined` for anything else (or an impossible date).
 * API records use it for their string values (a JSON string is never a number).
 *
 * @example
 * temporalType('2024-05-01T10:00:00+02:00'); // 'timestamptz'
 * temporalType('2024-05-01 10:00:00');       // 'timestamp'
 */
export function temporalType(value: string): 'date' | 'timestamp' | 'timestamptz' | undefined {
  const d = DATE.exec(value);
  if (d) return validDate(d[1] as string, d[2] as string, d[3] as string) ? 'date' : undefined;
  const t = TIMESTAMP.exec(value);
  if (
    !t ||
    !validDate(t[1] as string, t[2] as string, t[3] as string) ||
    Number(t[4]) >= 24 ||
    Number(t[5]) >= 60 ||
    Number(t[7] ?? 0) >= 60
  ) {
    return undefined;
  }
  return t[9] === undefined ? 'timestamp' : 'timestamptz';
}

/** Bit flags of the types a value could still be. */
const Can = { Int4: 1, Int8: 2, Numeric: 4, Boolean: 8, Date: 16, Timestamp: 32 } as const;

function candidates(value: string): number {
  let mask = 0;
  if (INTEGER.test(value)) {
    const n = BigInt(value);
    if (n >= INT4_MIN && n <= INT4_MAX) mask |= Can.Int4;
    if (n >= INT8_MIN && n <= INT8_MAX) mask |= Can.Int8;
    mask |= Can.Numeric;
  } else if (DECIMAL.test(value)) {
    mask |= Can.Numeric;
  } else if (BOOLEAN.test(value)) {
    mask |= Can.Boolean;
  } else {
    // Seeds keep zoned timestamps as `timestamp` (dbt's behaviour); records tell them apart.
    const temporal = temporalType(value);
    if (temporal === 'date') mask |= Can.Date | Can.Timestamp;
    else if (temporal !== undefined) mask |= Can.Timestamp;
  }
  return mask;
}

/**
 * Incremental inference: feed values one at a time (constant memory), read the type at the end.
 * Empty strings are NULLs and do not vote; a column of only NULLs is `text`.
 *
 * @example
 * const inferrer = new ColumnTypeInferrer();
 * for (const v of ['1', '2', '']) inferrer.add(v);
 * inferrer.type; // 'integer' (empty values are NULL)
 */
export class ColumnTypeInferrer {
  private mask: number = Can.Int4 | Can.Int8 | Can.Numeric | Can.Boolean | Can.Date | Can.Timestamp;
  private seen = false;

  add(value: string): void {
    if (value === '' || this.mask === 0) return;
    this.seen = true;
    this.mask &= candidates(value);
  }

  get type(): InferredType {
    if (!this.seen || this.mask === 0) return 'text';
    if (this.mask & Can.Int4) return 'integer';
    if (this.mask & Can.Int8) return 'bigint';
    if (this.mask & Can.Numeric) return 'numeric';
    if (this.mask & Can.Boolean) return 'boolean';
    if (this.mask & Can.Date) return 'date';
    return 'timestamp';
  }
}

/**
 * Infers a PostgreSQL type for a column from all of its values, dbt-seed style: integer (fits
 * int4), bigint, numeric, boolean (`true`/`false`), date (`YYYY-MM-DD`), timestamp, else text.
 * Empty strings are NULL and ignored.
 *
 * @example
 * inferColumnType(['1', '', '42']); // => 'integer'
 * inferColumnType(['1', '2.5']);    // => 'numeric'
 */
export function inferColumnType(values: Iterable<string>): InferredType {
  const inferrer = new ColumnTypeInferrer();
  for (const value of values) inferrer.add(value);
  return inferrer.type;
}
