import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileProject, manifestJson } from '@dataflow/modeling';
import { type Manifest, parseManifest } from '../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The CLI's shop example (lake sources → raw tables → staging views → marts → tests). */
export const SHOP_DIR = join(root, 'examples/shop');
export const SHOP_SOURCES = ['customers', 'orders', 'payments', 'rates'] as const;

/** The shop example compiled as the CLI does (raw tables `analytics.raw_<source>`), as manifest.json. */
export async function shopManifest(): Promise<Manifest> {
  const raw = Object.fromEntries(
    SHOP_SOURCES.map((s) => [s, { schema: 'analytics', identifier: `raw_${s}` }]),
  );
  const { graph, diagnostics } = await compileProject({
    dir: SHOP_DIR,
    schema: 'analytics',
    vars: { ds: '2026-05-01', data_interval_start: '2026-05-01', data_interval_end: '2026-05-02' },
    sources: { raw },
    externalRelations: SHOP_SOURCES.map((s) => ({
      name: `raw_${s}`,
      schema: 'analytics',
      identifier: `raw_${s}`,
    })),
  });
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`shop example does not compile: ${errors[0]?.message}`);
  // Through JSON, as the site and the CLI read target/manifest.json.
  return parseManifest(JSON.parse(JSON.stringify(manifestJson(graph))));
}

/** The lake locations of the shop's sources, as `dataflow docs generate` passes them. */
export const SHOP_LAKE = SHOP_SOURCES.map((source) => ({
  source,
  uri: `s3://lake/raw/${source}`,
  table: `raw_${source}`,
}));

const at = (day: string, seconds: number) => new Date(Date.parse(`${day}T02:00:00Z`) + seconds * 1000);

/**
 * Run history as runlog's `getRun` returns it (RunDetail, Date objects): a successful daily
 * `run` on 2026-05-01 and a `build` on 2026-05-02 whose `not_null_fct_orders_order_id` failed
 * with two sample rows.
 */
export function shopRuns() {
  const ok = (day: string) => {
    const jobs = [];
    let t = 0;
    for (const [i, source] of SHOP_SOURCES.entries()) {
      const rows = 1000 + i * 250;
      jobs.push({
        step: 'ingest',
        target: source,
        partition: day,
        status: 'success',
        startedAt: at(day, t),
        endedAt: at(day, t + 2),
        durationMs: 2100 + i * 100,
        rowsIn: rows,
        rowsOut: rows,
        rowsRejected: 0,
        errorCode: null,
        errorMessage: null,
      });
      jobs.push({
        step: 'load',
        target: source,
        partition: day,
        status: 'success',
        startedAt: at(day, t + 3),
        endedAt: at(day, t + 4),
        durationMs: 850 + i * 10,
        rowsIn: rows,
        rowsOut: rows - i,
        rowsRejected: i,
        errorCode: null,
        errorMessage: null,
      });
      t += 5;
    }
    for (const [model, rows] of [
      ['stg_orders', 1250],
      ['stg_payments', 1500],
      ['fct_orders', 1250],
    ] as const) {
      jobs.push({
        step: 'model',
        target: model,
        partition: day,
        status: 'success',
        startedAt: at(day, t),
        endedAt: at(day, t + 1),
        durationMs: 420,
        rowsIn: null,
        rowsOut: rows,
        rowsRejected: null,
        errorCode: null,
        errorMessage: null,
      });
      t += 1;
    }
    jobs.push({
      step: 'test',
      target: 'not_null_fct_orders_order_id',
      partition: day,
      status: 'success',
      startedAt: at(day, t),
      endedAt: at(day, t),
      durationMs: 35,
      rowsIn: null,
      rowsOut: null,
      rowsRejected: null,
      errorCode: null,
      errorMessage: null,
    });
    return jobs;
  };
  const testResult = (status: 'pass' | 'fail', failures: number, sample: Record<string, unknown>[]) => ({
    uniqueId: 'test.shop.not_null_fct_orders_order_id.0fc45c337f',
    testName: 'not_null_fct_orders_order_id',
    status,
    severity: 'error',
    failures,
    sql: 'select * from "analytics"."fct_orders" where order_id is null',
    sample,
    sampleTruncated: false,
    message: status === 'fail' ? `${failures} rows failed not_null on fct_orders.order_id` : null,
    durationMs: 35,
  });
  const base = {
    project: 'shop',
    exitCode: 0,
    rowsRejected: 0,
    errorClass: null,
    errorCode: null,
    errorMessage: null,
    host: 'worker-1',
    version: '0.1.0',
    airflow: {},
  };
  return [
    {
      ...base,
      runId: '20260501T020000Z-1a2b3c4d',
      command: 'run',
      args: ['run', '--date', '2026-05-01'],
      intervalStart: '2026-05-01',
      intervalEnd: '2026-05-02',
      status: 'success',
      startedAt: at('2026-05-01', 0),
      endedAt: at('2026-05-01', 24),
      durationMs: 24_310,
      rowsIn: 5500,
      rowsOut: 5494,
      jobs: ok('2026-05-01'),
      rowCounts: [
        {
          dataset: 'fct_orders',
          partition: '2026-05-01',
          stage: 'built',
          rows: 1250,
          measuredAt: at('2026-05-01', 23),
        },
      ],
      testResults: [testResult('pass', 0, [])],
    },
    {
      ...base,
      runId: '20260502T020000Z-5e6f7a8b',
      command: 'build',
      args: ['build', '--date', '2026-05-02'],
      intervalStart: '2026-05-02',
      intervalEnd: '2026-05-03',
      status: 'failed',
      exitCode: 1,
      startedAt: at('2026-05-02', 0),
      endedAt: at('2026-05-02', 4),
      durationMs: 4_020,
      rowsIn: 0,
      rowsOut: 1310,
      errorCode: 'TEST_FAILED',
      errorMessage: '1 data test failed: not_null_fct_orders_order_id',
      jobs: [
        {
          step: 'model',
          target: 'fct_orders',
          partition: '2026-05-02',
          status: 'success',
          startedAt: at('2026-05-02', 1),
          endedAt: at('2026-05-02', 2),
          durationMs: 1_310,
          rowsIn: null,
          rowsOut: 1310,
          rowsRejected: null,
          errorCode: null,
          errorMessage: null,
        },
        {
          step: 'test',
          target: 'not_null_fct_orders_order_id',
          partition: '2026-05-02',
          status: 'failed',
          startedAt: at('2026-05-02', 3),
          endedAt: at('2026-05-02', 3),
          durationMs: 41,
          rowsIn: null,
          rowsOut: null,
          rowsRejected: null,
          errorCode: null,
          errorMessage: '2 rows failed not_null on fct_orders.order_id',
        },
      ],
      rowCounts: [],
      testResults: [
        testResult('fail', 2, [
          { order_id: null, customer_id: 17, status: 'placed', amount: '12.50' },
          { order_id: null, customer_id: 42, status: 'shipped', amount: '7.00' },
        ]),
      ],
    },
  ];
}
