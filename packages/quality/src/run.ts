import { isConnectionLost, sqlStateOf } from '@dataflow/pg';
import type pg from 'pg';
import { _statusForCounts, _statusMessage, type ResolvedTestConfig, resolveTestConfig } from './config.js';
import { QualityError } from './errors.js';
import { _sampleRow } from './sample.js';
import { quoteIdentifier, quoteLiteral, stripTrailingSemicolons } from './sql.js';
import type { CompiledTest, TestResult, TestStatus, TestSummary } from './types.js';

/** Structural logger (pino-compatible). */
export interface QualityLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options of {@link runTest}. */
export interface RunTestOptions {
  /** Aborting cancels the running statement (when `db` is a pool) and rejects with `ABORTED`. */
  signal?: AbortSignal;
  /** PostgreSQL statement_timeout for the test queries; a timeout gives status `error` (SQLSTATE 57014). */
  statementTimeoutMs?: number;
  logger?: QualityLogger;
}

/** Options of {@link runTests}. */
export interface RunTestsOptions {
  /** Tests run at most this many at a time, each on its own pooled connection. Default 4. */
  concurrency?: number;
  signal?: AbortSignal;
  statementTimeoutMs?: number;
  logger?: QualityLogger;
}

type Database = pg.Pool | pg.PoolClient | pg.Client;
type Session = pg.PoolClient | pg.Client;

interface Counts {
  failures: number;
  errorFailures: number;
  rows: Array<Record<string, unknown>>;
}

const SAVEPOINT = 'dataflow_quality_test';

function isPool(db: Database): db is pg.Pool {
  return 'totalCount' in db && 'idleCount' in db;
}

/**
 * Failures that are the environment's fault, not the test's, throw instead of giving `error`: a
 * lost connection, or anything that did not come from the server (no SQLSTATE).
 */
function isConnectionFailure(error: unknown): boolean {
  return sqlStateOf(error) === undefined || isConnectionLost(error);
}

function abortedError(test: string, cause?: unknown): QualityError {
  return new QualityError('ABORTED', `test ${test} was aborted`, { test, cause });
}

function connectionError(test: string, cause: unknown): QualityError {
  const sqlstate = sqlStateOf(cause);
  return new QualityError('CONNECTION_FAILED', `test ${test}: lost the database connection`, {
    test,
    cause,
    retryable: true,
    ...(sqlstate === undefined ? {} : { sqlstate }),
  });
}

/** The two statements a test runs: the failure count, and a sample of failing rows. */
export function _runnerSql(
  test: CompiledTest,
  config: ResolvedTestConfig,
): { count: string; sample: string } {
  const body = stripTrailingSemicolons(test.sql);
  const wrapped = `from (\n${body}\n) dbt_internal_test`;
  // A fail_calc such as sum(n_records) is NULL over zero rows: that is zero failures.
  const failures = config.failCalc === undefined ? 'count(*)' : `coalesce((${config.failCalc}), 0)::numeric`;
  const errorCount =
    test.statusColumn === undefined
      ? ''
      : `, count(*) filter (where ${quoteIdentifier(test.statusColumn)} = ${quoteLiteral('error')}) as error_failures`;
  return {
    count: `select ${failures} as failures${errorCount}\n${wrapped}`,
    sample: `select *\n${wrapped}\nlimit ${config.storeFailuresLimit}`,
  };
}

/** Quoted `"schema"."identifier"` of the relation a test stores its failing rows in. */
export function _storedRelationSql(test: CompiledTest): string | undefined {
  const stored = test.storeFailuresIn;
  return stored && `${quoteIdentifier(stored.schema)}.${quoteIdentifier(stored.identifier)}`;
}

/**
 * Replaces the store-failures relation with the test's rows (dbt drops and recreates it each run).
 * An advisory lock on its name serialises two runs storing the same test at once.
 */
async function storeFailingRows(session: Session, test: CompiledTest, relationSql: string): Promise<void> {
  const stored = test.storeFailuresIn as NonNullable<CompiledTest['storeFailuresIn']>;
  await session.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [
    `dataflow-store-failures:${relationSql}`,
  ]);
  await session.query(`create schema if not exists ${quoteIdentifier(stored.schema)}`);
  const existing = await session.query<{ relkind: string }>(
    `select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relname = $2`,
    [stored.schema, stored.identifier],
  );
  const relkind = existing.rows[0]?.relkind;
  if (relkind !== undefined) {
    await session.query(`drop ${relkind === 'v' ? 'view' : 'table'} ${relationSql} cascade`);
  }
  await session.query(`create ${stored.kind} ${relationSql} as\n${stripTrailingSemicolons(test.sql)}`);
}

