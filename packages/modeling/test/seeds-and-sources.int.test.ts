import { useTestDatabase } from '@dataflow/testkit';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { assertCompiled, build, compileProject } from '../src/index.js';
import { writeProject } from './helpers.js';

const db = useTestDatabase();

describe('seeds and sources', () => {
  it('loads seeds with +column_types through write-audit-publish, and runs tests on sources after their load', async () => {
    await db.pool.query('create table landing_orders (id int, customer int)');
    await db.pool.query('insert into landing_orders values (1, 10), (2, null), (3, null), (4, 11)');
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: p',
        'seeds:',
        '  p:',
        '    raw_items:',
        '      +column_types:',
        '        code: text',
      ].join('\n'),
      'seeds/raw_items.csv': 'id,code,price\n1,007,1.50\n2,042,2.25\n',
      'seeds/schema.yml':
        'version: 2\nseeds:\n  - name: raw_items\n    columns:\n      - name: id\n        tests: [unique, not_null]\n',
      'models/items.sql': `select id, code, price from {{ ref('raw_items') }}`,
      'models/sources.yml': [
        'version: 2',
        'sources:',
        '  - name: landing',
        `    schema: ${db.schema}`,
        '    tables:',
        '      - name: orders',
        '        identifier: landing_orders',
        '        columns:',
        '          - name: customer',
        '            tests: [not_null]',
      ].join('\n'),
    });
    const graph = assertCompiled(await compileProject({ dir, schema: db.schema }));
    const r = await build(db.pool, graph, { runId: 's1', threads: 2 });
    const summary = r.results.map((x) => [x.name, x.status, x.audit ?? false]).sort();
    expect(summary).toEqual([
      ['items', 'success', false],
      ['not_null_raw_items_id', 'pass', true],
      ['raw_items', 'success', false],
      ['source_not_null_landing_orders_customer', 'fail', false],
      ['unique_raw_items_id', 'pass', true],
    ]);
    const sourceTest = r.results.find((x) => x.name === 'source_not_null_landing_orders_customer');
    expect(sourceTest?.test?.failures).toBe(2);
    expect(sourceTest?.test?.sample).toHaveLength(2);
    expect(r.hasTestFailures).toBe(true);
    expect(r.success).toBe(false);
    const items = await db.pool.query(
      `select code, pg_typeof(code)::text as code_type, pg_typeof(price)::text as price_type from items order by id`,
    );
    expect(items.rows).toEqual([
      { code: '007', code_type: 'text', price_type: 'numeric' },
      { code: '042', code_type: 'text', price_type: 'numeric' },
    ]);
    // Reloading the seed keeps the dependent view `items` alive.
    const again = await build(db.pool, graph, { runId: 's2', select: ['raw_items'] });
    expect(again.results.map((x) => [x.name, x.status]).sort()).toEqual([
      ['not_null_raw_items_id', 'pass'],
      ['raw_items', 'success'],
      ['unique_raw_items_id', 'pass'],
    ]);
    expect((await db.pool.query('select count(*)::int as n from items')).rows).toEqual([{ n: 2 }]);
  });

  it('a seed load does not starve a pool whose size equals threads (regression: held connection + COPY)', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: p2\n',
      'seeds/tiny_a.csv': 'id\n1\n2\n',
      'seeds/tiny_b.csv': 'id\n3\n',
    });
    const graph = assertCompiled(await compileProject({ dir, schema: db.schema }));
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const r = await build(pool, graph, { runId: 'p1', threads: 1 });
      expect(r.results.map((x) => [x.name, x.status, x.rows])).toEqual([
        ['tiny_a', 'success', 2],
        ['tiny_b', 'success', 1],
      ]);
    } finally {
      await pool.end();
    }
  });
  it('a schema.yml source without schema/identifier reads the table CompileOptions.sources points at (regression: it read raw.orders)', async () => {
    await db.pool.query('create table raw_orders (id int, amount int)');
    await db.pool.query('insert into raw_orders values (1, 10), (2, null), (3, 30)');
    const dir = await writeProject({
      'dbt_project.yml': 'name: p3\n',
      'models/stg_orders.sql': `{{ config(materialized='table') }}\nselect id, amount from {{ source('raw', 'orders') }}`,
      'models/sources.yml': [
        'version: 2',
        'sources:',
        '  - name: raw',
        '    tables:',
        '      - name: orders',
        '        columns:',
        '          - name: amount',
        '            tests:',
        '              - not_null: { config: { severity: warn } }',
      ].join('\n'),
    });
    // What the CLI passes for the tables it loaded.
    const graph = assertCompiled(
      await compileProject({
        dir,
        schema: db.schema,
        sources: { raw: { orders: { schema: db.schema, identifier: 'raw_orders' } } },
      }),
    );
    const r = await build(db.pool, graph, { runId: 'src1' });
    expect(r.results.map((x) => [x.name, x.status, x.rows, x.test?.failures]).sort()).toEqual([
      ['source_not_null_raw_orders_amount', 'warn', undefined, 1],
      ['stg_orders', 'success', 3, undefined],
    ]);
    expect((await db.pool.query('select id, amount from stg_orders order by id')).rows).toEqual([
      { id: 1, amount: 10 },
      { id: 2, amount: null },
      { id: 3, amount: 30 },
    ]);
  });
});
