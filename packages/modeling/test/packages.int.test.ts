import { useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { assertCompiled, build, compileProject } from '../src/index.js';
import { relationAsCsv, writeProject } from './helpers.js';

const db = useTestDatabase();

describe('installed packages (dbt_packages/)', () => {
  it('reads a package’s macros (namespaced), models, seeds and vars, with the root project’s config and vars winning', async () => {
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: shop',
        'vars:',
        '  shop_utils:',
        '    rate: 3',
        'models:',
        '  shop_utils:',
        '    +materialized: table',
      ].join('\n'),
      'models/orders.sql': [
        'select c.code, {{ shop_utils.cents("c.amount") }} as cents, r.rate',
        "from {{ ref('pkg_codes') }} c cross join {{ ref('pkg_rate') }} r",
      ].join('\n'),
      'dbt_packages/shop_utils/dbt_project.yml': 'name: shop_utils\nvars:\n  rate: 2\n  unit: eur\n',
      'dbt_packages/shop_utils/macros/cents.sql': '{% macro cents(c) %}({{ c }} * 100)::int{% endmacro %}',
      'dbt_packages/shop_utils/models/pkg_rate.sql':
        "{{ config(materialized='view') }}select {{ var('rate') }} as rate, '{{ var('unit') }}' as unit",
      'dbt_packages/shop_utils/seeds/pkg_codes.csv': 'code,amount\na,1.5\nb,2.25\n',
    });
    const graph = assertCompiled(await compileProject({ dir, schema: db.schema }));
    expect(Object.keys(graph.nodes).sort()).toEqual([
      'model.shop.orders',
      'model.shop_utils.pkg_rate',
      'seed.shop_utils.pkg_codes',
    ]);
    const rate = graph.nodes['model.shop_utils.pkg_rate'];
    expect(rate).toMatchObject({
      packageName: 'shop_utils',
      file: 'dbt_packages/shop_utils/models/pkg_rate.sql',
      fqn: ['shop_utils', 'pkg_rate'],
      // the root project's `models: shop_utils:` config wins even over the package model's own
      // config(), as in dbt (calculate_node_config applies the root project's configs last)
      config: expect.objectContaining({ materialized: 'table' }),
      // the root project's scope for the package beats the package's own var
      compiledSql: "select 3 as rate, 'eur' as unit",
    });
    expect(graph.nodes['model.shop.orders']).toMatchObject({
      compiledSql: [
        `select c.code, (c.amount * 100)::int as cents, r.rate`,
        `from "${db.schema}"."pkg_codes" c cross join "${db.schema}"."pkg_rate" r`,
      ].join('\n'),
      dependsOn: ['seed.shop_utils.pkg_codes', 'model.shop_utils.pkg_rate'],
    });

    const result = await build(db.pool, graph, { runId: 'pkg1', threads: 2 });
    expect(result.results.map((r) => [r.name, r.status]).sort()).toEqual([
      ['orders', 'success'],
      ['pkg_codes', 'success'],
      ['pkg_rate', 'success'],
    ]);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."orders"`, 'code')).toEqual([
      'code,cents,rate',
      'a,150,3',
      'b,225,3',
    ]);
  });

  it('reports a folder under dbt_packages without a project file and keeps compiling the rest', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\npackages-install-path: vendor\n',
      'models/a.sql': 'select 1 as id',
      'vendor/broken/macros/x.sql': '',
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: db.schema });
    expect(Object.keys(graph.nodes)).toEqual(['model.shop.a']);
    expect(diagnostics).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'CONFIG_ERROR',
        file: 'vendor/broken',
        message:
          'vendor/broken: not a dbt package (no dataflow.yml or dbt_project.yml in the project directory)',
      }),
    ]);
  });
});
