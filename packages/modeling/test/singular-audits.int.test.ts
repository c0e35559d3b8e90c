import { useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { assertCompiled, build, type CompiledGraph, compileProject, type NodeResult } from '../src/index.js';
import { updateProject, writeProject } from './helpers.js';

const db = useTestDatabase();

const compile = async (dir: string): Promise<CompiledGraph> =>
  assertCompiled(await compileProject({ dir, schema: db.schema }));
const summary = (results: NodeResult[]) =>
  results
    .map((r) => [r.name, r.status, r.audit ?? false])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
const amounts = async () =>
  (await db.pool.query<{ id: number; amount: number }>('select id, amount from orders order by id')).rows;

describe('singular tests as write-audit-publish audits', () => {
  it('audit the temp relation, not the published one (regression: first build failed with "relation does not exist", later builds checked the old version)', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: p\n',
      'seeds/codes.csv': 'code\nA\nB\n',
      'models/orders.sql': `{{ config(materialized='table') }}\nselect 1 as id, 10 as amount`,
      'tests/assert_amount_positive.sql': `select * from {{ ref('orders') }} where amount <= 0`,
      'tests/assert_codes_known.sql': `select * from {{ ref('codes') }} where code not in ('A', 'B')`,
    });
    // First build: nothing is published yet, so only the temp relations can be queried.
    let r = await build(db.pool, await compile(dir), { runId: 'a1' });
    expect(summary(r.results)).toEqual([
      ['assert_amount_positive', 'pass', true],
      ['assert_codes_known', 'pass', true],
      ['codes', 'success', false],
      ['orders', 'success', false],
    ]);
    const audit = r.results.find((x) => x.name === 'assert_amount_positive');
    expect(audit?.test?.sql).toMatch(
      new RegExp(`^select \\* from "${db.schema}"\\."orders__df_tmp_[0-9a-f]{10}" where amount <= 0$`),
    );
    // A bad new version is caught before publish; the good one stays live.
    await updateProject(dir, {
      'models/orders.sql': `{{ config(materialized='table') }}\nselect 2 as id, -5 as amount`,
    });
    r = await build(db.pool, await compile(dir), { runId: 'a2', select: ['orders'] });
    expect(summary(r.results)).toEqual([
      ['assert_amount_positive', 'fail', true],
      ['orders', 'error', false],
    ]);
    expect(r.results.find((x) => x.name === 'orders')?.message).toContain(
      'write-audit-publish: assert_amount_positive',
    );
    expect(await amounts()).toEqual([{ id: 1, amount: 10 }]);
    // A bad version published without tests is replaced by a good one: the audit must not judge the old rows.
    r = await build(db.pool, await compile(dir), {
      runId: 'a3',
      select: ['orders'],
      resourceTypes: ['model'],
    });
    expect(summary(r.results)).toEqual([['orders', 'success', false]]);
    expect(await amounts()).toEqual([{ id: 2, amount: -5 }]);
    await updateProject(dir, {
      'models/orders.sql': `{{ config(materialized='table') }}\nselect 3 as id, 7 as amount`,
    });
    r = await build(db.pool, await compile(dir), { runId: 'a4', select: ['orders'] });
    expect(summary(r.results)).toEqual([
      ['assert_amount_positive', 'pass', true],
      ['orders', 'success', false],
    ]);
    expect(await amounts()).toEqual([{ id: 3, amount: 7 }]);
  });

  it('only ref() becomes the temp relation: a test may read the live version by name (regression: naive replace of the relation name)', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: q\n',
      'models/events.sql': `{{ config(materialized='table') }}\nselect g as id from generate_series(1, 3) g`,
      'tests/assert_events_do_not_shrink.sql': [
        `select new_version.n from (select count(*) as n from {{ ref('events') }}) as new_version`,
        `where new_version.n < (select count(*) from "{{ target.schema }}"."events")`,
      ].join('\n'),
    });
    let r = await build(db.pool, await compile(dir), { runId: 'b1', resourceTypes: ['model'] });
    expect(summary(r.results)).toEqual([['events', 'success', false]]);
    await updateProject(dir, {
      'models/events.sql': `{{ config(materialized='table') }}\nselect g as id from generate_series(1, 2) g`,
    });
    r = await build(db.pool, await compile(dir), { runId: 'b2' });
    expect(summary(r.results)).toEqual([
      ['assert_events_do_not_shrink', 'fail', true],
      ['events', 'error', false],
    ]);
    expect((await db.pool.query('select count(*)::int as n from events')).rows).toEqual([{ n: 3 }]);
  });
});
