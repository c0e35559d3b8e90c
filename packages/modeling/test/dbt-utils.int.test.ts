import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtPackagesFixture, useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { assertCompiled, build, compileProject } from '../src/index.js';
import { relationAsCsv, writeProject } from './helpers.js';

const db = useTestDatabase();

describe('dbt_utils installed in dbt_packages/ (the shared fixture, as dbt deps leaves it)', () => {
  it('compiles and builds generate_surrogate_key, deduplicate and pivot; a project dispatch override wins', async () => {
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: shop',
        'dispatch:',
        '  - macro_namespace: dbt_utils',
        '    search_order: [shop, dbt_utils]',
      ].join('\n'),
      // The project's own implementation of a dbt_utils macro, found first through dispatch.
      'macros/pretty.sql':
        "{% macro default__pretty_message_for_test() %}'overridden'{% endmacro %}{% macro pretty_message_for_test() %}{{ return(adapter.dispatch('pretty_message_for_test', 'dbt_utils')()) }}{% endmacro %}",
      'seeds/events.csv': 'id,kind,amount,at\n1,a,10,2024-01-01\n1,a,11,2024-01-02\n2,b,5,2024-01-01\n',
      'models/keyed.sql':
        "select {{ dbt_utils.generate_surrogate_key(['id', 'kind']) }} as sk, id from {{ ref('events') }}",
      'models/latest.sql':
        "{{ dbt_utils.deduplicate(relation=ref('events'), partition_by='id', order_by='at desc') }}",
      'models/pivoted.sql':
        "select id, {{ dbt_utils.pivot('kind', ['a', 'b'], agg='sum', then_value='amount') }} from {{ ref('events') }} group by id",
      'models/override.sql': 'select {{ pretty_message_for_test() }} as msg',
    });
    await mkdir(join(dir, 'dbt_packages'));
    await symlink(join(dbtPackagesFixture(), 'dbt_utils'), join(dir, 'dbt_packages', 'dbt_utils'), 'dir');
    const graph = assertCompiled(await compileProject({ dir, schema: db.schema }));
    const sqlOf = (name: string) =>
      (graph.nodes[`model.shop.${name}`] as { compiledSql: string }).compiledSql;
    expect(sqlOf('keyed')).toContain('md5(cast(coalesce(cast(id as TEXT)');
    expect(sqlOf('override')).toBe("select 'overridden' as msg");

    const result = await build(db.pool, graph, { runId: 'u1', threads: 2 });
    expect(result.results.filter((r) => r.status !== 'success').map((r) => r.name)).toEqual([]);
    const rows = (sql: string) => db.pool.query(sql).then((r) => r.rows);
    expect(
      await rows(
        `select count(distinct sk)::int as n, min(length(sk))::int as len from "${db.schema}".keyed`,
      ),
    ).toEqual([{ n: 2, len: 32 }]);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."latest"`, 'id')).toEqual([
      'id,kind,amount,at',
      '1,a,11,2024-01-02',
      '2,b,5,2024-01-01',
    ]);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."pivoted"`, 'id')).toEqual([
      'id,a,b',
      '1,21,0',
      '2,0,5',
    ]);
  });
});
