import { quoteIdent } from '@dataflow/pg';
import type { Redactor } from './redact.js';
import type { RunStatus, SqlQuery } from './statuses.js';
import { storedError } from './stored-error.js';

/** Airflow task context, read by the CLI from `AIRFLOW_CTX_*`. */
export interface AirflowContext {
  dagId?: string | undefined;
  taskId?: string | undefined;
  dagRunId?: string | undefined;
  tryNumber?: number | undefined;
}

/** What `RunLog.startRun` records: the run row, written as `running`. */
export interface StartRunInput {
  runId: string;
  command: string;
  /** Arguments, already passed through `redactArgs`; redacted again with the run log's redactor. */
  args: readonly string[];
  project?: string | undefined;
  interval?: { start: string; end: string } | undefined;
  host?: string | undefined;
  version?: string | undefined;
  airflow?: AirflowContext | undefined;
}

/** What `RunLog.finishRun` records at the end of a run; `error` is stored redacted. */
export interface FinishRunInput {
  status: Exclude<RunStatus, 'running' | 'abandoned'>;
  exitCode: number;
  rowsIn?: number;
  rowsOut?: number;
  rowsRejected?: number;
  error?: unknown;
}

/**
 * The INSERT of a run row with status `running`. Pure.
 *
 * @example
 * startRunQuery('dataflow', { runId: 'r1', command: 'run', args: ['run'] }, createRedactor());
 */
export function startRunQuery(schema: string, input: StartRunInput, redactor: Redactor): SqlQuery {
  return {
    text: `insert into ${quoteIdent(schema)}.run_history (run_id, command, args, project, interval_start, interval_end, status, host, version,
  airflow_dag_id, airflow_task_id, airflow_dag_run_id, airflow_try_number)
values ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $9, $10, $11, $12)`,
    values: [
      input.runId,
      input.command,
      JSON.stringify(input.args.map((a) => redactor.redact(a))),
      input.project ?? null,
      input.interval?.start ?? null,
      input.interval?.end ?? null,
      input.host ?? null,
      input.version ?? null,
      input.airflow?.dagId ?? null,
      input.airflow?.taskId ?? null,
      input.airflow?.dagRunId ?? null,
      input.airflow?.tryNumber ?? null,
    ],
  };
}

/**
 * The UPDATE that closes a run row: final status, exit code, counts and the redacted error. It
 * also overwrites `abandoned`: a run whose liveness lock was lost but which did finish tells the
 * truth last. Pure.
 *
 * @example
 * finishRunQuery('dataflow', 'r1', { status: 'success', exitCode: 0 }, createRedactor());
 */
export function finishRunQuery(
  schema: string,
  runId: string,
  input: FinishRunInput,
  redactor: Redactor,
): SqlQuery {
  const e = storedError(input.error, redactor);
  return {
    text: `update ${quoteIdent(schema)}.run_history set status = $2, exit_code = $3, ended_at = clock_timestamp(),
  duration_ms = (extract(epoch from clock_timestamp() - started_at) * 1000)::bigint,
  rows_in = $4, rows_out = $5, rows_rejected = $6, error_class = $7, error_code = $8, error_message = $9
where run_id = $1`,
    values: [
      runId,
      input.status,
      input.exitCode,
      input.rowsIn ?? 0,
      input.rowsOut ?? 0,
      input.rowsRejected ?? 0,
      e.errorClass,
      e.errorCode,
      e.errorMessage,
    ],
  };
}
