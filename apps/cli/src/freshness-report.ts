import type { FreshnessResult } from '@dataflow/modeling';
import type { TestResultInput } from '@dataflow/runlog';
import { formatTable } from './commands/runs-format.js';

/** `3d 4h`, `2h 5m`, `45s`: the coarsest two units of an age in seconds. */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return '-';
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/**
 * The freshness table `dataflow freshness` prints: one row per source with its newest load, age,
 * status and, when not `pass`, why.
 *
 * @example
 * formatFreshnessTable(results); // 'SOURCE      MAX LOADED AT  AGE  STATUS ...'
 */
export function formatFreshnessTable(results: readonly FreshnessResult[]): string {
  return formatTable(
    ['SOURCE', 'MAX LOADED AT', 'AGE', 'STATUS', 'CRITERIA'],
    results.map((r) => [
      `${r.sourceName}.${r.tableName}`,
      r.maxLoadedAt ?? '-',
      formatAge(r.ageSeconds),
      r.status.toUpperCase(),
      r.status === 'pass' ? '' : ((r.message ?? '').split('\n')[0] ?? ''),
    ]),
  );
}

const TEST_STATUS: Record<FreshnessResult['status'], TestResultInput['status']> = {
  pass: 'pass',
  warn: 'warn',
  error: 'fail',
  'runtime error': 'error',
};

/** A freshness result as the run log's test row (`error` is a failed test, `runtime error` an errored one). */
export function freshnessTestResult(r: FreshnessResult): TestResultInput {
  return {
    uniqueId: r.uniqueId,
    name: `source_freshness_${r.sourceName}_${r.tableName}`,
    status: TEST_STATUS[r.status],
    severity: 'error',
    failures: r.status === 'error' || r.status === 'warn' ? 1 : 0,
    sql: r.test?.sql,
    sample: r.test?.sample ?? [],
    message: r.message,
    durationMs: Math.round(r.durationMs),
  };
}
