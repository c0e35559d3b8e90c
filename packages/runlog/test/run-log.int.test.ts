import { backendPids, createPool, runToken } from '@dataflow/pg';
import { useTestDatabase } from '@dataflow/testkit';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ABANDONED_MESSAGE,
  createRedactor,
  createRunLog,
  RUN_LOCK_NAMESPACE,
  RunlogError,
} from '../src/index.js';

describe('run log on PostgreSQL', () => {
  const db = useTestDatabase();
  const schemaFor = (suffix: string) => `${db.schema}_${suffix}`;
  afterAll(async () => {
    for (const suffix of ['mig', 'run', 'list']) {
      await db.pool.query(`drop schema if exists "${schemaFor(suffix)}" cascade`);
    }
  });

  it('migrates idempotently and concurrently (advisory lock): tables created once', async () => {
    const schema = schemaFor('mig');
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: db.url, max: 1 }));
    try {
      const results = await Promise.all(pools.map((p) => createRunLog(p, { schema }).migrate()));
      expect(results.flatMap((r) => r.applied)).toEqual([1, 2, 3]);
      const again = await createRunLog(db.pool, { schema }).migrate();
      expect(again.applied).toEqual([]);
      const { rows } = await db.pool.query<{ table_name: string }>(
        'select table_name from information_schema.tables where table_schema = $1 order by 1',
        [schema],
      );
      expect(rows.map((r) => r.table_name)).toEqual([
        'job_status',
        'row_counts',
        'run_history',
        'schema_migrations',
        'test_results',
      ]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await db.pool.query(`drop schema if exists "${schema}" cascade`);
    }
  });

  it('records a run: running at start, counts, jobs, row counts and capped test samples at the end', async () => {
    const schema = schemaFor('run');
    const redactor = createRedactor(['tok-SECRET-1']);
    const runLog = createRunLog(db.pool, { schema, redactor, sampleLimits: { maxRows: 2 } });
    await runLog.migrate();
    await runLog.startRun({
      runId: 'r-1',
      command: 'run',
      args: ['run', '--date', '2026-05-01', 'tok-SECRET-1'],
      project: '/p',
      interval: { start: '2026-05-01', end: '2026-05-02' },
      host: 'h',
      version: '0.1.0',
      airflow: { dagId: 'shop', taskId: 'ingest_orders', dagRunId: 'scheduled__2026-05-01', tryNumber: 2 },
    });
    const running = await runLog.getRun('r-1');
    expect(running?.status).toBe('running');
    expect(running?.endedAt).toBeNull();
    expect(running?.args).toEqual(['run', '--date', '2026-05-01', '***']);

    const ingest = await runLog.startJob({
      runId: 'r-1',
      step: 'ingest',
      target: 'orders',
      partition: '2026-05-01',
    });
    await runLog.finishJob(ingest, { status: 'success', rowsIn: 5, rowsOut: 5, rowsRejected: 0 });
    await runLog.recordJob({
      runId: 'r-1',
      step: 'model',
      target: 'stg_orders',
      status: 'failed',
      durationMs: 42,
      error: Object.assign(new Error('relation x failed, token tok-SECRET-1'), { code: 'BUILD_FAILED' }),
    });
    await runLog.recordRowCount({
      runId: 'r-1',
      dataset: 'orders',
      partition: '2026-05-01',
      stage: 'loaded',
      rows: 5,
    });
    await runLog.recordTestResults('r-1', [
      {
        uniqueId: 'test.not_null_orders_id',
        name: 'not_null_orders_id',
        status: 'fail',
        severity: 'error',
        failures: 3,
        sql: "select * from orders where id is null and api_token = 'tok-SECRET-1'",
        sample: [{ id: null, note: 'a' }, { id: null, note: 'tok-SECRET-1' }, { id: null }],
        durationMs: 7,
      },
      { name: 'unique_orders_id', status: 'pass', failures: 0 },
    ]);
    await runLog.finishRun('r-1', {
      status: 'failed',
      exitCode: 3,
      rowsIn: 5,
      rowsOut: 5,
      rowsRejected: 0,
      error: new Error('1 data test failed'),
    });

    const run = await runLog.getRun('r-1');
    expect(run).toMatchObject({
      status: 'failed',
      exitCode: 3,
      rowsIn: 5,
      rowsOut: 5,
      intervalStart: '2026-05-01',
      intervalEnd: '2026-05-02',
      errorClass: 'Error',
      errorMessage: '1 data test failed',
      airflow: { dagId: 'shop', taskId: 'ingest_orders', dagRunId: 'scheduled__2026-05-01', tryNumber: 2 },
    });
    expect(run?.durationMs).toBeGreaterThanOrEqual(0);
    expect(run?.jobs.map((j) => [j.step, j.target, j.partition, j.status, j.rowsOut])).toEqual([
      ['ingest', 'orders', '2026-05-01', 'success', 5],
      ['model', 'stg_orders', null, 'failed', null],
    ]);
    expect(run?.jobs[1]).toMatchObject({
      durationMs: 42,
      errorCode: 'BUILD_FAILED',
      errorMessage: 'relation x failed, token ***',
    });
    expect(run?.rowCounts.map((c) => [c.dataset, c.partition, c.stage, c.rows])).toEqual([
      ['orders', '2026-05-01', 'loaded', 5],
    ]);
    expect(run?.testResults).toHaveLength(2);
    expect(run?.testResults[0]).toMatchObject({
      testName: 'not_null_orders_id',
      status: 'fail',
      failures: 3,
      sample: [
        { id: null, note: 'a' },
        { id: null, note: '***' },
      ],
      sampleTruncated: true,
    });
    const stored = await db.pool.query(
      `select count(*)::int as n from "${schema}".run_history where args::text like '%SECRET%'`,
    );
    expect(stored.rows[0]?.n).toBe(0);
    // The test SQL in test_results (printed by `runs --json`) is redacted like everything else.
    expect(run?.testResults[0]?.sql).toBe("select * from orders where id is null and api_token = '***'");
    const storedSql = await db.pool.query(
      `select count(*)::int as n from "${schema}".test_results where sql like '%SECRET%' or sample::text like '%SECRET%'`,
    );
    expect(storedSql.rows[0]?.n).toBe(0);
  });

  it('listRuns returns newest first with a limit', async () => {
    const schema = schemaFor('list');
    const runLog = createRunLog(db.pool, { schema });
    await runLog.migrate();
    for (const id of ['a', 'b', 'c']) {
      await runLog.startRun({ runId: id, command: 'ingest', args: [] });
      await runLog.finishRun(id, { status: 'success', exitCode: 0, rowsIn: id.charCodeAt(0) });
    }
    const runs = await runLog.listRuns({ limit: 2 });
    expect(runs.map((r) => [r.runId, r.status, r.rowsIn])).toEqual([
      ['c', 'success', 99],
      ['b', 'success', 98],
    ]);
  });

  it('finishRun for an unknown id fails with RUN_NOT_FOUND; a bad connection is retryable', async () => {
    const runLog = createRunLog(db.pool, { schema: schemaFor('list') });
    await expect(runLog.finishRun('nope', { status: 'success', exitCode: 0 })).rejects.toMatchObject({
      code: 'RUN_NOT_FOUND',
    });
    const dead = new pg.Pool({
      connectionString: 'postgres://x:y@127.0.0.1:1/db',
      connectionTimeoutMillis: 2000,
    });
    try {
      const err = await createRunLog(dead)
        .migrate()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RunlogError);
      expect(err).toMatchObject({ code: 'MIGRATION_FAILED', retryable: true });
    } finally {
      await dead.end();
    }
  });
});

