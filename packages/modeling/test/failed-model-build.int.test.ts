import { useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { build, compileProject } from '../src/index.js';
import { writeProject } from './helpers.js';

const db = useTestDatabase();

describe('build with a model that failed to compile', () => {
  it('skips its descendants as dbt skips the children of a failed node, and builds the rest', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: clinic\n',
      'models/patients.sql': "select 1 as id\n{{ no_such_macro('x') }}",
      'models/patient_visits.sql': "select id from {{ ref('patients') }}",
      'models/visit_summary.sql': "select count(*) as n from {{ ref('patient_visits') }}",
      'models/providers.sql': 'select 7 as id',
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: db.schema });
    expect(diagnostics.map((d) => [d.code, d.file])).toEqual([['TEMPLATE_ERROR', 'models/patients.sql']]);
    const { results, success } = await build(db.pool, graph, { runId: 'failed-parent' });
    expect(results.map((r) => [r.name, r.status, r.message]).sort()).toEqual([
      ['patient_visits', 'skipped', 'skipped: upstream patients failed to compile'],
      ['providers', 'success', undefined],
      ['visit_summary', 'skipped', 'skipped: upstream patient_visits skipped'],
    ]);
    expect(success).toBe(false);
    expect((await db.pool.query('select id from providers')).rows).toEqual([{ id: 7 }]);
    const built = await db.pool.query(
      `select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 order by 1`,
      [db.schema],
    );
    expect(built.rows.map((r) => r.relname)).toEqual(['providers']);
  });
});
