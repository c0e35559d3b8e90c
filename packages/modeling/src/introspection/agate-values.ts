import { fixedOffset, PyDate, PyDateTime, PyTimedelta } from '../jinja/py-datetime.js';
import { PyDecimal } from '../jinja/py-decimal.js';

/** agate's data types as dbt's tables use them (`Integer` is dbt's own, for ints). */
export type AgateTypeName = 'Integer' | 'Number' | 'Text' | 'Boolean' | 'Date' | 'DateTime' | 'TimeDelta';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?\d{2})?)?$/;
const INTERVAL =
  /^(?:(-?\d+) years? ?)?(?:(-?\d+) mons? ?)?(?:(-?\d+) days? ?)?(?:([+-]?)(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$/;
const DAY_MICROS = 86_400_000_000;

/** The UTC epoch ms of a wall-clock time (years below 100 too, which `Date.UTC` maps to 19xx). */
function wallMs(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  return date.getTime();
}

/** PostgreSQL's ISO date text as Python's `datetime.date`; other text (`infinity`, BC dates) stays text. */
export function parseDate(text: string): PyDate | string {
  const m = DATE.exec(text);
  return m ? new PyDate(wallMs(Number(m[1]), Number(m[2]), Number(m[3]))) : text;
}

/**
 * PostgreSQL's ISO timestamp text as Python's `datetime.datetime`: naive for `timestamp`, aware
 * with the session's offset (a fixed-offset zone, as psycopg2 gives) for `timestamptz`.
 */
export function parseDateTime(text: string): PyDateTime | string {
  const m = DATETIME.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s, frac, sign, oh, om] = m;
  const wall = wallMs(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s));
  const micro = frac ? Number(frac.padEnd(6, '0')) : 0;
  if (!sign) return new PyDateTime(wall, micro);
  const offset = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om ?? 0));
  return new PyDateTime(wall, micro, fixedOffset(offset), offset);
}

/**
 * PostgreSQL's interval text (`IntervalStyle` postgres) as Python's `timedelta`, months and years
 * counted as psycopg2 counts them (30 and 365 days).
 */
export function parseInterval(text: string): PyTimedelta | string {
  const m = INTERVAL.exec(text);
  if (!m || text === '') return text;
  const [, years, months, days, sign, h, mi, s, frac] = m;
  const wholeDays = Number(years ?? 0) * 365 + Number(months ?? 0) * 30 + Number(days ?? 0);
  const clock =
    (Number(h ?? 0) * 3600 + Number(mi ?? 0) * 60 + Number(s ?? 0)) * 1_000_000 +
    (frac ? Number(frac.padEnd(6, '0')) : 0);
  return new PyTimedelta(wholeDays * DAY_MICROS + (sign === '-' ? -clock : clock));
}

/** A number as agate's `Number` holds it: a Decimal of PostgreSQL's text, or of a float's repr. */
export function toAgateNumber(raw: unknown): unknown {
  if (typeof raw === 'string') return PyDecimal.parse(raw) ?? raw;
  if (typeof raw === 'number') return PyDecimal.fromFloat(raw) ?? raw;
  return raw;
}

const CASTS: Partial<Record<AgateTypeName, (raw: unknown) => unknown>> = {
  Number: toAgateNumber,
  Date: (raw) => (typeof raw === 'string' ? parseDate(raw) : raw),
  DateTime: (raw) => (typeof raw === 'string' ? parseDateTime(raw) : raw),
  TimeDelta: (raw) => (typeof raw === 'string' ? parseInterval(raw) : raw),
};

/**
 * The cast of a column's values to what dbt's agate table holds for its type (psycopg2's Python
 * values through agate): ints as ints, other numbers as Decimals, dates as `date`, timestamps as
 * `datetime`, intervals as `timedelta`, booleans as booleans; a value the cast does not recognise
 * (`infinity`, a BC date) stays as PostgreSQL printed it. None stays None.
 *
 * @example
 * castFor('Date')('2024-01-31'); // PyDate, prints 2024-01-31
 */
export function castFor(type: AgateTypeName): (raw: unknown) => unknown {
  const cast = CASTS[type];
  return cast ? (raw) => (raw === null || raw === undefined ? null : cast(raw)) : (raw) => raw ?? null;
}
