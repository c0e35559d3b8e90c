import type { Redactor } from '@dataflow/runlog';
import { type ExitCode, statusForExit } from './exit-codes.js';
import type { CliIo } from './io.js';

/** Counters a run accumulates; the JSON summary and run_history are built from them. */
export interface RunTotals {
  rowsIn: number;
  rowsLoaded: number;
  rowsRejected: number;
  models: { success: number; error: number; skipped: number };
  tests: { pass: number; warn: number; fail: number; error: number; skipped: number };
  skippedSources: number;
  ranSources: number;
  /** Node results the run log could not record (each logged as a warning; the run exits 1). */
  unrecordedResults: number;
  /** For commands over days: which days finished, which failed, which never started. */
  days?: DaysOutcome;
  /** Windows of cursor sources this run published (issue 16). */
  cursors: CursorRun[];
}

/** The days of an interval command by outcome (`YYYY-MM-DD`, in order). */
export interface DaysOutcome {
  succeeded: string[];
  failed: string[];
  notRun: string[];
}

/** One window of a cursor source published by the run: the range it read and what the state did. */
export interface CursorRun {
  source: string;
  partition: string;
  path: string;
  from: string | number;
  to: string | number;
  duplicates_dropped: number;
  /** `advanced` / `kept` (never backwards), or `backfill` (read by interval, state untouched). */
  state: 'advanced' | 'kept' | 'backfill';
}

export const emptyTotals = (): RunTotals => ({
  rowsIn: 0,
  rowsLoaded: 0,
  rowsRejected: 0,
  models: { success: 0, error: 0, skipped: 0 },
  tests: { pass: 0, warn: 0, fail: 0, error: 0, skipped: 0 },
  skippedSources: 0,
  ranSources: 0,
  unrecordedResults: 0,
  cursors: [],
});

/** The Airflow summary line (BashOperator pushes the last stdout line to XCom). */
export interface RunSummary {
  run_id: string;
  command: string;
  status: 'success' | 'failed' | 'aborted' | 'skipped';
  exit_code: number;
  rows_in: number;
  rows_loaded: number;
  rows_rejected: number;
  models: number;
  tests: RunTotals['tests'];
  duration_ms: number;
  interval?: { start: string; end: string };
  /** Interval commands: which days succeeded, failed, or were not run (what `dataflow retry` re-runs). */
  days?: { succeeded: string[]; failed: string[]; not_run: string[] };
  /** Cursor windows published, with their ranges (only when there were any). */
  cursors?: CursorRun[];
  error?: { class: string; code?: string; message: string };
}

/**
 * Builds the one-line JSON summary. Pure; the caller redacts the error message.
 *
 * @example
 * JSON.stringify(buildSummary({ runId: 'r', command: 'run', status: 'success', exitCode: 0, totals: emptyTotals(), durationMs: 5 }))
 */
export function buildSummary(input: {
  runId: string;
  command: string;
  status: RunSummary['status'];
  exitCode: number;
  totals: RunTotals;
  durationMs: number;
  interval?: { start: string; end: string } | undefined;
  error?: RunSummary['error'] | undefined;
}): RunSummary {
  const { totals } = input;
  return {
    run_id: input.runId,
    command: input.command,
    status: input.status,
    exit_code: input.exitCode,
    rows_in: totals.rowsIn,
    rows_loaded: totals.rowsLoaded,
    rows_rejected: totals.rowsRejected,
    models: totals.models.success,
    tests: { ...totals.tests },
    duration_ms: Math.round(input.durationMs),
    ...(input.interval ? { interval: input.interval } : {}),
    ...(totals.days
      ? {
          days: {
            succeeded: [...totals.days.succeeded],
            failed: [...totals.days.failed],
            not_run: [...totals.days.notRun],
          },
        }
      : {}),
    ...(totals.cursors.length > 0 ? { cursors: totals.cursors.map((c) => ({ ...c })) } : {}),
    ...(input.error ? { error: input.error } : {}),
  };
}

/**
 * One human line for a terminal.
 *
 * @example
 * process.stderr.write(`${formatSummaryText(summary)}\n`); // 'SUCCESS (exit 0) dataflow run <run_id>: rows in 5, …'
 */
export function formatSummaryText(s: RunSummary): string {
  const t = s.tests;
  const tests = `tests ${t.pass} pass, ${t.warn} warn, ${t.fail} fail, ${t.error} error, ${t.skipped} skipped`;
  const rows = `rows in ${s.rows_in}, loaded ${s.rows_loaded}, rejected ${s.rows_rejected}`;
  const err = s.error ? ` — ${s.error.message}` : '';
  const days = s.days ? `; ${daysText(s.days)}` : '';
  return `${s.status.toUpperCase()} (exit ${s.exit_code}) dataflow ${s.command} ${s.run_id}: ${rows}; models ${s.models}; ${tests}${days}; ${(s.duration_ms / 1000).toFixed(1)}s${err}`;
}

/**
 * The days of a range by outcome, for people.
 *
 * @example
 * daysText({ succeeded: ['2026-05-01'], failed: ['2026-05-02'], not_run: ['2026-05-03'] });
 * // 'days succeeded 2026-05-01; failed 2026-05-02; not run 2026-05-03'
 */
export function daysText(days: NonNullable<RunSummary['days']>): string {
  const list = (d: string[]) => (d.length > 0 ? d.join(', ') : 'none');
  return `days succeeded ${list(days.succeeded)}; failed ${list(days.failed)}; not run ${list(days.not_run)}`;
}

/**
 * The summary's `error`: class, code when the error has a string one, and the first line of the
 * message, redacted.
 *
 * @example
 * errorInfo(new CliError('USAGE', 'bad'), redactor); // { class: 'CliError', code: 'USAGE', message: 'bad' }
 */
export function errorInfo(error: unknown, redactor: Redactor): NonNullable<RunSummary['error']> {
  const { name, code, message } = (error ?? {}) as { name?: unknown; code?: unknown; message?: unknown };
  return {
    class: typeof name === 'string' ? name : 'Error',
    ...(typeof code === 'string' ? { code } : {}),
    message: redactor.redact(typeof message === 'string' ? message : String(error)).split('\n')[0] ?? '',
  };
}

/**
 * Prints the summary as the last stdout line: JSON (Airflow's XCom contract) when stdout is not a
 * terminal or `--log-format json` was asked for, one human line otherwise. Redacted. Call it
 * after the logs are flushed.
 *
 * @example
 * printSummary(invocation, { runId, command: 'run', exitCode: 2, durationMs: 12, error });
 */
export function printSummary(
  invocation: { io: CliIo; redactor: Redactor },
  input: {
    runId: string;
    command: string;
    exitCode: ExitCode;
    durationMs: number;
    totals?: RunTotals;
    interval?: { start: string; end: string } | undefined;
    error?: unknown;
    /** The invocation's `--log-format`; `json` prints JSON on a terminal too. */
    format?: 'text' | 'json' | undefined;
  },
): RunSummary {
  const summary = buildSummary({
    runId: input.runId,
    command: input.command,
    status: statusForExit(input.exitCode),
    exitCode: input.exitCode,
    totals: input.totals ?? emptyTotals(),
    durationMs: input.durationMs,
    interval: input.interval,
    error: input.error === undefined ? undefined : errorInfo(input.error, invocation.redactor),
  });
  const { io, redactor } = invocation;
  const human = io.stdoutIsTTY && input.format !== 'json';
  const line = human ? formatSummaryText(summary) : JSON.stringify(summary);
  io.stdout.write(`${redactor.redact(line)}\n`);
  return summary;
}
