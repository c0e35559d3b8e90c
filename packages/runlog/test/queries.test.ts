import { describe, expect, it } from 'vitest';
import { listRunsQuery, type RunRow, runDetailQueries, toRunDetail } from '../src/queries.js';

const runRow: RunRow = {
  run_id: 'r1',
  command: 'run',
  args: ['run'],
  project: 'shop',
  interval_start: new Date(2026, 4, 1),
  interval_end: '2026-05-02',
  status: 'abandoned',
  exit_code: null,
  started_at: new Date('2026-05-01T00:00:00Z'),
  ended_at: null,
  duration_ms: '1500',
  rows_in: '10',
  rows_out: '9',
  rows_rejected: '1',
  error_class: null,
  error_code: 'ABANDONED',
  error_message: null,
  host: 'h',
  version: '0.1.0',
  airflow_dag_id: null,
  airflow_task_id: null,
  airflow_dag_run_id: null,
  airflow_try_number: null,
};

describe('run log queries', () => {
  it('lists newest first with the limit clamped and bound', () => {
    expect(listRunsQuery('d', 0).values).toEqual([1]);
    expect(listRunsQuery('d', 50_000).values).toEqual([10_000]);
    expect(listRunsQuery('d', 5).text).toBe(
      'select * from "d".run_history order by started_at desc, run_id desc limit $1',
    );
  });

  it('reads one run in four bound queries', () => {
    const q = runDetailQueries('d', 'r1');
    expect(Object.values(q).map((x) => x.values)).toEqual([['r1'], ['r1'], ['r1'], ['r1']]);
    expect(q.jobs.text).toContain('order by job_id');
  });

  it('maps rows to records: numbers from bigint text, dates without a time-zone shift', () => {
    const detail = toRunDetail({
      run: runRow,
      jobs: [],
      rowCounts: [{ dataset: 'o', partition: null, stage: 'loaded', rows: '9', measured_at: new Date(0) }],
      testResults: [
        {
          unique_id: null,
          test_name: 't',
          status: 'fail',
          severity: 'error',
          failures: '3',
          sql: 'select 1',
          sample: [],
          sample_truncated: false,
          message: null,
          duration_ms: null,
        },
      ],
    });
    expect(detail).toMatchObject({
      runId: 'r1',
      status: 'abandoned',
      intervalStart: '2026-05-01',
      intervalEnd: '2026-05-02',
      durationMs: 1500,
      rowsIn: 10,
      rowsOut: 9,
      rowsRejected: 1,
      airflow: {},
    });
    expect(detail.rowCounts).toEqual([
      { dataset: 'o', partition: null, stage: 'loaded', rows: 9, measuredAt: new Date(0) },
    ]);
    expect(detail.testResults[0]).toMatchObject({ failures: 3, durationMs: null });
  });
});
