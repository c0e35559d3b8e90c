import { quoteIdent } from '@dataflow/pg';
import type { StartJobInput } from './job-status.js';
import type { AirflowContext } from './run-rows.js';
import type { JobStatus, RunStatus, SqlQuery } from './statuses.js';
import type { TestResultInput } from './test-results.js';

/** A `run_history` row, camel-cased. */
export interface RunRecord {
  runId: string;
  command: string;
  args: string[];
  project: string | null;
  intervalStart: string | null;
  intervalEnd: string | null;
  status: RunStatus;
  exitCode: number | null;
  startedAt: Date;
  endedAt: Date | null;
  durationMs: number | null;
  rowsIn: number;
  rowsOut: number;
  rowsRejected: number;
  errorClass: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  host: string | null;
  version: string | null;
  airflow: AirflowContext;
}

/** A `job_status` row, camel-cased. */
export interface JobRecord {
  jobId: number;
  runId: string;
  step: StartJobInput['step'];
  target: string;
  /** The node's unique id (model, seed, snapshot, test jobs recorded since migration 3). */
  uniqueId: string | null;
  partition: string | null;
  status: JobStatus;
  startedAt: Date;
  endedAt: Date | null;
  durationMs: number | null;
  rowsIn: number | null;
  rowsOut: number | null;
  rowsRejected: number | null;
  errorClass: string | null;
  errorCode: string | null;
  errorMessage: string | null;
}

/** A stored row count, as `RunLog.getRun` returns it. */
export interface RowCountRecord {
  dataset: string;
  partition: string | null;
  stage: string;
  rows: number;
  measuredAt: Date;
}

/** A stored data-test result, as `RunLog.getRun` returns it. */
export interface TestResultRecord {
  uniqueId: string | null;
  testName: string;
  status: TestResultInput['status'];
  severity: string | null;
  failures: number;
  sql: string | null;
  sample: Record<string, unknown>[];
  sampleTruncated: boolean;
  message: string | null;
  durationMs: number | null;
}

/** A run with everything recorded about it. */
export interface RunDetail extends RunRecord {
  jobs: JobRecord[];
  rowCounts: RowCountRecord[];
  testResults: TestResultRecord[];
}

const MAX_LIST_LIMIT = 10_000;

/**
 * The newest runs first, `limit` clamped to 1..10,000. Pure.
 *
 * @example
 * listRunsQuery('dataflow', 20);
 */
export function listRunsQuery(schema: string, limit: number): SqlQuery {
  return {
    text: `select * from ${quoteIdent(schema)}.run_history order by started_at desc, run_id desc limit $1`,
    values: [Math.max(1, Math.min(Math.trunc(limit), MAX_LIST_LIMIT))],
  };
}

/** The four reads of one run: its row, jobs, row counts and test results. Pure. */
export function runDetailQueries(
  schema: string,
  runId: string,
): { run: SqlQuery; jobs: SqlQuery; rowCounts: SqlQuery; testResults: SqlQuery } {
  const s = quoteIdent(schema);
  const q = (text: string): SqlQuery => ({ text, values: [runId] });
  return {
    run: q(`select * from ${s}.run_history where run_id = $1`),
    jobs: q(`select * from ${s}.job_status where run_id = $1 order by job_id`),
    rowCounts: q(`select * from ${s}.row_counts where run_id = $1 order by id`),
    testResults: q(`select * from ${s}.test_results where run_id = $1 order by id`),
  };
}

/** The rows a run detail is assembled from, as node-postgres returns them. */
export interface RunDetailRows {
  run: RunRow;
  jobs: JobRow[];
  rowCounts: CountRow[];
  testResults: TestRow[];
}

