import { quoteIdent } from '@dataflow/pg';
import type { Redactor } from './redact.js';
import type { JobStatus, SqlQuery } from './statuses.js';
import { storedError } from './stored-error.js';

/** What `RunLog.startJob` records: one step of a run on one target. */
export interface StartJobInput {
  runId: string;
  step: 'ingest' | 'load' | 'seed' | 'model' | 'test';
  target: string;
  partition?: string | undefined;
  /** A model / seed / snapshot / test node's unique id (`model.shop.orders`): its key across runs. */
  uniqueId?: string | undefined;
}

/** What `RunLog.finishJob` (and `RunLog.recordJob`) records; `error` is stored redacted. */
export interface FinishJobInput {
  status: Exclude<JobStatus, 'running' | 'abandoned'>;
  rowsIn?: number | undefined;
  rowsOut?: number | undefined;
  rowsRejected?: number | undefined;
  /** When the step ran without a `startJob` (e.g. measured by a library), its duration. */
  durationMs?: number | undefined;
  /** When it started, if the library measured it (ISO 8601); else now minus the duration. */
  startedAt?: string | undefined;
  error?: unknown;
}

/**
 * The INSERT of a `running` job row, returning `job_id`. Pure.
 *
 * @example
 * startJobQuery('dataflow', { runId: 'r1', step: 'load', target: 'orders', partition: '2026-05-01' });
 */
export function startJobQuery(schema: string, input: StartJobInput): SqlQuery {
  return {
    text: `insert into ${quoteIdent(schema)}.job_status (run_id, step, target, partition, status, unique_id) values ($1, $2, $3, $4, 'running', $5) returning job_id`,
    values: [input.runId, input.step, input.target, input.partition ?? null, input.uniqueId ?? null],
  };
}

/**
 * The UPDATE that closes a job row (duration measured by the server unless given). Pure.
 *
 * @example
 * finishJobQuery('dataflow', 7, { status: 'success', rowsOut: 5 }, createRedactor());
 */
export function finishJobQuery(
  schema: string,
  jobId: number,
  input: FinishJobInput,
  redactor: Redactor,
): SqlQuery {
  const e = storedError(input.error, redactor);
  return {
    text: `update ${quoteIdent(schema)}.job_status set status = $2, ended_at = clock_timestamp(),
  duration_ms = coalesce($3, (extract(epoch from clock_timestamp() - started_at) * 1000)::bigint),
  rows_in = $4, rows_out = $5, rows_rejected = $6, error_class = $7, error_code = $8, error_message = $9
where job_id = $1`,
    values: [
      jobId,
      input.status,
      input.durationMs ?? null,
      input.rowsIn ?? null,
      input.rowsOut ?? null,
      input.rowsRejected ?? null,
      e.errorClass,
      e.errorCode,
      e.errorMessage,
    ],
  };
}

/**
 * The INSERT of a step that already finished (start and end in one row), returning `job_id`. Pure.
 *
 * @example
 * recordJobQuery('dataflow', { runId: 'r1', step: 'model', target: 'dim_x', status: 'success', durationMs: 42 }, createRedactor());
 */
export function recordJobQuery(
  schema: string,
  input: StartJobInput & FinishJobInput,
  redactor: Redactor,
): SqlQuery {
  const e = storedError(input.error, redactor);
  return {
    text: `insert into ${quoteIdent(schema)}.job_status (run_id, step, target, partition, status, started_at, ended_at, duration_ms,
  rows_in, rows_out, rows_rejected, error_class, error_code, error_message, unique_id)
values ($1, $2, $3, $4, $5,
  coalesce($13::timestamptz, clock_timestamp() - make_interval(secs => coalesce($6, 0)::float8 / 1000)),
  coalesce($13::timestamptz + make_interval(secs => coalesce($6, 0)::float8 / 1000), clock_timestamp()), $6,
  $7, $8, $9, $10, $11, $12, $14)
returning job_id`,
    values: [
      input.runId,
      input.step,
      input.target,
      input.partition ?? null,
      input.status,
      input.durationMs ?? null,
      input.rowsIn ?? null,
      input.rowsOut ?? null,
      input.rowsRejected ?? null,
      e.errorClass,
      e.errorCode,
      e.errorMessage,
      input.startedAt ?? null,
      input.uniqueId ?? null,
    ],
  };
}
