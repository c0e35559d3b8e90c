import type pg from 'pg';
import { RunlogError } from './errors.js';
import { createRedactor, type Redactor } from './redact.js';
import { capSample, type SampleLimits } from './sample.js';
import { type JobStatus, MIGRATIONS, migrationsTableSql, quoteIdent, type RunStatus } from './schema.js';

/** Airflow task context, read by the CLI from `AIRFLOW_CTX_*`. */
export interface AirflowContext {
  dagId?: string | undefined;
  taskId?: string | undefined;
  dagRunId?: string | undefined;
  tryNumber?: number | undefined;
}

/** What {@link RunLog.startRun} records: the run row, written as `running`. */
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

/** What {@link RunLog.finishRun} records at the end of a run; `error` is stored redacted. */
export interface FinishRunInput {
  status: Exclude<RunStatus, 'running'>;
  exitCode: number;
  rowsIn?: number;
  rowsOut?: number;
  rowsRejected?: number;
  error?: unknown;
}

/** What {@link RunLog.startJob} records: one step of a run on one target. */
export interface StartJobInput {
  runId: string;
  step: 'ingest' | 'load' | 'seed' | 'model' | 'test';
  target: string;
  partition?: string | undefined;
}

/** What {@link RunLog.finishJob} (and {@link RunLog.recordJob}) records; `error` is stored redacted. */
export interface FinishJobInput {
  status: Exclude<JobStatus, 'running'>;
  rowsIn?: number | undefined;
  rowsOut?: number | undefined;
  rowsRejected?: number | undefined;
  /** When the step ran without a `startJob` (e.g. measured by a library), its duration. */
  durationMs?: number | undefined;
  error?: unknown;
}

/** One row count of a dataset at a stage, for {@link RunLog.recordRowCount}. */
export interface RowCountInput {
  runId: string;
  dataset: string;
  partition?: string | undefined;
  /** e.g. `ingested`, `loaded`, `rejected`, `built`. */
  stage: string;
  rows: number;
}

/** One data-test result for {@link RunLog.recordTestResults}; the sample is capped. */
export interface TestResultInput {
  uniqueId?: string | undefined;
  name: string;
  status: 'pass' | 'warn' | 'fail' | 'error' | 'skipped';
  severity?: string | undefined;
  failures?: number | undefined;
  sql?: string | undefined;
  sample?: readonly unknown[] | undefined;
  message?: string | undefined;
  durationMs?: number | undefined;
}

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

/** A stored row count, as {@link RunLog.getRun} returns it. */
export interface RowCountRecord {
  dataset: string;
  partition: string | null;
  stage: string;
  rows: number;
  measuredAt: Date;
}

/** A stored data-test result, as {@link RunLog.getRun} returns it. */
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

/** Options of {@link createRunLog}. */
export interface CreateRunLogOptions {
  /** Schema holding the metadata tables. Default `dataflow`. */
  schema?: string;
  /** Scrubs error messages and args before they are stored. */
  redactor?: Redactor;
  sampleLimits?: Partial<SampleLimits>;
}

/** The run log: metadata tables in PostgreSQL, one row per invocation and per step. */
export interface RunLog {
  readonly schema: string;
  /** Creates/upgrades the tables; idempotent and safe to call from concurrent processes. */
  migrate(): Promise<{ applied: number[] }>;
  startRun(input: StartRunInput): Promise<void>;
  finishRun(runId: string, input: FinishRunInput): Promise<void>;
  startJob(input: StartJobInput): Promise<number>;
  finishJob(jobId: number, input: FinishJobInput): Promise<void>;
  /** Records a step that already finished (start and end in one row). */
  recordJob(input: StartJobInput & FinishJobInput): Promise<number>;
  recordRowCount(input: RowCountInput): Promise<void>;
  recordTestResults(runId: string, results: readonly TestResultInput[]): Promise<void>;
  listRuns(options?: { limit?: number }): Promise<RunRecord[]>;
  getRun(runId: string): Promise<RunDetail | undefined>;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const MIGRATION_LOCK_NAMESPACE = 0x64660001; // 'df' + 1: keeps our advisory lock ids apart from other packages'

/**
 * Creates the run log over an injected pool.
 *
 * @example
 * const runLog = createRunLog(pool, { schema: 'dataflow' });
 * await runLog.migrate();
 * await runLog.startRun({ runId, command: 'run', args: redactArgs(argv) });
 * await runLog.finishRun(runId, { status: 'success', exitCode: 0, rowsIn: 10 });
 */
export function createRunLog(pool: pg.Pool, options: CreateRunLogOptions = {}): RunLog {
  const schema = options.schema ?? 'dataflow';
  if (!SCHEMA_NAME.test(schema)) {
    throw new RunlogError('INVALID_SCHEMA_NAME', `invalid run log schema name: ${JSON.stringify(schema)}`);
  }
  const s = quoteIdent(schema);
  const redactor = options.redactor ?? createRedactor();

  const query = async <R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []) => {
    try {
      return await pool.query<R>(sql, params);
    } catch (cause) {
      throw new RunlogError('QUERY_FAILED', `run log: ${what} failed`, { cause });
    }
  };