/** Assembles a {@link RunDetail} from its rows. Pure. */
export function toRunDetail(rows: RunDetailRows): RunDetail {
  return {
    ...toRunRecord(rows.run),
    jobs: rows.jobs.map(toJobRecord),
    rowCounts: rows.rowCounts.map((c) => ({
      dataset: c.dataset,
      partition: c.partition,
      stage: c.stage,
      rows: Number(c.rows),
      measuredAt: c.measured_at,
    })),
    testResults: rows.testResults.map((t) => ({
      uniqueId: t.unique_id,
      testName: t.test_name,
      status: t.status,
      severity: t.severity,
      failures: Number(t.failures),
      sql: t.sql,
      sample: t.sample,
      sampleTruncated: t.sample_truncated,
      message: t.message,
      durationMs: numOrNull(t.duration_ms),
    })),
  };
}

/** A `run_history` row as node-postgres returns it (bigint as text, dates as Date). */
export interface RunRow {
  run_id: string;
  command: string;
  args: string[];
  project: string | null;
  interval_start: Date | string | null;
  interval_end: Date | string | null;
  status: RunStatus;
  exit_code: number | null;
  started_at: Date;
  ended_at: Date | null;
  duration_ms: string | null;
  rows_in: string;
  rows_out: string;
  rows_rejected: string;
  error_class: string | null;
  error_code: string | null;
  error_message: string | null;
  host: string | null;
  version: string | null;
  airflow_dag_id: string | null;
  airflow_task_id: string | null;
  airflow_dag_run_id: string | null;
  airflow_try_number: number | null;
}

export interface JobRow {
  job_id: string;
  run_id: string;
  step: StartJobInput['step'];
  target: string;
  unique_id?: string | null;
  partition: string | null;
  status: JobStatus;
  started_at: Date;
  ended_at: Date | null;
  duration_ms: string | null;
  rows_in: string | null;
  rows_out: string | null;
  rows_rejected: string | null;
  error_class: string | null;
  error_code: string | null;
  error_message: string | null;
}

export interface CountRow {
  dataset: string;
  partition: string | null;
  stage: string;
  rows: string;
  measured_at: Date;
}

export interface TestRow {
  unique_id: string | null;
  test_name: string;
  status: TestResultInput['status'];
  severity: string | null;
  failures: string;
  sql: string | null;
  sample: Record<string, unknown>[];
  sample_truncated: boolean;
  message: string | null;
  duration_ms: string | null;
}

const numOrNull = (v: string | number | null): number | null => (v === null ? null : Number(v));

/** `date` columns come back as local-midnight Dates from node-postgres; format them back without a TZ shift. */
function dateText(v: Date | string | null): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v.slice(0, 10);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${v.getFullYear()}-${pad(v.getMonth() + 1)}-${pad(v.getDate())}`;
}

export function toRunRecord(r: RunRow): RunRecord {
  return {
    runId: r.run_id,
    command: r.command,
    args: r.args,
    project: r.project,
    intervalStart: dateText(r.interval_start),
    intervalEnd: dateText(r.interval_end),
    status: r.status,
    exitCode: r.exit_code,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    durationMs: numOrNull(r.duration_ms),
    rowsIn: Number(r.rows_in),
    rowsOut: Number(r.rows_out),
    rowsRejected: Number(r.rows_rejected),
    errorClass: r.error_class,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    host: r.host,
    version: r.version,
    airflow: {
      dagId: r.airflow_dag_id ?? undefined,
      taskId: r.airflow_task_id ?? undefined,
      dagRunId: r.airflow_dag_run_id ?? undefined,
      tryNumber: r.airflow_try_number ?? undefined,
    },
  };
}

export function toJobRecord(r: JobRow): JobRecord {
  return {
    jobId: Number(r.job_id),
    runId: r.run_id,
    step: r.step,
    target: r.target,
    uniqueId: r.unique_id ?? null,
    partition: r.partition,
    status: r.status,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    durationMs: numOrNull(r.duration_ms),
    rowsIn: numOrNull(r.rows_in),
    rowsOut: numOrNull(r.rows_out),
    rowsRejected: numOrNull(r.rows_rejected),
    errorClass: r.error_class,
    errorCode: r.error_code,
    errorMessage: r.error_message,
  };
}
