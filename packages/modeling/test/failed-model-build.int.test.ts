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

  it('compiles a model whose name is over 63 bytes with a warning, and fails that node alone at build (as dbt-postgres)', async () => {
    const long = `patient_${'x'.repeat(60)}`;
    const dir = await writeProject({
      'dbt_project.yml': 'name: clinic\n',
      [`models/${long}.sql`]: 'select 1 as id',
      'models/downstream.sql': `select id from {{ ref('${long}') }}`,
      'models/clinics.sql': 'select 3 as id',
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: db.schema });
    expect(diagnostics.map((d) => [d.severity, d.code, d.file])).toEqual([
      ['warning', 'NAME_TOO_LONG', `models/${long}.sql`],
    ]);
    const { results } = await build(db.pool, graph, { runId: 'long-name' });
    const byName = Object.fromEntries(results.map((r) => [r.name, [r.status, r.message]]));
    expect(byName).toEqual({
      [long]: ['error', expect.stringMatching(/^identifier of 68 bytes exceeds PostgreSQL's 63-byte limit/)],
      downstream: ['skipped', `skipped: upstream ${long} error`],
      clinics: ['success', undefined],
    });
    expect((await db.pool.query('select id from clinics')).rows).toEqual([{ id: 3 }]);
  });
});
