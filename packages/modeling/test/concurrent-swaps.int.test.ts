import { useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { assertCompiled, build, compileProject } from '../src/index.js';
import { writeProject } from './helpers.js';

const db = useTestDatabase();

describe('concurrent swaps sharing dependent views', () => {
  it('re-running seed and build at 4 threads keeps a view that reads several seeds (regression: "could not open relation with OID")', async () => {
    const seeds = ['s1', 's2', 's3', 's4', 's5', 's6'];
    const files: Record<string, string> = { 'dbt_project.yml': 'name: p\n' };
    for (const [i, s] of seeds.entries()) files[`seeds/${s}.csv`] = `id,v\n1,${i}\n2,${i * 10}\n`;
    // A view reading every seed through ref(), one through source() (the seed's identity), and a
    // view on top of it: every seed swap must capture and recreate both.
    files['models/wide.sql'] = `select id, ${seeds.map((s) => `${s}.v as ${s}`).join(', ')}\nfrom ${seeds
      .map((s, i) => (i === 0 ? `{{ ref('${s}') }} ${s}` : `join {{ ref('${s}') }} ${s} using (id)`))
      .join('\n')}`;
    files['models/top.sql'] =
      `select id, s1 + s6 as total from {{ ref('wide') }} join {{ source('raw', 's2') }} r using (id)`;
    files['models/sources.yml'] =
      `version: 2\nsources:\n  - name: raw\n    schema: ${db.schema}\n    tables:\n      - name: s2\n`;
    const dir = await writeProject(files);
    const graph = assertCompiled(await compileProject({ dir, schema: db.schema }));
    expect(graph.nodes['model.p.top']?.dependsOn.sort()).toEqual([
      'model.p.wide',
      'seed.p.s2',
      'source.p.raw.s2',
    ]);

    const first = await build(db.pool, graph, { runId: 'c0', threads: 4 });
    expect(first.results.filter((r) => r.status !== 'success')).toEqual([]);
    for (let run = 1; run <= 4; run++) {
      // `dataflow seed` (seeds only: the views stay and every swap recreates them), then `build`.
      const seedOnly = await build(db.pool, graph, { runId: `s${run}`, threads: 4, resourceTypes: ['seed'] });
      expect(
        seedOnly.results.filter((r) => r.status !== 'success').map((r) => `${r.name}: ${r.message}`),
      ).toEqual([]);
      const all = await build(db.pool, graph, { runId: `b${run}`, threads: 4 });
      expect(all.results.filter((r) => r.status !== 'success').map((r) => `${r.name}: ${r.message}`)).toEqual(
        [],
      );
    }
    const rows = await db.pool.query('select id, total from top order by id');
    expect(rows.rows).toEqual([
      { id: 1, total: 5 },
      { id: 2, total: 50 },
    ]);
  });
});

describe('dependent views across a swap', () => {
  it('keep their grants and comments (regression: a swap recreated them without)', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: g\n',
      'models/base.sql': "{{ config(materialized='table') }}select 1 as id",
    });
    const graph = assertCompiled(await compileProject({ dir, schema: db.schema }));
    expect((await build(db.pool, graph, { runId: 'g1' })).success).toBe(true);
    const role = `df_reader_${db.schema}`.slice(0, 63);
    await db.pool.query(`drop role if exists "${role}"`);
    await db.pool.query(`create role "${role}"`);
    await db.pool.query(`create view "${db.schema}".report as select id from "${db.schema}".base`);
    await db.pool.query(`grant select on "${db.schema}".report to "${role}"`);
    await db.pool.query(`comment on view "${db.schema}".report is 'for the reading role'`);
    try {
      const rebuilt = await build(db.pool, graph, { runId: 'g2' });
      expect(rebuilt.results.map((r) => [r.name, r.status, r.action])).toEqual([
        ['base', 'success', 'swapped'],
      ]);
      const grants = await db.pool.query(
        `select privilege_type from information_schema.role_table_grants where table_schema = $1 and table_name = 'report' and grantee = $2`,
        [db.schema, role],
      );
      expect(grants.rows).toEqual([{ privilege_type: 'SELECT' }]);
      const comment = await db.pool.query(`select obj_description($1::regclass, 'pg_class') as c`, [
        `"${db.schema}".report`,
      ]);
      expect(comment.rows).toEqual([{ c: 'for the reading role' }]);
    } finally {
      await db.pool.query(`drop view "${db.schema}".report`);
      await db.pool.query(`drop role "${role}"`);
    }
  });
});
