import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileProject, type ModelNode, type TestNode } from '@dataflow/modeling';
import { describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { loadProject } from '../src/index.js';

// These tests load tsx, spawn python or compile projects: on a loaded machine that takes
// longer than vitest's 5 s default, and no test may depend on an idle machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

// The example must stay a valid project: config parses, the graph compiles with no diagnostic.
const shop = join(dirname(fileURLToPath(import.meta.url)), '../../../examples/shop');
const SOURCES = ['customers', 'orders', 'payments', 'rates'];

describe('examples/shop project', () => {
  it('dataflow.yml declares the three CSV sources and the paginated, authenticated API source', async () => {
    const project = await loadProject(shop, { RATES_PORT: '4567' });
    const { sources, warehouse } = project.config;
    expect(Object.keys(sources)).toEqual(SOURCES);
    expect(warehouse.schema).toBe('analytics');
    for (const name of ['customers', 'orders', 'payments']) {
      expect(sources[name]).toMatchObject({ type: 'csv', location: `data/${name}/{{ ds }}.csv` });
    }
    expect(sources.customers).toMatchObject({ disposition: 'merge', primary_key: ['customer_id'] });
    expect(sources.orders).toMatchObject({ disposition: 'replace_partition', primary_key: ['order_id'] });
    expect(sources.rates).toMatchObject({
      type: 'api',
      url: 'http://127.0.0.1:4567/v1/rates',
      params: { day: '{{ ds }}' },
      records: 'data',
      paginate: { type: 'cursor', cursor_path: 'meta.next_cursor', cursor_param: 'cursor' },
      auth: { type: 'bearer', token: 'demo-token' },
    });
    // The token comes from the environment when set, and is then treated as a secret.
    const withToken = await loadProject(shop, { RATES_TOKEN: 's3cr3t' });
    expect(withToken.config.sources.rates).toMatchObject({
      url: 'http://127.0.0.1:8787/v1/rates',
      auth: { type: 'bearer', token: 's3cr3t' },
    });
    expect(withToken.secrets).toContain('s3cr3t');
  });

  it('the raw source declared in schema.yml points where the CLI loads it (warehouse.schema, raw_<source>)', async () => {
    const project = await loadProject(shop, {});
    const yml = parse(await readFile(join(shop, 'models/staging/schema.yml'), 'utf8')) as {
      sources: Array<{ name: string; schema: string; tables: Array<{ name: string; identifier: string }> }>;
    };
    const raw = yml.sources.find((s) => s.name === 'raw');
    expect(raw?.schema).toBe(project.config.warehouse.schema);
    expect(raw?.tables.map((t) => [t.name, t.identifier])).toEqual(SOURCES.map((s) => [s, `raw_${s}`]));
  });

  it('compiles with no diagnostics: 4 staging views, 2 tables, 1 incremental, tests on every layer', async () => {
    const sources = {
      raw: Object.fromEntries(SOURCES.map((s) => [s, { schema: 'analytics', identifier: `raw_${s}` }])),
    };
    const { graph, diagnostics } = await compileProject({ dir: shop, schema: 'analytics', sources });
    expect(diagnostics).toEqual([]);
    const nodes = Object.values(graph.nodes);
    const models = nodes.filter((n): n is ModelNode => n.resourceType === 'model');
    expect(Object.fromEntries(models.map((m) => [m.name, m.config.materialized]))).toEqual({
      stg_customers: 'view',
      stg_orders: 'view',
      stg_payments: 'view',
      stg_rates: 'view',
      dim_customers: 'table',
      fct_daily_revenue: 'table',
      fct_orders: 'incremental',
    });
    expect(models.find((m) => m.name === 'fct_orders')?.config).toMatchObject({ uniqueKey: ['order_id'] });
    const tests = nodes.filter((n): n is TestNode => n.resourceType === 'test');
    expect(tests).toHaveLength(36);
    const names = tests.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'source_freshness_raw_orders__loaded_at__3__day__26__hour',
        'unique_stg_orders_order_id',
        'relationships_stg_payments_order_id__order_id__ref_stg_orders_',
        'accepted_values_stg_payments_payment_method__credit_card__paypal__bank_transfer__gift_card__coupon',
        'unique_combination_of_columns_stg_rates_rate_date__currency',
        'unique_dim_customers_customer_id',
        'unique_fct_orders_order_id',
        'unique_fct_daily_revenue_order_date',
        'assert_order_amount_reconciles',
      ]),
    );
    const freshness = tests.find((t) => t.name.startsWith('source_freshness_raw_orders'));
    expect(freshness?.compiled.sql).toContain('"analytics"."raw_orders"');
    const singular = tests.find((t) => t.name === 'assert_order_amount_reconciles');
    expect(singular?.dependsOn.sort()).toEqual(['model.shop.fct_orders', 'model.shop.stg_payments']);
  });
});