  const errorFields = (error: unknown) => {
    if (error === undefined || error === null) return [null, null, null];
    const e = error as { name?: unknown; code?: unknown; message?: unknown };
    const cls = typeof e.name === 'string' ? e.name : 'Error';
    const code = typeof e.code === 'string' ? e.code : null;
    const message = redactor.redact(typeof e.message === 'string' ? e.message : String(error)).slice(0, 4000);
    return [cls, code, message];
  };

  return {
    schema,

    async migrate() {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (cause) {
        const code = (cause as { code?: unknown }).code;
        const why = typeof code === 'string' ? ` (${code})` : '';
        throw new RunlogError('MIGRATION_FAILED', `run log: cannot connect to PostgreSQL${why}`, { cause });
      }
      const applied: number[] = [];
      let broken: Error | undefined;
      try {
        await client.query('begin');
        // Serialises concurrent CLI processes (Airflow runs tasks in parallel) on the same schema.
        await client.query('select pg_advisory_xact_lock($1, hashtext($2))', [
          MIGRATION_LOCK_NAMESPACE,
          schema,
        ]);
        for (const sql of migrationsTableSql(schema)) await client.query(sql);
        const done = await client.query<{ version: number }>(`select version from ${s}.schema_migrations`);
        const have = new Set(done.rows.map((r) => r.version));
        for (const m of MIGRATIONS) {
          if (have.has(m.version)) continue;
          for (const sql of m.statements(schema)) await client.query(sql);
          await client.query(`insert into ${s}.schema_migrations (version, description) values ($1, $2)`, [
            m.version,
            m.description,
          ]);
          applied.push(m.version);
        }
        await client.query('commit');
        return { applied };
      } catch (cause) {
        // A rollback that fails means the session is unusable: the pool destroys it instead of
        // reusing it. The migration error is the one to report.
        await client.query('rollback').catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error('rollback failed');
        });
        throw new RunlogError('MIGRATION_FAILED', `run log: migrating schema ${schema} failed`, { cause });
      } finally {
        client.release(broken);
      }
    },

    async startRun(input) {
      await query(
        'startRun',
        `insert into ${s}.run_history (run_id, command, args, project, interval_start, interval_end, status, host, version,
  airflow_dag_id, airflow_task_id, airflow_dag_run_id, airflow_try_number)
values ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $9, $10, $11, $12)`,
        [
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
      );
    },

    async finishRun(runId, input) {
      const [cls, code, message] = errorFields(input.error);
      const res = await query(
        'finishRun',
        `update ${s}.run_history set status = $2, exit_code = $3, ended_at = clock_timestamp(),
  duration_ms = (extract(epoch from clock_timestamp() - started_at) * 1000)::bigint,
  rows_in = $4, rows_out = $5, rows_rejected = $6, error_class = $7, error_code = $8, error_message = $9
where run_id = $1`,
        [
          runId,
          input.status,
          input.exitCode,
          input.rowsIn ?? 0,
          input.rowsOut ?? 0,
          input.rowsRejected ?? 0,
          cls,
          code,
          message,
        ],
      );
      if (res.rowCount === 0)
        throw new RunlogError('RUN_NOT_FOUND', 'run log: finishRun for an unknown run id');
    },

    async startJob(input) {
      const res = await query<{ job_id: string }>(
        'startJob',
        `insert into ${s}.job_status (run_id, step, target, partition, status) values ($1, $2, $3, $4, 'running') returning job_id`,
        [input.runId, input.step, input.target, input.partition ?? null],
      );
      return Number(res.rows[0]?.job_id);
    },

    async finishJob(jobId, input) {
      const [cls, code, message] = errorFields(input.error);
      await query(
        'finishJob',
        `update ${s}.job_status set status = $2, ended_at = clock_timestamp(),
  duration_ms = coalesce($3, (extract(epoch from clock_timestamp() - started_at) * 1000)::bigint),
  rows_in = $4, rows_out = $5, rows_rejected = $6, error_class = $7, error_code = $8, error_message = $9
where job_id = $1`,
        [
          jobId,
          input.status,
          input.durationMs ?? null,
          input.rowsIn ?? null,
          input.rowsOut ?? null,
          input.rowsRejected ?? null,
          cls,
          code,
          message,
        ],
      );
    },

    async recordJob(input) {
      const [cls, code, message] = errorFields(input.error);
      const res = await query<{ job_id: string }>(
        'recordJob',
        `insert into ${s}.job_status (run_id, step, target, partition, status, started_at, ended_at, duration_ms,
  rows_in, rows_out, rows_rejected, error_class, error_code, error_message)
values ($1, $2, $3, $4, $5, clock_timestamp() - make_interval(secs => coalesce($6, 0)::float8 / 1000), clock_timestamp(), $6,
  $7, $8, $9, $10, $11, $12)
returning job_id`,
        [
          input.runId,
          input.step,
          input.target,
          input.partition ?? null,
          input.status,
          input.durationMs ?? null,
          input.rowsIn ?? null,
          input.rowsOut ?? null,
          input.rowsRejected ?? null,
          cls,
          code,
          message,
        ],
      );
      return Number(res.rows[0]?.job_id);
    },

    async recordRowCount(input) {
      await query(
        'recordRowCount',
        `insert into ${s}.row_counts (run_id, dataset, partition, stage, rows) values ($1, $2, $3, $4, $5)`,
        [input.runId, input.dataset, input.partition ?? null, input.stage, input.rows],
      );
    },

    async recordTestResults(runId, results) {
      if (results.length === 0) return;
      const rows = results.map((r) => {
        const { rows: sample, truncated } = capSample(r.sample ?? [], options.sampleLimits);
        return [
          r.uniqueId ?? null,
          r.name,
          r.status,
          r.severity ?? null,
          r.failures ?? 0,
          r.sql ?? null,
          JSON.stringify(redactor.redactValue(sample)),
          truncated,
          r.message === undefined ? null : redactor.redact(r.message),
          r.durationMs ?? null,
        ];
      });
      // One statement for the batch: unnest of parallel arrays keeps values bound.
      const column = (i: number) => rows.map((r) => r[i]);
      await query(
        'recordTestResults',
        `insert into ${s}.test_results (run_id, unique_id, test_name, status, severity, failures, sql, sample, sample_truncated, message, duration_ms)
select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::jsonb[], $9::boolean[], $10::text[], $11::bigint[])`,
        [runId, ...Array.from({ length: 10 }, (_, i) => column(i))],
      );
    },

    async listRuns({ limit = 20 } = {}) {
      const res = await query<RunRow>(
        'listRuns',
        `select * from ${s}.run_history order by started_at desc, run_id desc limit $1`,
        [Math.max(1, Math.min(limit, 10_000))],
      );
      return res.rows.map(toRunRecord);
    },

    async getRun(runId) {
      const run = await query<RunRow>('getRun', `select * from ${s}.run_history where run_id = $1`, [runId]);
      const row = run.rows[0];
      if (!row) return undefined;
      const [jobs, counts, tests] = await Promise.all([
        query<JobRow>('getRun', `select * from ${s}.job_status where run_id = $1 order by job_id`, [runId]),
        query<CountRow>('getRun', `select * from ${s}.row_counts where run_id = $1 order by id`, [runId]),
        query<TestRow>('getRun', `select * from ${s}.test_results where run_id = $1 order by id`, [runId]),
      ]);
      return {
        ...toRunRecord(row),
        jobs: jobs.rows.map(toJobRecord),
        rowCounts: counts.rows.map((c) => ({
          dataset: c.dataset,
          partition: c.partition,
          stage: c.stage,
          rows: Number(c.rows),
          measuredAt: c.measured_at,
        })),
        testResults: tests.rows.map((t) => ({
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
    },
  };
}

interface RunRow {
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

interface JobRow {
  job_id: string;
  run_id: string;
  step: StartJobInput['step'];
  target: string;
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

interface CountRow {
  dataset: string;
  partition: string | null;
  stage: string;
  rows: string;
  measured_at: Date;
}

interface TestRow {
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

function toRunRecord(r: RunRow): RunRecord {
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

function toJobRecord(r: JobRow): JobRecord {
  return {
    jobId: Number(r.job_id),
    runId: r.run_id,
    step: r.step,
    target: r.target,
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
