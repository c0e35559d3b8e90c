import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CliSummary,
  demoEnv,
  formatLogLine,
  formatReport,
  landedPartitions,
  stepSpans,
} from '../../../examples/shop/scripts/demo.js';

const summary: CliSummary = {
  run_id: 'r-1',
  command: 'run',
  status: 'success',
  exit_code: 0,
  rows_in: 257,
  rows_loaded: 257,
  rows_rejected: 0,
  models: 7,
  tests: { pass: 30, warn: 1, fail: 0, error: 0, skipped: 0 },
  duration_ms: 4321,
};

describe('demo script helpers', () => {
  it('strips every variable that would move the CLI off the embedded defaults', () => {
    const env = demoEnv(
      {
        PATH: '/bin',
        DATAFLOW_DATABASE_URL: 'postgres://x',
        DATAFLOW_LAKE_URL: 's3://l/r',
        DATAFLOW_S3_ENDPOINT: 'http://m:9000',
        DATABASE_URL: 'postgres://y',
        RATES_TOKEN: 'keep-me',
      },
      4321,
    );
    expect(env).toEqual({ PATH: '/bin', RATES_TOKEN: 'keep-me', RATES_PORT: '4321' });
  });

  it('renders pino lines: run and per-source step results, warnings and errors with their cause', () => {
    const line = (o: object) => JSON.stringify({ time: 't', run_id: 'r', ...o });
    expect(formatLogLine(line({ level: 'info', msg: 'dataflow run started' }))).toBe(
      '  dataflow run started',
    );
    expect(
      formatLogLine(
        line({
          level: 'info',
          step: 'load',
          source: 'orders',
          rows_out: 100,
          msg: 'load orders 2026-05-01 done',
        }),
      ),
    ).toBe('  load orders 2026-05-01 done (100 rows)');
    expect(
      formatLogLine(line({ level: 'info', source: 'orders', msg: 'load orders 2026-05-01 started' })),
    ).toBeUndefined();
    expect(formatLogLine(line({ level: 'info', msg: 'partition lock acquired' }))).toBeUndefined();
    expect(
      formatLogLine(
        line({ level: 'error', msg: 'node failed', err: { message: 'relation x does not exist' } }),
      ),
    ).toBe('  ERROR node failed: relation x does not exist');
    expect(formatLogLine(line({ level: 'warn', msg: 'stale' }))).toBe('  WARN stale');
    expect(formatLogLine('{"run_id":"r-1","status":"success"}')).toBeUndefined();
    expect(formatLogLine('RUN ID   COMMAND')).toBe('  RUN ID   COMMAND');
    expect(formatLogLine('   ')).toBeUndefined();
  });

  it('reads landed partitions from the manifests of the day only', async () => {
    const lake = await mkdtemp(join(tmpdir(), 'demo-lake-'));
    try {
      const manifest = (rows: number) =>
        JSON.stringify({ files: [{ key: 'a' }, { key: 'b' }], rows, bytes: rows * 10 });
      for (const [source, day, rows] of [
        ['orders', '2026-05-01', 100],
        ['rates', '2026-05-01', 8],
        ['orders', '2026-05-02', 90],
      ] as const) {
        await mkdir(join(lake, source, `dt=${day}`), { recursive: true });
        await writeFile(join(lake, source, `dt=${day}`, '_manifest.json'), manifest(rows));
      }
      await mkdir(join(lake, 'payments', 'dt=2026-05-01'), { recursive: true }); // not committed
      expect(await landedPartitions(lake, '2026-05-01')).toEqual([
        { source: 'orders', files: 2, rows: 100, bytes: 1000 },
        { source: 'rates', files: 2, rows: 8, bytes: 80 },
      ]);
      expect(await landedPartitions(join(lake, 'missing'), '2026-05-01')).toEqual([]);
    } finally {
      await rm(lake, { recursive: true, force: true });
    }
  });

  it('says what it did: files landed, rows loaded, models built, tests passed', () => {
    const text = formatReport(
      summary,
      [{ source: 'orders', files: 1, rows: 100, bytes: 5400 }],
      '.dataflow/lake/raw',
    );
    expect(text.split('\n')).toEqual([
      '',
      'What it did (run r-1, success, 4.3s):',
      '  files landed   1 data files in 1 partitions under .dataflow/lake/raw',
      '                   orders           100 rows  5400 bytes',
      '  rows loaded    257 of 257 into raw_* (0 rejected)',
      '  models built   7',
      '  tests passed   30 passed, 1 warned, 0 failed, 0 errored, 0 skipped',
      '',
    ]);
  });

  it("reports wall time per step from the run's jobs (first start to last end)", () => {
    const job = (step: string, start: number, end: number, rowsOut: number | null = null) => ({
      step,
      target: 'x',
      status: 'success',
      started_at: new Date(Date.UTC(2026, 4, 1, 0, 0, start)).toISOString(),
      ended_at: new Date(Date.UTC(2026, 4, 1, 0, 0, end)).toISOString(),
      duration_ms: (end - start) * 1000,
      rows_out: rowsOut,
    });
    const jobs = [
      job('ingest', 0, 2, 10),
      job('ingest', 2, 5, 20),
      job('load', 5, 9, 30),
      job('model', 9, 10),
      job('model', 9, 11), // two models in parallel: span 2 s, busy 3 s
      job('test', 9, 11),
    ];
    expect(stepSpans(jobs)).toEqual([
      { step: 'ingest', jobs: 2, rows: 30, seconds: 5, busySeconds: 5 },
      { step: 'load', jobs: 1, rows: 30, seconds: 4, busySeconds: 4 },
      { step: 'model', jobs: 2, rows: 0, seconds: 2, busySeconds: 3 },
      { step: 'test', jobs: 1, rows: 0, seconds: 2, busySeconds: 2 },
    ]);
    expect(formatReport(summary, [], 'lake', jobs)).toContain(
      '  wall time      ingest 5.0s, load 4.0s, model 2.0s, test 2.0s\n',
    );
  });
});
