import { rm } from 'node:fs/promises';
import { type CompiledGraph, compileProject } from '@dataflow/modeling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateOptionsOf } from '../src/arg-values.js';
import { listLine, listNodes } from '../src/list/list-nodes.js';
import { planRetry } from '../src/pipeline/retry-plan.js';
import { daysOutcome, latestResults, type RunRecordArgs, runRecordArgs } from '../src/pipeline/run-record.js';
import { runRecordFromLog } from '../src/pipeline/run-record-from-log.js';
import { buildSummary, daysText, emptyTotals } from '../src/summary.js';
import { cli, tempProject } from './helpers.js';

const record = (over: Partial<RunRecordArgs>): RunRecordArgs => ({
  which: 'run',
  select: ['tag:daily'],
  exclude: [],
  sources: ['orders'],
  full_refresh: false,
  defer: false,
  favor_state: false,
  days: [],
  completed_days: [],
  ...over,
});

describe('retry planning', () => {
  it('a range with days not finished re-runs the same command and selection on those days', () => {
    const plan = planRetry(
      record({ days: ['2026-05-01', '2026-05-02', '2026-05-03'], completed_days: ['2026-05-01'] }),
      { 'model.shop.orders': 'error' },
    );
    expect(plan.kind).toBe('days');
    if (plan.kind !== 'days') return;
    expect(plan.spec.steps).toEqual(['ingest', 'load', 'build']);
    expect(plan.days).toEqual(['2026-05-02', '2026-05-03']);
    expect(plan.args.days).toEqual([
      { start: '2026-05-02', end: '2026-05-03' },
      { start: '2026-05-03', end: '2026-05-04' },
    ]);
    expect(plan.args.sources).toEqual(['orders']);
    expect(plan.args.build.select).toEqual(['tag:daily']);
  });

  it('otherwise the build step runs again for the nodes that errored, failed or were skipped', () => {
    const plan = planRetry(record({ which: 'test', days: [] }), {
      'model.shop.a': 'success',
      'test.shop.t1': 'fail',
      'test.shop.t2': 'warn',
      'test.shop.t3': 'error',
      'test.shop.t4': 'skipped',
    });
    expect(plan.kind).toBe('nodes');
    if (plan.kind !== 'nodes') return;
    expect(plan.nodes).toEqual(['test.shop.t1', 'test.shop.t3', 'test.shop.t4']);
    expect(plan.spec).toMatchObject({ name: 'test', steps: ['build'], resourceTypes: ['test', 'unit_test'] });
    expect(plan.args.build).toMatchObject({
      select: ['result:error', 'result:fail', 'result:skipped'],
      exclude: [],
      previousResults: expect.objectContaining({ 'test.shop.t1': 'fail' }),
    });
  });

  it('a one-day run that failed before building re-runs that day; a finished run has nothing to retry', () => {
    const day = planRetry(record({ days: ['2026-05-01'], completed_days: [] }), {});
    expect(day).toMatchObject({ kind: 'days', days: ['2026-05-01'] });
    expect(
      planRetry(record({ days: ['2026-05-01'], completed_days: ['2026-05-01'] }), { x: 'success' }),
    ).toEqual({ kind: 'nothing', reason: 'the last run finished: nothing failed or was skipped' });
    expect(() => planRetry(record({ which: 'freshness' }), {})).toThrow('cannot retry "freshness"');
  });

  it('the run record keeps the invocation; days are told apart by outcome', () => {
    const args = runRecordArgs(
      'build',
      {
        days: [{ start: '2026-05-01', end: '2026-05-02' }],
        sources: [],
        build: { select: ['a,b'], fullRefresh: true, state: 'prod', defer: true },
      },
      [],
    );
    expect(args).toEqual({
      which: 'build',
      select: ['a,b'],
      exclude: [],
      sources: [],
      full_refresh: true,
      state: 'prod',
      defer: true,
      favor_state: false,
      days: ['2026-05-01'],
      completed_days: [],
    });
    expect(daysOutcome(['a', 'b', 'c'], ['a'], true)).toEqual({
      succeeded: ['a'],
      failed: ['b'],
      notRun: ['c'],
    });
    expect(daysOutcome(['a', 'b'], ['a', 'b'], false)).toEqual({
      succeeded: ['a', 'b'],
      failed: [],
      notRun: [],
    });
    const r = (uniqueId: string, status: 'success' | 'error') => ({
      uniqueId,
      name: uniqueId,
      resourceType: 'model' as const,
      status,
      durationMs: 1,
      startedAt: '2026-05-01T00:00:00Z',
    });
    expect(latestResults([[r('m', 'success'), r('n', 'success')], [r('m', 'error')]])).toEqual([
      r('m', 'error'),
      r('n', 'success'),
    ]);
  });

  it('the run log rebuilds a run record: days before the last one with jobs are completed, its nodes give the results', () => {
    const job = (
      uniqueId: string | null,
      partition: string,
      status: 'success' | 'failed' | 'skipped',
      step = 'model',
    ) => ({ uniqueId, partition, status, step }) as unknown as import('@dataflow/runlog').JobRecord;
    const detail = {
      command: 'run',
      status: 'failed',
      jobs: [
        job(null, '2026-05-01', 'success', 'load'),
        job('model.shop.a', '2026-05-01', 'success'),
        job('model.shop.a', '2026-05-02', 'failed'),
        job('model.shop.b', '2026-05-02', 'skipped'),
        job('test.shop.t', '2026-05-02', 'failed', 'test'),
      ],
    } as unknown as import('@dataflow/runlog').RunDetail;
    const days = ['2026-05-01', '2026-05-02', '2026-05-03'].map((start) => ({ start, end: start }));
    const { record, results } = runRecordFromLog(detail, { days, sources: [], build: { select: ['a+'] } });
    expect(record).toMatchObject({ which: 'run', select: ['a+'], completed_days: ['2026-05-01'] });
    expect(results).toEqual({ 'model.shop.a': 'error', 'model.shop.b': 'skipped', 'test.shop.t': 'fail' });
    const ok = runRecordFromLog({ ...detail, status: 'success' }, { days, sources: [], build: {} });
    expect(ok.record.completed_days).toEqual(['2026-05-01', '2026-05-02', '2026-05-03']);
  });

  it('the summary of a range says which days succeeded', () => {
    const totals = { ...emptyTotals(), days: { succeeded: ['d1'], failed: ['d2'], notRun: ['d3'] } };
    const summary = buildSummary({
      runId: 'r',
      command: 'run',
      status: 'failed',
      exitCode: 1,
      totals,
      durationMs: 1,
    });
    expect(summary.days).toEqual({ succeeded: ['d1'], failed: ['d2'], not_run: ['d3'] });
    expect(daysText({ succeeded: [], failed: ['d2'], not_run: [] })).toBe(
      'days succeeded none; failed d2; not run none',
    );
  });

  it('--defer and --favor-state need their companions', () => {
    expect(stateOptionsOf({ state: 'prod', defer: true })).toEqual({
      state: 'prod',
      defer: true,
      favorState: false,
    });
    expect(() => stateOptionsOf({ defer: true })).toThrow('--defer needs --state DIR');
    expect(() => stateOptionsOf({ state: 'p', 'favor-state': true })).toThrow('--favor-state needs --defer');
  });
});

