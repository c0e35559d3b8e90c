import { IngestError } from './errors.js';
import type { CursorValue } from './manifest.js';

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const INTEGER = /^[+-]?\d+$/;
const ISO =
  /^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** A parsed ISO instant: whole epoch seconds and the nanoseconds beyond them. */
interface Instant {
  seconds: number;
  nanos: number;
  dateOnly: boolean;
}

function offsetText(zone: string | undefined): string {
  if (zone === undefined || zone === 'Z' || zone === 'z') return 'Z';
  const digits = zone.slice(1).replace(':', '');
  return `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || '00'}`;
}

/** The instant of an ISO 8601 date or timestamp (unzoned read as UTC), or undefined. */
export function parseInstant(value: string): Instant | undefined {
  const m = ISO.exec(value);
  if (!m) return undefined;
  const [, date, hh = '00', mi = '00', ss = '00', fraction = '', zone] = m;
  const ms = Date.parse(`${date}T${hh}:${mi}:${ss}${offsetText(zone)}`);
  if (Number.isNaN(ms)) return undefined;
  return { seconds: ms / 1000, nanos: Number(fraction.padEnd(9, '0')), dateOnly: m[2] === undefined };
}

const isNumeric = (v: CursorValue): boolean => typeof v === 'number' || DECIMAL.test(v);
const isInteger = (v: CursorValue): boolean =>
  typeof v === 'number' ? Number.isSafeInteger(v) : INTEGER.test(v);
const sign = (n: number | bigint): -1 | 0 | 1 => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** A cursor value parsed once for many comparisons (a record's value against the window's bounds). */
export interface ParsedCursor {
  value: CursorValue;
  /** Set when the value is numeric: exact for integers. */
  number?: bigint | number;
  /** Set when the value is ISO 8601 text. */
  instant?: Instant;
}

/**
 * Parses a cursor value for {@link compareParsed}.
 *
 * @example
 * compareParsed(parseCursor('10'), parseCursor(9)); // 1
 */
export function parseCursor(value: CursorValue): ParsedCursor {
  if (isNumeric(value)) return { value, number: isInteger(value) ? BigInt(value) : Number(value) };
  if (typeof value === 'string') {
    const instant = parseInstant(value);
    if (instant) return { value, instant };
  }
  return { value };
}

/** {@link compareCursor} of two parsed values. */
export function compareParsed(a: ParsedCursor, b: ParsedCursor): -1 | 0 | 1 {
  if (a.number !== undefined && b.number !== undefined) {
    if (typeof a.number === 'bigint' && typeof b.number === 'bigint') return sign(a.number - b.number);
    return sign(Number(a.number) - Number(b.number));
  }
  const x = a.instant;
  const y = b.instant;
  if (x && y) return x.seconds !== y.seconds ? sign(x.seconds - y.seconds) : sign(x.nanos - y.nanos);
  const s = String(a.value);
  const t = String(b.value);
  return s < t ? -1 : s > t ? 1 : 0;
}

/**
 * Orders two cursor values: as numbers when both are numeric (integers exactly, at any size),
 * else as instants when both parse as ISO 8601 dates/timestamps (offsets applied, nanoseconds
 * kept), else as strings (code-unit order). Returns -1, 0 or 1.
 *
 * @example
 * compareCursor('2024-05-01T12:00:00+02:00', '2024-05-01T10:00:00Z'); // 0
 * compareCursor(9, '10'); // -1
 */
export function compareCursor(a: CursorValue, b: CursorValue): -1 | 0 | 1 {
  return compareParsed(parseCursor(a), parseCursor(b));
}

/**
 * The larger of two cursor values (the first when they compare equal).
 *
 * @example
 * maxCursor(3, 7); // 7
 */
export function maxCursor(a: CursorValue, b: CursorValue): CursorValue {
  return compareCursor(b, a) > 0 ? b : a;
}

/**
 * `value` moved back by `lag`: units for numbers, seconds for ISO timestamps (rendered as UTC
 * `toISOString()`; a date stays a date when the lag is whole days). INVALID_OPTIONS for a
 * positive lag on any other value.
 *
 * @example
 * subtractLag('2024-05-01T10:00:00Z', 3600); // '2024-05-01T09:00:00.000Z'
 * subtractLag(100, 5); // 95
 */
export function subtractLag(value: CursorValue, lag: number): CursorValue {
  if (lag === 0) return value;
  if (typeof value === 'number') return value - lag;
  if (isInteger(value) && Number.isInteger(lag)) return String(BigInt(value) - BigInt(lag));
  if (isNumeric(value)) return String(Number(value) - lag);
  const instant = parseInstant(value);
  if (instant === undefined) {
    throw new IngestError('INVALID_OPTIONS', 'incremental.lag needs a numeric or ISO 8601 timestamp cursor');
  }
  const ms = instant.seconds * 1000 + Math.floor(instant.nanos / 1e6) - lag * 1000;
  const shifted = new Date(ms).toISOString();
  return instant.dateOnly && lag % 86_400 === 0 ? shifted.slice(0, 10) : shifted;
}

/** What {@link cursorValueOf} returns for a value no cursor can be (an object, a boolean). */
export const NOT_A_CURSOR: unique symbol = Symbol('not a cursor value');

/**
 * A record's cursor value as read from JSON or CSV: numbers and non-empty strings; `undefined`
 * for null, missing or empty (the `on_cursor_value_missing` case); {@link NOT_A_CURSOR} else.
 *
 * @example
 * cursorValueOf('2024-05-01'); // '2024-05-01'
 * cursorValueOf(null); // undefined
 */
export function cursorValueOf(value: unknown): CursorValue | undefined | typeof NOT_A_CURSOR {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') return value;
  return NOT_A_CURSOR;
}
