import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CompiledGraph, compileProject, planBuild, selectNodes, writeArtifacts } from '../src/index.js';
import { writeProject } from './helpers.js';

let graph: CompiledGraph;
beforeAll(async () => {
  const dir = fileURLToPath(new URL('../examples/jaffle_shop', import.meta.url));
  ({ graph } = await compileProject({ dir, schema: 'analytics' }));
});

/** Selected model/seed names (tests left out unless asked), sorted. */
const names = (ids: string[], withTests = false) =>
  ids
    .map((id) => graph.nodes[id])
    .filter((n) => n && (withTests || n.resourceType !== 'test'))
    .map((n) => n?.name)
    .sort();

describe('selectNodes (dbt grammar)', () => {
  it.each([
    [['orders'], ['orders']],
    [['+orders'], ['orders', 'raw_orders', 'raw_payments', 'stg_orders', 'stg_payments']],
    [['1+orders'], ['orders', 'stg_orders', 'stg_payments']],
    [['stg_orders+'], ['customers', 'orders', 'stg_orders']],
    [['raw_orders+1'], ['raw_orders', 'stg_orders']],
    [
      ['@stg_payments'],
      [
        'customers',
        'orders',
        'raw_customers',
        'raw_orders',
        'raw_payments',
        'stg_customers',
        'stg_orders',
        'stg_payments',
      ],
    ],
    [['path:models/staging'], ['stg_customers', 'stg_orders', 'stg_payments']],
    [['path:models/staging/stg_orders.sql'], ['stg_orders']],
    [['staging'], ['stg_customers', 'stg_orders', 'stg_payments']],
    [['resource_type:seed'], ['raw_customers', 'raw_orders', 'raw_payments']],
    [['config.materialized:table'], ['customers', 'orders']],
    [['stg_orders customers'], ['customers', 'stg_orders']],
    [
      ['stg_orders', 'customers'],
      ['customers', 'stg_orders'],
    ],
    [['+orders,path:models/staging'], ['stg_orders', 'stg_payments']],
    [['stg_*'], ['stg_customers', 'stg_orders', 'stg_payments']],
  ])('%j selects %j', (select, expected) => {
    expect(names(selectNodes(graph, { select }))).toEqual(expected);
  });

  it('exclude removes nodes and their tests', () => {
    const ids = selectNodes(graph, { select: ['path:models/staging'], exclude: ['stg_orders'] });
    expect(names(ids)).toEqual(['stg_customers', 'stg_payments']);
    expect(names(ids, true).filter((n) => n?.includes('stg_orders'))).toEqual([]);
  });

  it('adds tests by eager indirect selection; cautious needs every parent', () => {
    const eager = names(selectNodes(graph, { select: ['orders'] }), true).filter((n) =>
      n?.startsWith('relationships'),
    );
    expect(eager).toHaveLength(1);
    const cautious = selectNodes(graph, { select: ['orders'], indirectSelection: 'cautious' });
    expect(names(cautious, true).filter((n) => n?.startsWith('relationships'))).toEqual([]);
    expect(names(cautious, true).filter((n) => n?.includes('orders')).length).toBe(10); // orders + its 9 single-parent tests
    expect(selectNodes(graph, { select: ['orders'], indirectSelection: 'empty' })).toEqual([
      'model.jaffle_shop.orders',
    ]);
  });

  it('tag: selection and unknown methods', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: p\nmodels:\n  p:\n    marts:\n      +tags: [nightly]\n',
      'models/marts/a.sql': 'select 1',
      'models/b.sql': `{{ config(tags=['nightly', 'pii']) }}select 1`,
      'models/c.sql': 'select 1',
    });
    const { graph: g } = await compileProject({ dir, schema: 's' });
    expect(selectNodes(g, { select: ['tag:nightly'] })).toEqual(['model.p.a', 'model.p.b']);
    expect(selectNodes(g, { select: ['tag:nightly,tag:pii'] })).toEqual(['model.p.b']);
    expect(selectNodes(g, { select: ['tag:nightly'], exclude: ['tag:pii'] })).toEqual(['model.p.a']);
    expect(() => selectNodes(g, { select: ['bogus:x'] })).toThrow(/unknown selector method/);
    expect(() => selectNodes(g, { select: ['bogus:x'] })).toThrow(
      expect.objectContaining({ name: 'ModelingError', code: 'INVALID_SELECTOR' }),
    );
  });
});

describe('planBuild', () => {
  it('runs error tests of a node as its audits, multi-parent tests after both parents, in topological order', () => {
    const plan = planBuild(graph);
    expect(plan.order.map((id) => graph.nodes[id]?.name)).toEqual([
      'raw_customers',
      'raw_orders',
      'raw_payments',
      'stg_customers',
      'stg_orders',
      'stg_payments',
      'customers',
      'orders',
      'relationships_orders_customer_id__customer_id__ref_customers_',
    ]);
    expect(plan.audits['model.jaffle_shop.orders']).toHaveLength(9);
    expect(Object.values(plan.audits).flat()).toHaveLength(19);
    expect(planBuild(graph, { audit: false }).order).toHaveLength(28);
    expect(planBuild(graph, { resourceTypes: ['model'] }).order).toHaveLength(5);
  });
});

describe('writeArtifacts', () => {
  it('writes manifest.json, run_results.json and compiled SQL the way dbt lays them out', async () => {
    const target = await writeProject({});
    await writeArtifacts(target, graph, {
      runId: 'r1',
      elapsedMs: 1500,
      results: [
        {
          uniqueId: 'model.jaffle_shop.orders',
          name: 'orders',
          resourceType: 'model',
          status: 'success',
          rows: 99,
          durationMs: 250,
          startedAt: '2026-01-01T00:00:00.000Z',
          relation: 'analytics.orders',
        },
      ],
    });
    const manifest = JSON.parse(await readFile(join(target, 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest.nodes)).toHaveLength(28);
    expect(manifest.nodes['model.jaffle_shop.orders']).toMatchObject({
      resource_type: 'model',
      original_file_path: 'models/orders.sql',
      relation_name: '"analytics"."orders"',
      config: { materialized: 'table' },
      depends_on: { nodes: ['model.jaffle_shop.stg_orders', 'model.jaffle_shop.stg_payments'] },
    });
    expect(manifest.child_map['model.jaffle_shop.stg_orders']).toContain('model.jaffle_shop.orders');
    const runResults = JSON.parse(await readFile(join(target, 'run_results.json'), 'utf8'));
    expect(runResults.results[0]).toMatchObject({
      unique_id: 'model.jaffle_shop.orders',
      status: 'success',
      execution_time: 0.25,
      adapter_response: { rows_affected: 99 },
      timing: [
        { name: 'execute', started_at: '2026-01-01T00:00:00.000Z', completed_at: '2026-01-01T00:00:00.250Z' },
      ],
    });
    expect(runResults.metadata.invocation_id).toBe('r1');
    const compiled = await readFile(join(target, 'compiled/jaffle_shop/models/orders.sql'), 'utf8');
    expect(compiled).toContain('from "analytics"."stg_orders"');
    const testSql = await readFile(
      join(target, 'compiled/jaffle_shop/models/schema.yml/unique_orders_order_id.sql'),
      'utf8',
    );
    expect(testSql).toContain('"analytics"."orders"');
  });
});
