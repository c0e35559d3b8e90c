import { CliError } from './errors.js';

/** `{ start, end }` YYYY-MM-DD, end exclusive (the workspace-wide Interval contract). */
export interface DayInterval {
  start: string;
  end: string;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;
const MAX_DAYS = 3660;

/** Milliseconds since the epoch of a real calendar day `YYYY-MM-DD`, else undefined. */
function dayTime(value: string): number | undefined {
  const m = DATE.exec(value);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  return m && new Date(t).toISOString().slice(0, 10) === value ? t : undefined;
}

/**
 * Whether `value` is a real calendar day written `YYYY-MM-DD`.
 *
 * @example
 * isDay('2026-02-29'); // false
 */
export const isDay = (value: string): boolean => dayTime(value) !== undefined;

function parseDate(flag: string, value: string): number {
  const t = dayTime(value);
  if (t === undefined) {
    throw new CliError('USAGE', `${flag}: expected a date YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
  return t;
}

const fmt = (t: number) => new Date(t).toISOString().slice(0, 10);

/**
 * Turns `--date` / `--start` + `--end` into the daily intervals to run, in order. `--end` is
 * exclusive, like Airflow's data interval. Returns `[]` when no flag is given.
 *
 * @example
 * resolveDays({ start: '2026-01-01', end: '2026-01-03' }) // [{ start: '2026-01-01', end: '2026-01-02' }, { start: '2026-01-02', end: '2026-01-03' }]
 */
export function resolveDays(flags: { date?: string; start?: string; end?: string }): DayInterval[] {
  const { date, start, end } = flags;
  if (date !== undefined) {
    if (start !== undefined || end !== undefined) {
      throw new CliError('USAGE', '--date cannot be combined with --start/--end');
    }
    const t = parseDate('--date', date);
    return [{ start: date, end: fmt(t + DAY_MS) }];
  }
  if (start === undefined && end === undefined) return [];
  if (start === undefined || end === undefined) {
    throw new CliError('USAGE', '--start and --end must be given together (--end is exclusive)');
  }
  const s = parseDate('--start', start);
  const e = parseDate('--end', end);
  if (e <= s)
    throw new CliError('USAGE', `--end (${end}) must be after --start (${start}); --end is exclusive`);
  const days = (e - s) / DAY_MS;
  if (days > MAX_DAYS) throw new CliError('USAGE', `--start/--end span ${days} days; at most ${MAX_DAYS}`);
  return Array.from({ length: days }, (_, i) => ({
    start: fmt(s + i * DAY_MS),
    end: fmt(s + (i + 1) * DAY_MS),
  }));
}

/**
 * Fails with a clear message when a command needs an interval and none was given.
 *
 * @example
 * const days = requireDays(resolveDays({ date: '2026-05-01' })); // [{ start: '2026-05-01', end: '2026-05-02' }]
 */
export function requireDays(days: DayInterval[]): DayInterval[] {
  if (days.length === 0) {
    throw new CliError(
      'NO_INTERVAL',
      `an interval is needed: pass --date YYYY-MM-DD (Airflow: --date {{ ds }}) or --start/--end`,
    );
  }
  return days;
}
