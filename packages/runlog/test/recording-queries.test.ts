import { describe, expect, it } from 'vitest';
import { finishJobQuery, recordJobQuery, startJobQuery } from '../src/job-status.js';
import {
  abandonDeadRunsQuery,
  RUN_LOCK_NAMESPACE,
  runLockQuery,
  runTokenDeadQuery,
} from '../src/liveness.js';
import { createRedactor } from '../src/redact.js';
import { rowCountQuery } from '../src/row-counts.js';
import { finishRunQuery, startRunQuery } from '../src/run-rows.js';
import { storedError } from '../src/stored-error.js';
import { testResultsQuery } from '../src/test-results.js';

const redactor = createRedactor(['tok-SECRET-1']);

describe('stored errors', () => {
  it('keep class and string code, redact and cap the message', () => {
    const e = Object.assign(new TypeError(`bad tok-SECRET-1 ${'x'.repeat(5000)}`), { code: 'E_X' });
    const stored = storedError(e, redactor);
    expect(stored.errorClass).toBe('TypeError');
    expect(stored.errorCode).toBe('E_X');
    expect(stored.errorMessage?.startsWith('bad *** x')).toBe(true);
    expect(stored.errorMessage).toHaveLength(4000);
    expect(storedError(undefined, redactor)).toEqual({
      errorClass: null,
      errorCode: null,
      errorMessage: null,
    });
    expect(storedError({ code: 7 }, redactor)).toMatchObject({ errorClass: 'Error', errorCode: null });
  });
});

describe('run rows', () => {
  it('start: a running row with redacted args, every value bound', () => {
    const q = startRunQuery(
      'my"s',
      { runId: 'r1', command: 'run', args: ['--token', 'tok-SECRET-1'] },
      redactor,
    );
    expect(q.text).toContain('insert into "my""s".run_history');
    expect(q.text).toContain("'running'");
    expect(q.values.slice(0, 3)).toEqual(['r1', 'run', '["--token","***"]']);
    expect(q.values).toHaveLength(12);
  });

  it('finish: status, exit code, counts and the redacted error', () => {
    const q = finishRunQuery(
      'dataflow',
      'r1',
      { status: 'failed', exitCode: 1, rowsIn: 3, error: new Error('lost tok-SECRET-1') },
      redactor,
    );
    expect(q.text).toMatch(/^update "dataflow"\.run_history set status = \$2/);
    expect(q.values).toEqual(['r1', 'failed', 1, 3, 0, 0, 'Error', null, 'lost ***']);
  });
});

describe('job status and row counts', () => {
  it('start, finish and record a job', () => {
    expect(startJobQuery('d', { runId: 'r', step: 'load', target: 't', partition: '2026-05-01' })).toEqual({
      text: `insert into "d".job_status (run_id, step, target, partition, status, unique_id) values ($1, $2, $3, $4, 'running', $5) returning job_id`,
      values: ['r', 'load', 't', '2026-05-01', null],
    });
    expect(finishJobQuery('d', 7, { status: 'success', rowsOut: 5 }, redactor).values).toEqual([
      7,
      'success',
      null,
      null,
      5,
      null,
      null,
      null,
      null,
    ]);
    const rec = recordJobQuery(
      'd',
      { runId: 'r', step: 'model', target: 'm', status: 'failed', durationMs: 42 },
      redactor,
    );
    expect(rec.text).toContain('returning job_id');
    expect(rec.values.slice(0, 6)).toEqual(['r', 'model', 'm', null, 'failed', 42]);
    const keyed = recordJobQuery(
      'd',
      { runId: 'r', step: 'model', target: 'm', uniqueId: 'model.shop.m', status: 'success' },
      redactor,
    );
    expect(keyed.text).toContain('error_message, unique_id)');
    expect(keyed.values.at(-1)).toBe('model.shop.m');
  });

  it('a row count', () => {
    expect(rowCountQuery('d', { runId: 'r', dataset: 'orders', stage: 'loaded', rows: 5 }).values).toEqual([
      'r',
      'orders',
      null,
      'loaded',
      5,
    ]);
  });
});

describe('test results', () => {
  it('test SQL stored in test_results is redacted like everything else', () => {
    const q = testResultsQuery(
      'd',
      'r1',
      [
        {
          name: 'api_rows_match',
          status: 'fail',
          sql: "select * from orders where token = 'tok-SECRET-1'",
          message: 'failed for tok-SECRET-1',
          sample: [{ v: 'tok-SECRET-1' }],
        },
        { name: 'not_null_id', status: 'pass' },
      ],
      redactor,
    );
    expect(q?.text).toContain(
      'from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[]',
    );
    const [runId, ids, names, , , failures, sql, samples, , messages] = q?.values ?? [];
    expect(runId).toBe('r1');
    expect(ids).toEqual([null, null]);
    expect(names).toEqual(['api_rows_match', 'not_null_id']);
    expect(failures).toEqual([0, 0]);
    expect(sql).toEqual(["select * from orders where token = '***'", null]);
    expect(samples).toEqual(['[{"v":"***"}]', '[]']);
    expect(messages).toEqual(['failed for ***', null]);
    expect(JSON.stringify(q?.values)).not.toContain('SECRET');
  });

  it('an empty batch is no statement', () => {
    expect(testResultsQuery('d', 'r1', [], redactor)).toBeUndefined();
  });
});

describe('liveness', () => {
  it('the run lock is a non-blocking two-key advisory lock in our namespace', () => {
    expect(runLockQuery('r1')).toEqual({
      text: 'select pg_try_advisory_lock($1, hashtext($2)) as locked',
      values: [RUN_LOCK_NAMESPACE, 'r1'],
    });
    expect(RUN_LOCK_NAMESPACE).toBe(0x64660002);
  });

  it('dead runs are running rows whose lock no session holds; their running jobs go with them', () => {
    const q = abandonDeadRunsQuery('dataflow');
    expect(q.text).toContain(`where r.status = 'running' and not exists (select 1 from pg_locks l`);
    expect(q.text).toContain('update "dataflow".job_status j set status = \'abandoned\'');
    expect(q.text).toContain('l.objsubid = 2');
    const dead = runTokenDeadQuery('dataflow', '0123456789');
    expect(dead.text).toContain('left(md5(r.run_id), 10) = $2');
    expect(dead.values).toEqual([RUN_LOCK_NAMESPACE, '0123456789']);
  });
});
