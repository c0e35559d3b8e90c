import { type CursorRange, type CursorValue, compareCursor } from '@dataflow/ingest/lake';
import type { DayInterval } from '../interval.js';

/** The window names ingest's `windowPartition` makes: `w=<UTC yyyymmddThhmmssSSSZ>-<6 hex>`, in time order. */
export const WINDOW_NAME = /^w=\d{8}T\d{9}Z-[0-9a-f]{6}$/;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

/**
 * Whether a run of `day` reads by interval (a backfill) instead of from the stored cursor: the
 * cursor is a date or timestamp (`initial_value` says) and the day's interval ended before
 * `today` (UTC). Airflow's daily run of yesterday (`ds` = yesterday, interval end = today) reads
 * from the cursor; re-runs of older days read their own interval and never move the cursor.
 *
 * @example
 * isBackfillDay({ start: '2026-05-01', end: '2026-05-02' }, '2026-01-01T00:00:00Z', '2026-05-10'); // true
 * isBackfillDay({ start: '2026-05-09', end: '2026-05-10' }, '2026-01-01T00:00:00Z', '2026-05-10'); // false
 */
export function isBackfillDay(day: DayInterval, initialValue: CursorValue, today: string): boolean {
  if (
    typeof initialValue !== 'string' ||
    (!ISO_TIMESTAMP.test(initialValue) && !ISO_DATE.test(initialValue))
  ) {
    return false;
  }
  return day.end < today;
}

/**
 * The window a backfill of `day` lands as: one name per day, so a re-run replaces its own window
 * in the lake and never any cursor run's.
 *
 * @example
 * backfillPartition({ start: '2026-05-01', end: '2026-05-02' }); // 'w=backfill-2026-05-01'
 */
export function backfillPartition(day: DayInterval): string {
  return `w=backfill-${day.start}`;
}

/**
 * The cursor bounds of a backfill: the day's interval in the cursor's own shape (dates for a
 * date cursor, UTC timestamps otherwise), starting no earlier than `initial_value`.
 *
 * @example
 * backfillBounds({ start: '2026-05-01', end: '2026-05-02' }, '2026-01-01T00:00:00Z');
 * // { initialValue: '2026-05-01T00:00:00Z', endValue: '2026-05-02T00:00:00Z' }
 */
export function backfillBounds(
  day: DayInterval,
  initialValue: CursorValue,
): { initialValue: CursorValue; endValue: CursorValue } {
  const dateOnly = typeof initialValue === 'string' && ISO_DATE.test(initialValue);
  const at = (d: string) => (dateOnly ? d : `${d}T00:00:00Z`);
  const start = at(day.start);
  return {
    initialValue: compareCursor(initialValue, start) > 0 ? initialValue : start,
    endValue: at(day.end),
  };
}

/** A committed window in the lake, with the cursor range its manifest records. */
export interface WindowCandidate {
  partition: string;
  cursor?: CursorRange | undefined;
}

/**
 * The windows a load must publish, in order: cursor windows newer than the last published one
 * (`statePartition`), minus those a later pending window supersedes: two ingests that ran before a
 * load read from the same state, and the later one, starting no later, holds all the earlier held.
 *
 * @example
 * pendingWindows([{ partition: 'w=20260101T000000000Z-aaaaaa', cursor }, …], 'w=20251231T000000000Z-ffffff');
 * // { load: [...], superseded: [...] }
 */
export function pendingWindows(
  candidates: readonly WindowCandidate[],
  statePartition: string | undefined,
): { load: WindowCandidate[]; superseded: WindowCandidate[] } {
  const pending = candidates
    .filter(
      (c) => WINDOW_NAME.test(c.partition) && (statePartition === undefined || c.partition > statePartition),
    )
    .sort((a, b) => (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0));
  const load: WindowCandidate[] = [];
  const superseded: WindowCandidate[] = [];
  pending.forEach((window, i) => {
    const later = pending.slice(i + 1);
    const from = window.cursor?.from;
    const covered =
      from !== undefined &&
      later.some((l) => l.cursor !== undefined && compareCursor(l.cursor.from, from) <= 0);
    (covered ? superseded : load).push(window);
  });
  return { load, superseded };
}

/**
 * The partition names under `<source>/` that hold a committed manifest, from a lake listing's keys.
 *
 * @example
 * committedWindows('rates', ['rates/w=x/_manifest.json', 'rates/w=x/part-0.ndjson']); // ['w=x']
 */
export function committedWindows(source: string, keys: Iterable<string>): string[] {
  const out: string[] = [];
  for (const key of keys) {
    const m = key.slice(source.length + 1).match(/^(w=[^/]+)\/_manifest\.json$/);
    if (key.startsWith(`${source}/`) && m?.[1]) out.push(m[1]);
  }
  return out;
}
