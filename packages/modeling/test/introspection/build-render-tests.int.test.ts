import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtPackagesFixture, useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import {
  assertCompiled,
  build,
  compileProject,
  manifestJson,
  type NodeResult,
  runResultsJson,
  type TestNode,
} from '../../src/index.js';
import { relationAsCsv, writeProject } from '../helpers.js';

const db = useTestDatabase();

async function withDbtUtils(files: Record<string, string>): Promise<string> {
  const dir = await writeProject({ 'dbt_project.yml': 'name: shop', ...files });
  await mkdir(join(dir, 'dbt_packages'));
  await symlink(join(dbtPackagesFixture(), 'dbt_utils'), join(dir, 'dbt_packages', 'dbt_utils'), 'dir');
  return dir;
}

const table = "{{ config(materialized='table') }}";

const SCHEMA_YML = `
models:
  - name: orders_a
    data_tests:
      - dbt_utils.equality:
          compare_model: ref('orders_b')
      - dbt_utils.equal_rowcount:
          arguments:
            compare_model: ref('orders_b')
  - name: orders_c
    data_tests:
      - dbt_utils.equality:
          compare_model: ref('orders_a')
  - name: orders_d
    data_tests:
      - dbt_utils.equal_rowcount:
          compare_model: ref('orders_a')
          config:
            severity: warn
  - name: orders_e
    data_tests:
      - dbt_utils.equal_rowcount:
          compare_model: ref('orders_a')
  - name: orders_f
    data_tests:
      - needs_execute
`;