describe('dataflow ls (no database)', () => {
  let dir: string;
  let graph: CompiledGraph;
  beforeAll(async () => {
    dir = await tempProject({
      'dataflow.yml': 'name: shop\nwarehouse:\n  schema: analytics\n',
      'models/staging/stg_orders.sql': "select 1 as id from {{ source('raw', 'orders') }}\n",
      'models/orders.sql': "{{ config(materialized='table') }}\nselect id from {{ ref('stg_orders') }}\n",
      'models/schema.yml': `version: 2
sources:
  - name: raw
    tables:
      - name: orders
models:
  - name: orders
    columns:
      - name: id
        data_tests: [unique]
`,
    });
    ({ graph } = await compileProject({ dir, schema: 'analytics' }));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists models, tests and the sources a selector names, filtered by resource type', () => {
    expect(listNodes(graph)).toEqual([
      'model.shop.orders',
      'model.shop.stg_orders',
      'source.shop.raw.orders',
      expect.stringMatching(/^test\.shop\.unique_orders_id\./),
    ]);
    expect(listNodes(graph, { select: ['source:raw.orders+'], resourceTypes: ['source', 'model'] })).toEqual([
      'model.shop.orders',
      'model.shop.stg_orders',
      'source.shop.raw.orders',
    ]);
    expect(listNodes(graph, { exclude: ['source:raw'], resourceTypes: ['source'] })).toEqual([]);
  });

  it('prints selector, name, path and json lines', () => {
    const orders = graph.nodes['model.shop.orders'];
    const source = graph.nodes['source.shop.raw.orders'];
    if (!orders || !source) throw new Error('nodes missing');
    expect(listLine(orders, 'selector')).toBe('shop.orders');
    expect(listLine(source, 'selector')).toBe('source:shop.raw.orders');
    expect(listLine(source, 'name')).toBe('raw.orders');
    expect(listLine(orders, 'path')).toBe('models/orders.sql');
    expect(JSON.parse(listLine(orders, 'json'))).toEqual({
      name: 'orders',
      resource_type: 'model',
      package_name: 'shop',
      unique_id: 'model.shop.orders',
      original_file_path: 'models/orders.sql',
      depends_on: { nodes: ['model.shop.stg_orders'] },
      tags: [],
      config: { materialized: 'table' },
      relation_name: '"analytics"."orders"',
    });
  });

  it('through the CLI: --output, --resource-type, an unknown type (exit 2), an empty selection (exit 0)', async () => {
    const names = await cli(
      ['ls', '--select', 'stg_orders+', '--resource-type', 'model', '--output', 'name'],
      {
        cwd: dir,
      },
    );
    expect(names).toMatchObject({ code: 0, stdout: 'orders\nstg_orders\n' });
    const paths = await cli(['ls', '--select', 'staging', '--output', 'path'], { cwd: dir });
    expect(paths.stdout).toBe('models/staging/stg_orders.sql\n');
    const bad = await cli(['ls', '--resource-type', 'widget'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--resource-type');
    const none = await cli(['ls', '--select', 'tag:nope'], { cwd: dir });
    expect(none).toMatchObject({ code: 0, stdout: '' });
    expect(none.stderr).toContain('the selection matches no node');
    const noResults = await cli(['ls', '--select', 'result:error'], { cwd: dir });
    expect(noResults.code).toBe(2);
    expect(noResults.stderr).toContain('result:error needs a previous run_results.json');
  });
});
