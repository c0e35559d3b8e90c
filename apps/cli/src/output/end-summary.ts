import type { Palette } from './colors.js';
import { formatSeconds } from './units.js';

/** dbt's result counts: test failures count as errors, as in dbt's `Done.` line. */
export interface ResultTally {
  pass: number;
  warn: number;
  error: number;
  skip: number;
  /** What ran, by kind, in first-seen order (`ingest`, `table model`, `data test`, …). */
  ran: Record<string, number>;
}

/** An empty tally. */
export const emptyTally = (): ResultTally => ({ pass: 0, warn: 0, error: 0, skip: 0, ran: {} });

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : what.endsWith('s') ? 'es' : 's'}`;

/**
 * The end of a text run, as dbt prints it: `Finished running 4 ingests, 2 table models, 36 data
 * tests in 2.31s.`, `Completed successfully` or `Completed with 1 error and 0 warnings:` (the
 * failure blocks go after it), and the `Done.` line last. Pure.
 *
 * @example
 * endSummary({ pass: 5, warn: 0, error: 1, skip: 2, ran: { 'table model': 3 } }, 2310, palette(false));
 * // { head: ['Finished running 3 table models in 2.31s.', '', 'Completed with 1 error and 0 warnings:'],
 * //   done: 'Done. PASS=5 WARN=0 ERROR=1 SKIP=2 TOTAL=8' }
 */
export function endSummary(
  t: ResultTally,
  durationMs: number,
  colors: Palette,
): { head: string[]; done: string } {
  const ran = Object.entries(t.ran).map(([what, n]) => plural(n, what));
  const finished = `Finished running ${ran.length > 0 ? ran.join(', ') : 'nothing'} in ${formatSeconds(durationMs)}.`;
  const completed =
    t.error > 0
      ? colors.red(`Completed with ${plural(t.error, 'error')} and ${plural(t.warn, 'warning')}:`)
      : t.warn > 0
        ? colors.yellow(`Completed with ${plural(t.warn, 'warning')}:`)
        : colors.green('Completed successfully');
  const total = t.pass + t.warn + t.error + t.skip;
  const done = `Done. PASS=${t.pass} WARN=${t.warn} ERROR=${t.error} SKIP=${t.skip} TOTAL=${total}`;
  return { head: [finished, '', completed], done };
}
