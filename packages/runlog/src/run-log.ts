import { setTimeout as sleep } from 'node:timers/promises';
import { classifyPgError, inTransaction, withClient } from '@dataflow/pg';
import type pg from 'pg';
import { RunlogError } from './errors.js';
import {
  type FinishJobInput,
  finishJobQuery,
  recordJobQuery,
  type StartJobInput,
  startJobQuery,
} from './job-status.js';
import {
  abandonDeadRunsQuery,
  runAliveQuery,
  runLockQuery,
  runTokenDeadQuery,
  runUnlockQuery,
} from './liveness.js';
import {
  appliedVersionsQuery,
  migrationLockQuery,
  migrationsTableSql,
  pendingMigrations,
  recordMigrationQuery,
} from './migrations.js';
import {
  type CountRow,
  type JobRow,
  listRunsQuery,
  type RunDetail,
  type RunRecord,
  type RunRow,
  runDetailQueries,
  type TestRow,
  toRunDetail,
  toRunRecord,
} from './queries.js';
import { createRedactor, type Redactor } from './redact.js';
import { type RowCountInput, rowCountQuery } from './row-counts.js';
import { type FinishRunInput, finishRunQuery, type StartRunInput, startRunQuery } from './run-rows.js';
import type { SampleLimits } from './sample.js';
import type { SqlQuery } from './statuses.js';
import { type TestResultInput, testResultsQuery } from './test-results.js';

/** Bounded retry of the final run-log write: the write that turns `running` into an outcome. */
export interface FinishRetry {
  /** Attempts in all, including the first. Default 4. */
  attempts: number;
  /** Wait before the second attempt, doubled after each. Default 250 ms. */
  delayMs: number;
}

/** Options of {@link createRunLog}. */
export interface CreateRunLogOptions {
  /** Schema holding the metadata tables. Default `dataflow`. */
  schema?: string;
  /** Scrubs error messages, args, test SQL and samples before they are stored. */
  redactor?: Redactor;
  sampleLimits?: Partial<SampleLimits>;
  finishRetry?: Partial<FinishRetry>;
}

/** The run log: metadata tables in PostgreSQL, one row per invocation and per step. */
export interface RunLog {
  readonly schema: string;
  /** Creates/upgrades the tables; idempotent and safe to call from concurrent processes. */
  migrate(): Promise<{ applied: number[] }>;
  /**
   * Records the run as `running` after taking its liveness lock on a connection of the pool that
   * it keeps until {@link RunLog.finishRun}: while the process lives, the run is visibly alive.
   */
  startRun(input: StartRunInput): Promise<void>;
  /** Records the outcome (retried on connection failures, bounded) and releases the liveness lock. */
  finishRun(runId: string, input: FinishRunInput): Promise<void>;
  startJob(input: StartJobInput): Promise<number>;
  finishJob(jobId: number, input: FinishJobInput): Promise<void>;
  /** Records a step that already finished (start and end in one row). */
  recordJob(input: StartJobInput & FinishJobInput): Promise<number>;
  recordRowCount(input: RowCountInput): Promise<void>;
  recordTestResults(runId: string, results: readonly TestResultInput[]): Promise<void>;
  listRuns(options?: { limit?: number }): Promise<RunRecord[]>;
  getRun(runId: string): Promise<RunDetail | undefined>;
  /** Marks `running` runs whose process is gone (no liveness lock) as `abandoned`; returns their ids. */
  abandonDeadRuns(): Promise<string[]>;
  /** Is the run's liveness lock held by some session now? */
  isRunAlive(runId: string): Promise<boolean>;
  /** Is the run of this `runToken` (see `@dataflow/pg`) recorded here and gone? The sweep's `isDead`. */
  isRunTokenDead(token: string): Promise<boolean>;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const DEFAULT_FINISH_RETRY: FinishRetry = { attempts: 4, delayMs: 250 };

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
  const redactor = options.redactor ?? createRedactor();
  const retry = { ...DEFAULT_FINISH_RETRY, ...options.finishRetry };
  const query = <R extends pg.QueryResultRow>(what: string, q: SqlQuery) => runQuery<R>(pool, what, q);
  const locks = new Map<string, pg.PoolClient>();

  return {
    schema,
    migrate: () => migrate(pool, schema),
    async startRun(input) {
      locks.set(input.runId, await holdLivenessLock(pool, input.runId));
      try {
        await query('startRun', startRunQuery(schema, input, redactor));
      } catch (error) {
        await releaseLivenessLock(locks, input.runId);
        throw error;
      }
    },
    async finishRun(runId, input) {
      try {
        const res = await withRetry(retry, () =>
          query('finishRun', finishRunQuery(schema, runId, input, redactor)),
        );
        if (res.rowCount === 0)
          throw new RunlogError('RUN_NOT_FOUND', 'run log: finishRun for an unknown run id');
      } finally {
        await releaseLivenessLock(locks, runId);
      }
    },
    async startJob(input) {
      const res = await query<{ job_id: string }>('startJob', startJobQuery(schema, input));
      return Number(res.rows[0]?.job_id);
    },
    async finishJob(jobId, input) {
      await query('finishJob', finishJobQuery(schema, jobId, input, redactor));
    },
    async recordJob(input) {
      const res = await query<{ job_id: string }>('recordJob', recordJobQuery(schema, input, redactor));
      return Number(res.rows[0]?.job_id);
    },
    async recordRowCount(input) {
      await query('recordRowCount', rowCountQuery(schema, input));
    },
    async recordTestResults(runId, results) {
      const q = testResultsQuery(schema, runId, results, redactor, options.sampleLimits);
      if (q) await query('recordTestResults', q);
    },
    async listRuns({ limit = 20 } = {}) {
      return (await query<RunRow>('listRuns', listRunsQuery(schema, limit))).rows.map(toRunRecord);
    },
    getRun: (runId) => getRun(query, schema, runId),
    async abandonDeadRuns() {
      return (await query<{ run_id: string }>('abandonDeadRuns', abandonDeadRunsQuery(schema))).rows.map(
        (r) => r.run_id,
      );
    },
    async isRunAlive(runId) {
      return (await query<{ alive: boolean }>('isRunAlive', runAliveQuery(runId))).rows[0]?.alive === true;
    },
    async isRunTokenDead(token) {
      return (
        (await query<{ dead: boolean }>('isRunTokenDead', runTokenDeadQuery(schema, token))).rows[0]?.dead ===
        true
      );
    },
  };
}

