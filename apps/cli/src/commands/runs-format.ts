import type { JobRecord, RunDetail, RunRecord } from '@dataflow/runlog';
import { snakeKeys } from '../snake-case.js';

const DAY_MS = 86_400_000;

/**
 * The days a run covered: `2026-05-01`, or `2026-05-01..2026-05-07 (7 days)` for a range (the
 * stored end is exclusive; the last day shown is inclusive).
 *
 * @example
 * formatInterval('2026-05-01', '2026-05-04'); // '2026-05-01..2026-05-03 (3 days)'
 */
export function formatInterval(start: string | null, end: string | null): string {
  if (!start) return '';
  if (!end) return start;
  const days = Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / DAY_MS);
  if (!(days > 1)) return start;
  const last = new Date(Date.parse(`${end}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10);
  return `${start}..${last} (${days} days)`;
}

/** The JSON shape `dataflow runs --json` prints per run (snake_case, like the summary line). */
export function runToJson(r: RunRecord) {
  return {
    run_id: r.runId,
    command: r.command,
    status: r.status,
    exit_code: r.exitCode,
    interval: r.intervalStart ? { start: r.intervalStart, end: r.intervalEnd } : null,
    started_at: r.startedAt.toISOString(),
    ended_at: r.endedAt?.toISOString() ?? null,
    duration_ms: r.durationMs,
    rows_in: r.rowsIn,
    rows_loaded: r.rowsOut,
    rows_rejected: r.rowsRejected,
    error: r.errorMessage ? { class: r.errorClass, code: r.errorCode, message: r.errorMessage } : null,
    airflow: r.airflow.dagId ? snakeKeys(r.airflow) : null,
  };
}

/** `runs --run ID --json`: the run, its steps in execution order, row counts and test results. */
export function runDetailToJson(run: RunDetail) {
  return {
    ...runToJson(run),
    jobs: snakeKeys(inExecutionOrder(run.jobs)),
    row_counts: snakeKeys(run.rowCounts),
    test_results: snakeKeys(run.testResults),
  };
}

/** Steps by when they started (a build node is recorded when it ends, so insertion order is not it). */
export function inExecutionOrder(jobs: readonly JobRecord[]): JobRecord[] {
  return [...jobs].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime() || a.jobId - b.jobId);
}

/** Columns padded to their widest cell, joined by two spaces. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Fixed-width table of runs for a terminal. */
export function formatRunsTable(runs: readonly RunRecord[]): string {
  const header = [
    'RUN ID',
    'COMMAND',
    'STATUS',
    'EXIT',
    'INTERVAL',
    'STARTED',
    'SECONDS',
    'ROWS IN',
    'LOADED',
    'REJECTED',
  ];
  const rows = runs.map((r) => [
    r.runId,
    r.command,
    r.status,
    r.exitCode === null ? '' : String(r.exitCode),
    formatInterval(r.intervalStart, r.intervalEnd),
    r.startedAt.toISOString().replace('T', ' ').slice(0, 19),
    r.durationMs === null ? '' : (r.durationMs / 1000).toFixed(1),
    String(r.rowsIn),
    String(r.rowsOut),
    String(r.rowsRejected),
  ]);
  return formatTable(header, rows);
}

/** One run's steps for a terminal: full names (never cut), in execution order, errors last. */
export function formatJobsTable(jobs: readonly JobRecord[]): string {
  const rows = inExecutionOrder(jobs).map((j) => [
    j.step,
    j.target,
    j.partition ?? '',
    j.status,
    `${((j.durationMs ?? 0) / 1000).toFixed(1)}s`,
    j.rowsOut === null ? '' : `${j.rowsOut} rows`,
    j.errorMessage ? (j.errorMessage.split('\n')[0] ?? '') : '',
  ]);
  return formatTable(['STEP', 'TARGET', 'PARTITION', 'STATUS', 'TIME', 'ROWS', 'ERROR'], rows);
}
