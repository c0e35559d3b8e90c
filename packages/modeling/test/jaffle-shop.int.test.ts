import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jaffleShop } from '../examples/jaffle_shop_ts/project.js';
import { build, type CompiledGraph, compileProject, qualify, writeArtifacts } from '../src/index.js';
import { csvLines, relationAsCsv, writeProject } from './helpers.js';

const fixtures = '/work/shared/fixtures/jaffle_shop';
const dbtDir = fileURLToPath(new URL('../examples/jaffle_shop', import.meta.url));
const db = useTestDatabase();

async function expectGoldens(schema: string) {
  expect(await relationAsCsv(db.pool, qualify(schema, 'customers'), 'customer_id')).toEqual(
    await csvLines(`${fixtures}/expected_customers.csv`),
  );
  expect(await relationAsCsv(db.pool, qualify(schema, 'orders'), 'order_id')).toEqual(
    await csvLines(`${fixtures}/expected_orders.csv`),
  );
}

function countStatuses(results: Array<{ resourceType: string; status: string }>) {
  const out: Record<string, number> = {};
  for (const r of results)
    out[`${r.resourceType}:${r.status}`] = (out[`${r.resourceType}:${r.status}`] ?? 0) + 1;
  return out;
}

describe.each([
  ['dbt-style project', 'dbt'],
  ['TypeScript project', 'ts'],
] as const)('jaffle_shop (%s)', (_label, form) => {
  let schema: string;
  let graph: CompiledGraph;

  beforeAll(async () => {
    schema = `${db.schema}_${form}`;
    const compiled =
      form === 'dbt'
        ? await compileProject({ dir: dbtDir, schema })
        : await compileProject({ project: jaffleShop, schema });
    expect(compiled.diagnostics).toEqual([]);
    graph = compiled.graph;
  });
  afterAll(async () => {
    await db.pool.query(`drop schema if exists "${schema}" cascade`);
  });

  it('compiles to 28 nodes: 3 seeds, 5 models, 20 tests', () => {
    const byType = countStatuses(
      Object.values(graph.nodes).map((n) => ({ resourceType: n.resourceType, status: '' })),
    );
    expect(byType).toEqual({ 'seed:': 3, 'model:': 5, 'test:': 20 });
  });

  it('builds the goldens exactly and passes all 20 tests; a second build is stable', async () => {
    const first = await build(db.pool, graph, { runId: `jaffle-${form}-1`, threads: 3 });
    expect(first.results.filter((r) => r.status !== 'success' && r.status !== 'pass')).toEqual([]);
    expect(countStatuses(first.results)).toEqual({ 'seed:success': 3, 'model:success': 5, 'test:pass': 20 });
    expect(first.success).toBe(true);
    expect(first.hasTestFailures).toBe(false);
    expect(first.results.find((r) => r.name === 'orders')?.rows).toBe(99);
    expect(first.results.find((r) => r.name === 'raw_payments')?.rows).toBe(113);
    await expectGoldens(schema);

    const second = await build(db.pool, graph, { runId: `jaffle-${form}-2`, threads: 2 });
    expect(countStatuses(second.results)).toEqual({ 'seed:success': 3, 'model:success': 5, 'test:pass': 20 });
    await expectGoldens(schema);
    // Nothing left behind: no temp or backup relations in the schema.
    const target = await writeProject({});
    await writeArtifacts(target, graph, {
      runId: `jaffle-${form}-2`,
      results: second.results,
      elapsedMs: second.elapsedMs,
    });
    const runResults = JSON.parse(await readFile(join(target, 'run_results.json'), 'utf8'));
    expect(runResults.results).toHaveLength(28);
    expect(runResults.results.filter((r: { status: string }) => r.status === 'pass')).toHaveLength(20);
    const compiledOrders = await readFile(
      join(target, 'compiled', graph.projectName, 'models/orders.sql'),
      'utf8',
    );
    expect(compiledOrders).toContain(`from "${schema}"."stg_orders"`);
    const leftovers = await db.pool.query(
      `select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and relname like '%\\_\\_df\\_%'`,
      [schema],
    );
    expect(leftovers.rows).toEqual([]);
  });
});