async function runQuery<R extends pg.QueryResultRow>(pool: pg.Pool, what: string, q: SqlQuery) {
  try {
    return await pool.query<R>(q.text, q.values);
  } catch (cause) {
    throw new RunlogError('QUERY_FAILED', `run log: ${what} failed: ${causeText(cause)}`, { cause });
  }
}

/** The cause in a few words (SQLSTATE or errno and its message): never bound values. */
function causeText(cause: unknown): string {
  const { code, message } = cause as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' && message ? message.split('\n')[0] : String(cause);
  return typeof code === 'string' ? `${code} ${text}` : (text ?? 'unknown error');
}

async function migrate(pool: pg.Pool, schema: string): Promise<{ applied: number[] }> {
  // The first connection of a run: "cannot connect" is the message an operator needs then.
  const source = {
    async connect() {
      try {
        return await pool.connect();
      } catch (cause) {
        // The errno when there is one, else the first line (a connect timeout has no code).
        const { code, message } = cause as { code?: unknown; message?: unknown };
        const text = typeof message === 'string' ? message.split('\n')[0] : undefined;
        const why = typeof code === 'string' ? ` (${code})` : text ? ` (${text})` : '';
        throw new RunlogError('MIGRATION_FAILED', `run log: cannot connect to PostgreSQL${why}`, { cause });
      }
    },
  };
  try {
    return await withClient(source, (client) =>
      inTransaction(client, async () => {
        // Serialises concurrent CLI processes (Airflow runs tasks in parallel) on the same schema.
        const lock = migrationLockQuery(schema);
        await client.query(lock.text, lock.values);
        for (const sql of migrationsTableSql(schema)) await client.query(sql);
        const have = appliedVersionsQuery(schema);
        const done = await client.query<{ version: number }>(have.text, have.values);
        const applied: number[] = [];
        for (const m of pendingMigrations(done.rows.map((r) => r.version))) {
          for (const sql of m.statements(schema)) await client.query(sql);
          const record = recordMigrationQuery(schema, m);
          await client.query(record.text, record.values);
          applied.push(m.version);
        }
        return { applied };
      }),
    );
  } catch (cause) {
    if (cause instanceof RunlogError) throw cause;
    throw new RunlogError(
      'MIGRATION_FAILED',
      `run log: migrating schema ${schema} failed: ${causeText(cause)}`,
      {
        cause,
      },
    );
  }
}

async function getRun(
  query: <R extends pg.QueryResultRow>(what: string, q: SqlQuery) => Promise<pg.QueryResult<R>>,
  schema: string,
  runId: string,
): Promise<RunDetail | undefined> {
  const q = runDetailQueries(schema, runId);
  const run = (await query<RunRow>('getRun', q.run)).rows[0];
  if (!run) return undefined;
  const [jobs, rowCounts, testResults] = await Promise.all([
    query<JobRow>('getRun', q.jobs),
    query<CountRow>('getRun', q.rowCounts),
    query<TestRow>('getRun', q.testResults),
  ]);
  return toRunDetail({ run, jobs: jobs.rows, rowCounts: rowCounts.rows, testResults: testResults.rows });
}

const STOP_IGNORING = Symbol('stopIgnoringErrors');

/** A connection of the pool kept for the whole run, holding the run's liveness lock. */
async function holdLivenessLock(pool: pg.Pool, runId: string): Promise<pg.PoolClient> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (cause) {
    throw new RunlogError('QUERY_FAILED', `run log: startRun failed: ${causeText(cause)}`, { cause });
  }
  // Losing this connection only makes the run look dead to later runs; finishRun still records
  // the truth. Without a listener the error would crash the process.
  const ignore = () => undefined;
  client.on('error', ignore);
  try {
    const lock = runLockQuery(runId);
    await client.query(lock.text, lock.values);
    return Object.assign(client, { [STOP_IGNORING]: () => client.removeListener('error', ignore) });
  } catch (cause) {
    client.removeListener('error', ignore);
    client.release(true);
    throw new RunlogError('QUERY_FAILED', `run log: startRun failed: ${causeText(cause)}`, { cause });
  }
}

async function releaseLivenessLock(locks: Map<string, pg.PoolClient>, runId: string): Promise<void> {
  const client = locks.get(runId);
  if (!client) return;
  locks.delete(runId);
  const unlock = runUnlockQuery(runId);
  const ok = await client.query(unlock.text, unlock.values).then(
    () => true,
    () => false,
  );
  (client as { [STOP_IGNORING]?: () => void })[STOP_IGNORING]?.();
  // A session that could not unlock is destroyed: ending it is what releases the lock then.
  client.release(ok ? undefined : true);
}

async function withRetry<T>(retry: FinishRetry, fn: () => Promise<T>): Promise<T> {
  let delay = retry.delayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const failure = classifyPgError((error as { cause?: unknown }).cause ?? error);
      if (attempt >= retry.attempts || !(failure.retryable || failure.connectionLost)) throw error;
      await sleep(delay);
      delay *= 2;
    }
  }
}