/**
 * Runs count + sample on one session. Outside a transaction they share a read-only REPEATABLE READ
 * transaction (one snapshot); inside the caller's transaction (a temp relation in write-audit-publish)
 * they run under a savepoint, so a failing test SQL does not abort the caller's transaction.
 */
async function countAndSample(
  session: Session,
  test: CompiledTest,
  config: ResolvedTestConfig,
  options: RunTestOptions,
): Promise<Counts> {
  const stored = _storedRelationSql(test);
  const sql = _runnerSql(stored === undefined ? test : { ...test, sql: `select * from ${stored}` }, config);
  const status = typeof session.getTransactionStatus === 'function' ? session.getTransactionStatus() : 'I';
  const scope: 'transaction' | 'savepoint' | 'none' =
    status === 'T' ? 'savepoint' : status === 'E' ? 'none' : 'transaction';
  let begun = false;
  try {
    if (scope === 'transaction') {
      await session.query(`begin isolation level repeatable read${stored === undefined ? ' read only' : ''}`);
    } else if (scope === 'savepoint') {
      await session.query(`savepoint ${SAVEPOINT}`);
    }
    begun = true;
    let previousTimeout: string | undefined;
    if (options.statementTimeoutMs !== undefined && scope !== 'none') {
      if (scope === 'savepoint') {
        const current = await session.query<{ value: string }>(
          `select current_setting('statement_timeout') as value`,
        );
        previousTimeout = current.rows[0]?.value;
      }
      await session.query(`select set_config('statement_timeout', $1, true)`, [
        String(Math.max(1, Math.floor(options.statementTimeoutMs))),
      ]);
    }
    if (stored !== undefined) await storeFailingRows(session, test, stored);
    const counted = await session.query<{ failures: string; error_failures?: string }>(sql.count);
    const row = counted.rows[0];
    const failures = Number(row?.failures ?? 0);
    const errorFailures = test.statusColumn === undefined ? failures : Number(row?.error_failures ?? 0);
    let rows: Array<Record<string, unknown>> = [];
    if (failures !== 0 && config.storeFailuresLimit > 0) {
      rows = (await session.query<Record<string, unknown>>(sql.sample)).rows;
    }
    if (scope === 'transaction') {
      await session.query('commit');
    } else if (scope === 'savepoint') {
      // set_config(..., true) survives RELEASE SAVEPOINT until the caller's commit: put it back first.
      if (previousTimeout !== undefined) {
        await session.query(`select set_config('statement_timeout', $1, true)`, [previousTimeout]);
      }
      await session.query(`release savepoint ${SAVEPOINT}`);
    }
    return { failures, errorFailures, rows };
  } catch (error) {
    if (begun && !isConnectionFailure(error)) {
      try {
        if (scope === 'transaction') {
          await session.query('rollback');
        } else if (scope === 'savepoint') {
          await session.query(`rollback to savepoint ${SAVEPOINT}`);
          await session.query(`release savepoint ${SAVEPOINT}`);
        }
      } catch (rollbackError) {
        throw connectionError(test.name, new AggregateError([error, rollbackError], 'rollback failed'));
      }
    }
    throw error;
  }
}

/**
 * Runs one compiled test: counts its failing rows, keeps a sample of up to `storeFailuresLimit` of them,
 * and applies severity and thresholds. A database error raised by the test SQL gives status `error`
 * (with the SQLSTATE); only a lost connection (`CONNECTION_FAILED`, retryable) or an abort (`ABORTED`) throw.
 * With a pool, a connection is taken and released; with a client, it runs on that session (needed for
 * temp relations) and leaves its transaction state as it found it.
 *
 * @example
 * const result = await runTest(pool, compileGenericTest(inv, ctx));
 * if (result.status === 'fail') console.log(result.failures, result.sample);
 */