describe('run liveness', () => {
  const db = useTestDatabase();
  const schema = () => `${db.schema}_live`;
  afterAll(async () => {
    await db.pool.query(`drop schema if exists "${schema()}" cascade`);
  });

  it('a run whose process died is marked abandoned by the next run; a live run is not', async () => {
    const observer = createRunLog(db.pool, { schema: schema() });
    await observer.migrate();
    const livePool = createPool({ connectionString: db.url, max: 3 });
    const deadPool = createPool({ connectionString: db.url, max: 3 });
    try {
      const live = createRunLog(livePool, { schema: schema() });
      const dead = createRunLog(deadPool, { schema: schema() });
      await live.startRun({ runId: 'live-1', command: 'run', args: [] });
      await dead.startRun({ runId: 'dead-1', command: 'build', args: [] });
      const job = await dead.startJob({ runId: 'dead-1', step: 'model', target: 'dim_x' });
      expect(await observer.isRunAlive('dead-1')).toBe(true);
      // The lock is visible to operators in pg_locks.
      const locks = await db.pool.query<{ n: number }>(
        `select count(*)::int as n from pg_locks where locktype = 'advisory' and classid = $1::bigint::oid
           and objid = (hashtext('dead-1')::bigint & 4294967295)::oid and objsubid = 2 and granted`,
        [RUN_LOCK_NAMESPACE],
      );
      expect(locks.rows[0]?.n).toBe(1);
      // SIGKILL of the process, as the server sees it: its sessions end.
      await db.pool.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [
        backendPids(deadPool),
      ]);
      await waitFor(async () => !(await observer.isRunAlive('dead-1')));

      expect(await observer.isRunTokenDead(runToken('dead-1'))).toBe(true);
      expect(await observer.isRunTokenDead(runToken('live-1'))).toBe(false);
      expect(await observer.isRunTokenDead(runToken('never-recorded'))).toBe(false);
      expect(await observer.abandonDeadRuns()).toEqual(['dead-1']);
      expect(await observer.abandonDeadRuns()).toEqual([]);
      const abandoned = await observer.getRun('dead-1');
      expect(abandoned).toMatchObject({
        status: 'abandoned',
        errorCode: 'ABANDONED',
        errorMessage: ABANDONED_MESSAGE,
      });
      expect(abandoned?.endedAt).not.toBeNull();
      expect(abandoned?.jobs).toMatchObject([{ jobId: job, status: 'abandoned' }]);
      expect((await observer.getRun('live-1'))?.status).toBe('running');

      await live.finishRun('live-1', { status: 'success', exitCode: 0 });
      expect(await observer.isRunAlive('live-1')).toBe(false);
      expect(await observer.isRunTokenDead(runToken('live-1'))).toBe(true);
      expect((await observer.getRun('live-1'))?.status).toBe('success');
    } finally {
      await livePool.end();
      // The dead run never releases its connection (its process is gone): end() would wait forever.
      void deadPool.end().catch(() => undefined);
    }
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached within 60 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}
