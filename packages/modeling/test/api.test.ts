import { describe, expect, it } from 'vitest';
import { compileProject, isRetryableCause, ModelingError, planBuild, sql } from '../src/index.js';
import { writeProject } from './helpers.js';

describe('sql tagged template', () => {
  it('inlines fragments and relations, renders constants as escaped literals', () => {
    const inner = sql`id = ${5}`;
    const q = sql`select ${sql.ident('we"ird')}, ${"o'brien"}, ${true}, ${null}, ${10n} from t where ${inner}`;
    expect(q.text).toBe(`select "we""ird", 'o''brien', true, null, 10 from t where id = 5`);
    expect(String(sql.join([sql.raw('a'), sql.raw('b')], sql.raw(' and ')))).toBe('a and b');
    expect(sql.literal(new Date('2026-01-02T03:04:05Z')).text).toBe(`'2026-01-02T03:04:05.000Z'`);
    expect(() => sql`${Number.NaN}`).toThrow(/non-finite/);
  });
});

describe('ModelingError', () => {
  it('carries code, node, file, cause and derives retryable from the cause', () => {
    const cause = Object.assign(new Error('terminating connection'), { code: '57P01' });
    const e = new ModelingError('ABORTED', 'stopped', { node: 'model.p.a', file: 'models/a.sql', cause });
    expect(e).toMatchObject({
      name: 'ModelingError',
      code: 'ABORTED',
      node: 'model.p.a',
      file: 'models/a.sql',
      retryable: true,
      cause,
    });
    expect(new ModelingError('AUDIT_FAILED', 'x').retryable).toBe(false);
    expect(isRetryableCause({ code: '40P01' })).toBe(true);
    expect(isRetryableCause({ code: 'ECONNRESET' })).toBe(true);
    expect(isRetryableCause({ code: '23505' })).toBe(false);
    expect(isRetryableCause(undefined)).toBe(false);
  });
});

describe('planBuild waits', () => {
  it('children of a node wait for its error-severity multi-parent tests, except where that would deadlock', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: p\n',
      'models/dim.sql': 'select 1 as id',
      'models/fct.sql': `select 1 as id, 1 as dim_id from {{ ref('dim') }}`,
      'models/rpt.sql': `select * from {{ ref('fct') }}`,
      'models/uses_rpt.sql': `select * from {{ ref('rpt') }}`,
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: fct',
        '    columns:',
        '      - name: dim_id',
        '        tests:',
        '          - relationships: { to: "ref(\'dim\')", field: id }',
        '          - relationships: { to: "ref(\'rpt\')", field: id }',
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 's' });
    expect(diagnostics).toEqual([]);
    const plan = planBuild(graph);
    const toDim = Object.keys(graph.nodes).find((id) =>
      id.includes('relationships_fct_dim_id__id__ref_dim_'),
    ) as string;
    const toRpt = Object.keys(graph.nodes).find((id) =>
      id.includes('relationships_fct_dim_id__id__ref_rpt_'),
    ) as string;
    // dim is upstream of fct: the test is an audit of fct.
    expect(plan.audits['model.p.fct']).toEqual([toDim]);
    // rpt is downstream of fct: post-publish test; rpt must not wait for it (deadlock), uses_rpt need not.
    expect(plan.waitsFor[toRpt]).toEqual(['model.p.fct', 'model.p.rpt']);
    expect(plan.waitsFor['model.p.rpt']).toEqual(['model.p.fct']);
  });
});