export async function runTest(
  db: Database,
  test: CompiledTest,
  options: RunTestOptions = {},
): Promise<TestResult> {
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const { signal } = options;
  if (signal?.aborted) throw abortedError(test.name, signal.reason);
  if (test.pending) {
    throw new QualityError(
      'INVALID_ARGUMENT',
      `test ${test.name}: its SQL is pending (the body rendered nothing offline): render it again with execute true before running it`,
      { test: test.name },
    );
  }
  const config = resolveTestConfig(test.config);
  const base = {
    name: test.name,
    test: test.test,
    ...(test.model === undefined ? {} : { model: test.model }),
    ...(test.column === undefined ? {} : { column: test.column }),
    severity: config.severity,
    sql: test.sql,
    startedAt,
  };
  const finish = (
    status: TestStatus,
    counts: Counts,
    extra: { message?: string; sqlstate?: string } = {},
  ): TestResult => {
    const result: TestResult = {
      ...base,
      status,
      failures: counts.failures,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      sample: counts.rows.map((row) => _sampleRow(row, test.keyColumns)),
    };
    if (extra.message !== undefined) result.message = extra.message;
    if (extra.sqlstate !== undefined) result.sqlstate = extra.sqlstate;
    const storedIn = _storedRelationSql(test);
    if (storedIn !== undefined && status !== 'error') result.storedIn = storedIn;
    options.logger?.debug({ test: test.name, status, failures: counts.failures }, 'data test finished');
    return result;
  };

  let session: Session;
  const pool = isPool(db) ? db : undefined;
  if (pool !== undefined) {
    try {
      session = await pool.connect();
    } catch (error) {
      throw connectionError(test.name, error);
    }
  } else {
    session = db as Session;
  }
  // Cancelling needs a second connection, which only a pool gives us; on a caller's client the
  // abort is noticed when the running statement ends (bound it with statementTimeoutMs).
  const pid = (session as unknown as { processID?: unknown }).processID;
  const onAbort = () => {
    if (pool === undefined || typeof pid !== 'number') return;
    pool.query('select pg_cancel_backend($1)', [pid]).catch((error: unknown) => {
      options.logger?.warn({ test: test.name, err: error }, 'could not cancel an aborted data test');
    });
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let broken: Error | undefined;
  try {
    const counts = await countAndSample(session, test, config, options);
    if (signal?.aborted) throw abortedError(test.name, signal.reason);
    const status = _statusForCounts(counts.failures, counts.errorFailures, config);
    const message = _statusMessage(status, counts.failures, counts.errorFailures, config);
    return finish(status, counts, message === undefined ? {} : { message });
  } catch (error) {
    if (error instanceof QualityError) {
      if (error.code === 'CONNECTION_FAILED') broken = error;
      throw error;
    }
    if (signal?.aborted) throw abortedError(test.name, error);
    if (isConnectionFailure(error)) {
      broken = error instanceof Error ? error : new Error('connection failure');
      throw connectionError(test.name, error);
    }
    const sqlstate = sqlStateOf(error) as string;
    const message = `SQLSTATE ${sqlstate}: ${(error as Error).message}`;
    options.logger?.warn({ test: test.name, sqlstate }, 'data test SQL failed');
    return finish('error', { failures: 0, errorFailures: 0, rows: [] }, { message, sqlstate });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // A session whose state is unknown is destroyed by the pool instead of being reused.
    if (pool !== undefined) (session as pg.PoolClient).release(broken);
  }
}

/**
 * Runs tests with bounded concurrency; results keep the order of `tests`. Each test gets its own pooled
 * connection. When one throws (lost connection, abort), no new test starts, the running ones finish,
 * and the first error is rethrown.
 *
 * @example
 * const results = await runTests(pool, tests, { concurrency: 4 });
 * if (summarize(results).hasErrors) process.exitCode = 3;
 */
export async function runTests(
  pool: pg.Pool,
  tests: CompiledTest[],
  options: RunTestsOptions = {},
): Promise<TestResult[]> {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new QualityError('INVALID_CONFIG', 'concurrency must be a positive integer');
  }
  if (options.signal?.aborted) throw abortedError('(run)', options.signal.reason);
  const results = new Array<TestResult>(tests.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const runOptions: RunTestOptions = {};
  if (options.signal !== undefined) runOptions.signal = options.signal;
  if (options.statementTimeoutMs !== undefined) runOptions.statementTimeoutMs = options.statementTimeoutMs;
  if (options.logger !== undefined) runOptions.logger = options.logger;
  const worker = async () => {
    while (failure === undefined && next < tests.length) {
      const index = next++;
      try {
        results[index] = await runTest(pool, tests[index] as CompiledTest, runOptions);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tests.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}

/**
 * Counts results by status. `hasErrors` is true when a test failed (error severity over `error_if`) or
 * could not run: the build must stop. Warnings never set it.
 *
 * @example
 * summarize(results); // { pass: 18, warn: 1, fail: 1, error: 0, total: 20, hasErrors: true }
 */
export function summarize(results: TestResult[]): TestSummary {
  const summary: TestSummary = {
    pass: 0,
    warn: 0,
    fail: 0,
    error: 0,
    total: results.length,
    hasErrors: false,
  };
  for (const result of results) summary[result.status] += 1;
  summary.hasErrors = summary.fail > 0 || summary.error > 0;
  return summary;
}
