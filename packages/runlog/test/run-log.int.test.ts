import { useTestDatabase } from '@dataflow/testkit';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedactor, createRunLog, RunlogError } from '../src/index.js';

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
      expect(results.flatMap((r) => r.applied)).toEqual([1]);
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
        sql: 'select * from orders where id is null',
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