describe('data tests whose Jinja needs the warehouse (dbt_utils over the shared fixture)', () => {
  it('compile them as pending, render them at build time against the published or the temp relation, and apply their macro fail_calc', async () => {
    const dir = await withDbtUtils({
      'seeds/raw_orders.csv': 'id,amount\n1,10\n2,20\n3,30\n',
      'models/orders_a.sql': `${table} select id, amount from {{ ref('raw_orders') }}`,
      'models/orders_b.sql': `${table} select id, amount from {{ ref('raw_orders') }}`,
      // One row differs from orders_a: equality counts it once on each side.
      'models/orders_c.sql': `${table} select id, case when id = 2 then amount + 1 else amount end as amount from {{ ref('orders_a') }}`,
      'models/orders_d.sql': `${table} select id, amount from {{ ref('orders_a') }} where id < 3`,
      'models/orders_e.sql': `${table} select id, amount from {{ ref('orders_a') }}`,
      'models/orders_f.sql': `${table} select 1 as id`,
      'models/schema.yml': SCHEMA_YML,
      // A test that renders nothing even with execute true: an error naming the test and its file.
      'macros/needs_execute.sql':
        "{% test needs_execute(model) %}{% if not execute %}{{ return('') }}{% endif %}{% endtest %}",
    });
    const compiled = await compileProject({ dir, schema: db.schema });
    const graph = assertCompiled(compiled);
    const tests = Object.values(graph.nodes).filter((n): n is TestNode => n.resourceType === 'test');
    // Offline (execute false) every one of them rendered nothing: kept pending, with the macro's config.
    expect(tests.map((t) => [t.name, t.compiled.pending, t.compiled.sql]).sort()).toEqual([
      ['dbt_utils_equal_rowcount_orders_a_ref_orders_b_', true, ''],
      ['dbt_utils_equal_rowcount_orders_d_ref_orders_a_', true, ''],
      ['dbt_utils_equal_rowcount_orders_e_ref_orders_a_', true, ''],
      ['dbt_utils_equality_orders_a_ref_orders_b_', true, ''],
      ['dbt_utils_equality_orders_c_ref_orders_a_', true, ''],
      ['needs_execute_orders_f_', true, ''],
    ]);
    const rowcount = tests.find((t) => t.name === 'dbt_utils_equal_rowcount_orders_d_ref_orders_a_');
    expect(rowcount?.compiled.config.failCalc).toBe('sum(coalesce(diff_count, 0))');
    expect(rowcount?.severity).toBe('warn');
    expect(JSON.parse(JSON.stringify(graph))).toEqual(graph);

    const result = await build(db.pool, graph, { runId: 'r1', threads: 2, renderer: compiled.renderer });
    const byName = new Map(result.results.map((r) => [r.name, r]));
    expect(result.results.filter((r) => r.status === 'skipped').map((r) => [r.name, r.message])).toEqual([]);
    const outcome = (name: string) => {
      const r = byName.get(name) as NodeResult;
      return [r.status, r.test?.failures ?? null, r.audit ?? false];
    };
    // orders_a's tests read orders_b, which is not upstream: they run after both are published.
    expect(outcome('dbt_utils_equality_orders_a_ref_orders_b_')).toEqual(['pass', 0, false]);
    expect(outcome('dbt_utils_equal_rowcount_orders_a_ref_orders_b_')).toEqual(['pass', 0, false]);
    // orders_c / orders_e are audited against their temp relation before publish.
    expect(outcome('dbt_utils_equality_orders_c_ref_orders_a_')).toEqual(['fail', 2, true]);
    expect(byName.get('dbt_utils_equality_orders_c_ref_orders_a_')?.message).toBe(
      'Got 2 results, configured to fail if != 0',
    );
    expect(outcome('orders_c')[0]).toBe('error');
    expect(outcome('dbt_utils_equal_rowcount_orders_e_ref_orders_a_')).toEqual(['pass', 0, true]);
    expect(outcome('orders_e')[0]).toBe('success');
    // A warn-severity test is no audit: run against the published orders_d, one row short.
    expect(outcome('dbt_utils_equal_rowcount_orders_d_ref_orders_a_')).toEqual(['warn', 1, false]);

    const equality = byName.get('dbt_utils_equality_orders_a_ref_orders_b_')?.test?.sql ?? '';
    expect(equality).toContain(`from "${db.schema}"."orders_a"`);
    expect(equality).toContain(`from "${db.schema}"."orders_b"`);
    expect(equality).toContain('"id", "amount"');
    const audited = byName.get('dbt_utils_equality_orders_c_ref_orders_a_')?.test?.sql ?? '';
    expect(audited).toMatch(new RegExp(`from "${db.schema}"\\."orders_c__df_tmp_[0-9a-z_]+"`));

    // An audit that errors keeps its model unpublished too.
    expect(outcome('needs_execute_orders_f_')).toEqual(['error', 0, true]);
    expect(byName.get('needs_execute_orders_f_')?.message).toBe(
      'test needs_execute_orders_f_ (models/schema.yml): build-time render (execute true) failed: generic test needs_execute rendered no SQL',
    );

    // The failed audit kept orders_c unpublished; the rows of what passed are there.
    const published = await db.pool.query<{ relname: string }>(
      `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = $1 and c.relname like 'orders_%' order by 1`,
      [db.schema],
    );
    expect(published.rows.map((r) => r.relname)).toEqual(['orders_a', 'orders_b', 'orders_d', 'orders_e']);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."orders_e"`, 'id')).toEqual([
      'id,amount',
      '1,10',
      '2,20',
      '3,30',
    ]);
  });

  it('reports a pending test run without the renderer as an error naming it', async () => {
    const dir = await withDbtUtils({
      'models/one.sql': `${table} select 1 as id`,
      'models/two.sql': `${table} select 1 as id`,
      'models/schema.yml':
        "models:\n  - name: one\n    data_tests:\n      - dbt_utils.equal_rowcount:\n          compare_model: ref('two')\n",
    });
    const graph = assertCompiled(await compileProject({ dir, schema: db.schema }));
    const result = await build(db.pool, graph, { runId: 'r2', threads: 2 });
    const test = result.results.find((r) => r.resourceType === 'test');
    expect([test?.status, test?.message]).toEqual([
      'error',
      "test dbt_utils_equal_rowcount_one_ref_two_ (models/schema.yml): its SQL needs a build-time render (execute true): pass compileProject's renderer to build",
    ]);
  });
});

describe('test config layers (dbt precedence)', () => {
  it('applies the test macro config() below the project data_tests: config, below the YAML test config; a singular test config() too', async () => {
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: shop',
        'data_tests:',
        '  shop:',
        '    +warn_if: ">1"',
        '    quiet:',
        '      +enabled: false',
      ].join('\n'),
      'macros/over_limit.sql': [
        '{% test over_limit(model, column_name, limit_value) %}',
        "{{ config(severity='warn', fail_calc='sum(excess)', error_if='>100') }}",
        'select {{ column_name }} - {{ limit_value }} as excess from {{ model }} where {{ column_name }} > {{ limit_value }}',
        '{% endtest %}',
      ].join('\n'),
      'models/amounts.sql': `${table} select amount from (values (5), (20), (50)) v(amount)`,
      'models/amounts_copy.sql': `${table} select amount from {{ ref('amounts') }}`,
      'models/schema.yml': [
        'models:',
        '  - name: amounts',
        '    columns:',
        '      - name: amount',
        '        data_tests:',
        '          - over_limit:',
        '              limit_value: 10',
        '          - over_limit:',
        '              limit_value: 11',
        '              config:',
        '                severity: error',
        '  - name: amounts_copy',
        '    columns:',
        '      - name: amount',
        '        data_tests:',
        '          - over_limit:',
        '              limit_value: 10',
        '              config:',
        '                severity: error',
        "                error_if: '>40'",
      ].join('\n'),
      'models/quiet/schema.yml':
        'models:\n  - name: quiet_amounts\n    data_tests:\n      - over_limit:\n          column_name: amount\n          limit_value: 0\n',
      'models/quiet/quiet_amounts.sql': `select 1 as amount`,
      'tests/big_amounts.sql':
        "{{ config(severity='warn') }} select * from {{ ref('amounts') }} where amount > 10",
    });
    const compiled = await compileProject({ dir, schema: db.schema });
    const graph = assertCompiled(compiled);
    const tests = Object.values(graph.nodes).filter((n): n is TestNode => n.resourceType === 'test');
    const configOf = (name: string) => {
      const t = tests.find((n) => n.name === name) as TestNode;
      const { severity, warnIf, errorIf, failCalc } = t.compiled.config;
      return { severity, warnIf, errorIf, failCalc };
    };
    // The quiet folder's test is disabled by the project config.
    expect(tests.map((t) => t.name).sort()).toEqual([
      'big_amounts',
      'over_limit_amounts_amount__10',
      'over_limit_amounts_amount__11',
      'over_limit_amounts_copy_amount__10',
    ]);
    expect(configOf('over_limit_amounts_amount__10')).toEqual({
      severity: 'warn',
      warnIf: '>1',
      errorIf: '>100',
      failCalc: 'sum(excess)',
    });
    expect(configOf('over_limit_amounts_copy_amount__10')).toEqual({
      severity: 'error',
      warnIf: '>1',
      errorIf: '>40',
      failCalc: 'sum(excess)',
    });
    expect(configOf('big_amounts')).toMatchObject({ severity: 'warn', warnIf: '>1' });

    const result = await build(db.pool, graph, { runId: 'r3', threads: 2, renderer: compiled.renderer });
    const outcome = (name: string) => {
      const r = result.results.find((n) => n.name === name) as NodeResult;
      return [r.status, r.test?.failures ?? null, r.message ?? null];
    };
    // sum(excess) over 20 and 50 above 10: 50.
    expect(outcome('over_limit_amounts_amount__10')).toEqual([
      'warn',
      50,
      'Got 50 results, configured to warn if > 1',
    ]);
    // error severity, but the macro's error_if > 100 is not reached: it warns.
    expect(outcome('over_limit_amounts_amount__11')).toEqual([
      'warn',
      48,
      'Got 48 results, configured to warn if > 1',
    ]);
    expect(outcome('over_limit_amounts_copy_amount__10')).toEqual([
      'fail',
      50,
      'Got 50 results, configured to fail if > 40',
    ]);
    expect(outcome('amounts_copy')[0]).toBe('error');
    expect(outcome('big_amounts')).toEqual(['warn', 2, 'Got 2 results, configured to warn if > 1']);
  });
});

describe('store_failures', () => {
  it('stores failing rows where dbt names them (<target>_dbt_test__audit.<alias>, +schema, alias) and lists the relation in manifest and run results', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\ndata_tests:\n  shop:\n    +store_failures: true\n',
      'models/amounts.sql': `${table} select amount from (values (5), (20), (50), (50)) v(amount)`,
      'models/schema.yml': [
        'models:',
        '  - name: amounts',
        '    columns:',
        '      - name: amount',
        '        data_tests:',
        '          - unique:',
        '              config:',
        "                error_if: '>5'",
        '          - accepted_values:',
        '              values: [5, 20]',
        '              quote: false',
        '              config:',
        '                severity: warn',
        '                store_failures: false',
        '          - dbt_utils.accepted_range:',
        '              max_value: 30',
        '              config:',
        '                severity: warn',
        '                schema: custom_audit',
        '                alias: too_big',
        '                store_failures_as: view',
      ].join('\n'),
      'tests/no_fifty.sql':
        "{{ config(severity='warn') }} select * from {{ ref('amounts') }} where amount = 50",
    });
    const compiled = await compileProject({ dir, schema: db.schema });
    const graph = assertCompiled(compiled);
    const tests = Object.values(graph.nodes).filter((n): n is TestNode => n.resourceType === 'test');
    const audit = `${db.schema}_dbt_test__audit`;
    expect(Object.fromEntries(tests.map((t) => [t.name, t.compiled.storeFailuresIn ?? null]))).toEqual({
      unique_amounts_amount: { schema: audit, identifier: 'unique_amounts_amount', kind: 'table' },
      accepted_values_amounts_amount__False__5__20: null,
      dbt_utils_accepted_range_amounts_amount__30: {
        schema: `${db.schema}_custom_audit`,
        identifier: 'too_big',
        kind: 'view',
      },
      no_fifty: { schema: audit, identifier: 'no_fifty', kind: 'table' },
    });

    const result = await build(db.pool, graph, { runId: 'r4', threads: 2, renderer: compiled.renderer });
    const byName = new Map(result.results.map((r) => [r.name, r]));
    // unique is error severity: an audit of the temp relation (which warns: error_if > 5), stored all the same.
    expect([byName.get('unique_amounts_amount')?.status, byName.get('unique_amounts_amount')?.audit]).toEqual(
      ['warn', true],
    );
    expect(await relationAsCsv(db.pool, `"${audit}"."unique_amounts_amount"`, '1')).toEqual([
      'unique_field,n_records',
      '50,2',
    ]);
    expect(await relationAsCsv(db.pool, `"${db.schema}_custom_audit"."too_big"`, '1')).toEqual([
      'amount',
      '50',
      '50',
    ]);
    expect(await relationAsCsv(db.pool, `"${audit}"."no_fifty"`, '1')).toEqual(['amount', '50', '50']);
    const manifest = manifestJson(graph) as {
      nodes: Record<string, { name: string; relation_name: string | null }>;
    };
    const relationNames = Object.fromEntries(
      Object.values(manifest.nodes)
        .filter((n) => tests.some((t) => t.name === n.name))
        .map((n) => [n.name, n.relation_name]),
    );
    expect(relationNames).toEqual({
      unique_amounts_amount: `"${audit}"."unique_amounts_amount"`,
      accepted_values_amounts_amount__False__5__20: null,
      dbt_utils_accepted_range_amounts_amount__30: `"${db.schema}_custom_audit"."too_big"`,
      no_fifty: `"${audit}"."no_fifty"`,
    });
    const runResults = runResultsJson({ runId: 'r4', results: result.results, elapsedMs: 1 }) as {
      results: Array<{ unique_id: string; relation_name: string | null }>;
    };
    const byId = new Map(runResults.results.map((r) => [r.unique_id, r.relation_name]));
    expect(Object.fromEntries(tests.map((t) => [t.name, byId.get(t.uniqueId) ?? null]))).toEqual({
      unique_amounts_amount: `${audit}.unique_amounts_amount`,
      accepted_values_amounts_amount__False__5__20: null,
      dbt_utils_accepted_range_amounts_amount__30: `${db.schema}_custom_audit.too_big`,
      no_fifty: `${audit}.no_fifty`,
    });
  });
});
