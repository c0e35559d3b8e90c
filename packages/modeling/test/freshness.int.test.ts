import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestDatabase } from '@dataflow/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileProject, evaluateFreshness, writeSourcesJson } from '../src/index.js';
import { writeProject } from './helpers.js';

const db = useTestDatabase();

beforeAll(async () => {
  // Load times far from every window edge: no assertion depends on how fast this machine is.
  await db.pool.query(`create table raw_orders (id int, status text, _loaded_at timestamptz)`);
  await db.pool.query(`insert into raw_orders values
    (1, 'ok', now() - interval '30 hours'), (2, 'test', now() - interval '10 minutes')`);
  await db.pool.query(`create table raw_customers (id int, _loaded_at timestamptz)`);
  await db.pool.query(`insert into raw_customers values (1, now() - interval '5 days')`);
  await db.pool.query(`create table raw_payments (id int, _loaded_at timestamptz)`);
  await db.pool.query(`insert into raw_payments values (1, now() - interval '1 hour')`);
  await db.pool.query(`create table raw_empty (id int, _loaded_at timestamptz)`);
});

describe('evaluateFreshness', () => {
  it('warn, error, pass, empty and a broken rule; filter; written as sources.json', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/sources.yml': `
sources:
  - name: raw
    schema: ${db.schema}
    config:
      loaded_at_field: _loaded_at
      freshness: { warn_after: { count: 26, period: hour }, error_after: { count: 3, period: day } }
    tables:
      - name: orders
        identifier: raw_orders
        config: { freshness: { warn_after: { count: 26, period: hour }, filter: "status <> 'test'" } }
      - name: customers
        identifier: raw_customers
      - name: payments
        identifier: raw_payments
      - name: empty
        identifier: raw_empty
      - name: broken
        identifier: raw_payments
        loaded_at_field: no_such_column
      - name: unchecked
        identifier: raw_payments
        freshness: null
`,
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: db.schema });
    expect(diagnostics).toEqual([]);
    const results = await evaluateFreshness(db.pool, graph);
    const byTable = Object.fromEntries(results.map((r) => [r.tableName, r]));
    expect(results.map((r) => [r.tableName, r.status])).toEqual([
      ['broken', 'runtime error'],
      ['customers', 'error'],
      ['empty', 'error'],
      ['orders', 'warn'],
      ['payments', 'pass'],
    ]);
    // The filter leaves out the fresh test order: the newest counted load is 30 hours old.
    expect(byTable.orders?.ageSeconds).toBeGreaterThanOrEqual(30 * 3600);
    expect(byTable.orders?.ageSeconds).toBeLessThan(31 * 3600);
    expect(byTable.orders?.message).toBe('older than allowed (warn after 26 hour(s))');
    expect(byTable.empty).toMatchObject({
      maxLoadedAt: null,
      ageSeconds: null,
      message: 'no rows (counts as stale)',
    });
    expect(byTable.broken?.message).toMatch(/no_such_column/);
    expect(byTable.payments?.message).toBeUndefined();

    const selected = await evaluateFreshness(db.pool, graph, { select: ['source:raw.payments'] });
    expect(selected.map((r) => [r.uniqueId, r.status])).toEqual([['source.shop.raw.payments', 'pass']]);

    const target = join(tmpdir(), `freshness-${process.pid}-${Date.now()}`);
    const path = await writeSourcesJson(target, { invocationId: 'f1', results, elapsedMs: 10 });
    const json = JSON.parse(await readFile(path, 'utf8'));
    expect(json.results.map((r: { unique_id: string; status: string }) => [r.unique_id, r.status])).toEqual([
      ['source.shop.raw.broken', 'runtime error'],
      ['source.shop.raw.customers', 'error'],
      ['source.shop.raw.empty', 'error'],
      ['source.shop.raw.orders', 'warn'],
      ['source.shop.raw.payments', 'pass'],
    ]);
    expect(json.results[3].criteria).toEqual({
      warn_after: { count: 26, period: 'hour' },
      error_after: { count: null, period: null },
      filter: "status <> 'test'",
    });
  });
});
