import { isIsoDate } from './column-types.js';
import { IngestError } from './errors.js';

/** A half-open date interval `[start, end)` in `YYYY-MM-DD`; `ds` is `start`. */
export interface Interval {
  start: string;
  end: string;
}

/**
 * Parses `YYYY-MM-DD` to epoch ms (UTC), or undefined when it is not a real calendar date
 * (year ≥ 100). The one date validator of the package: {@link isIsoDate} decides.
 *
 * @example
 * parseIsoDate('2024-02-29'); // 1709164800000
 * parseIsoDate('2023-02-29'); // undefined
 */
export function parseIsoDate(value: string): number | undefined {
  if (!isIsoDate(value)) return undefined;
  return Date.UTC(Number(value.slice(0, 4)), Number(value.slice(5, 7)) - 1, Number(value.slice(8, 10)));
}

const DAY_MS = 86_400_000;
const formatDate = (t: number): string => new Date(t).toISOString().slice(0, 10);

/**
 * The daily interval that starts on `ds`.
 *
 * @example
 * dailyInterval('2024-02-28'); // { start: '2024-02-28', end: '2024-02-29' }
 */
export function dailyInterval(ds: string): Interval {
  const t = parseIsoDate(ds);
  if (t === undefined)
    throw new IngestError('INVALID_INTERVAL', `not a valid YYYY-MM-DD date: ${JSON.stringify(ds)}`);
  return { start: ds, end: formatDate(t + DAY_MS) };
}

/** Throws INVALID_INTERVAL unless both ends are valid dates and start < end. */
export function assertInterval(interval: Interval): void {
  const s = parseIsoDate(interval?.start ?? '');
  const e = parseIsoDate(interval?.end ?? '');
  if (s === undefined || e === undefined || s >= e) {
    throw new IngestError(
      'INVALID_INTERVAL',
      'interval must be { start, end } YYYY-MM-DD dates with start < end',
    );
  }
}

const PLACEHOLDER_RE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/**
 * Replaces Airflow-style placeholders in a location or parameter value:
 * `{{ ds }}`, `{{ ds_nodash }}`, `{{ data_interval_start }}`, `{{ data_interval_end }}`, `{{ next_ds }}`.
 * An unknown placeholder is an IngestError with code `TEMPLATE`.
 *
 * @example
 * renderLocation('data/orders_{{ ds_nodash }}.csv', dailyInterval('2024-01-31')); // 'data/orders_20240131.csv'
 */
export function renderLocation(template: string, interval: Interval): string {
  assertInterval(interval);
  const values: Record<string, string> = {
    ds: interval.start,
    ds_nodash: interval.start.replaceAll('-', ''),
    data_interval_start: interval.start,
    data_interval_end: interval.end,
    next_ds: interval.end,
  };
  const rendered = template.replace(PLACEHOLDER_RE, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) {
      throw new IngestError(
        'TEMPLATE',
        `unknown placeholder {{ ${name} }}; known: ${Object.keys(values).join(', ')}`,
      );
    }
    return value;
  });
  if (rendered.includes('{{') || rendered.includes('}}')) {
    throw new IngestError('TEMPLATE', 'malformed placeholder (unbalanced {{ }})');
  }
  return rendered;
}
