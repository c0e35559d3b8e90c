import { useTestDatabase } from '@dataflow/testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import { assertCompiled, build, compileProject } from '../src/index.js';
import { relationAsCsv, writeProject } from './helpers.js';

const db = useTestDatabase();

async function buildDir(dir: string, vars: Record<string, unknown> = {}) {
  const compiled = await compileProject({ dir, schema: db.schema, vars });
  const graph = assertCompiled(compiled);
  return build(db.pool, graph, { runId: `r${Math.random()}`, threads: 1, renderer: compiled.renderer });
}

async function auditRows(): Promise<string[]> {
  const { rows } = await db.pool.query<{ line: string }>(
    `select step || ' ' || detail as line from "${db.schema}".audit_log order by id`,
  );
  return rows.map((r) => r.line);
}

const audit = (step: string, detail: string) =>
  `insert into {{ target.schema }}.audit_log (step, detail) values ('${step}', ${detail})`;

describe('model pre-hook / post-hook', () => {
  beforeEach(async () => {
    await db.pool.query(`drop table if exists "${db.schema}".audit_log`);
    await db.pool.query(
      `create table "${db.schema}".audit_log (id serial primary key, step text not null, detail text)`,
    );
  });

  it('runs project, schema.yml and config() hooks in order around the build, {{ this }} the published relation', async () => {
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: shop',
        'models:',
        '  shop:',
        `    +post-hook: "${audit('project-post', "'{{ this }}'")}"`,
        // Rendered blank while compiling (`execute` false): runs nothing, as nothing would fail.
        '    +pre-hook: "{% if execute %}select 1 / 0{% endif %}"',
      ].join('\n'),
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: orders',
        '    config:',
        `      pre-hook: "${audit('yml-pre', "'{{ this }}'")}"`,
      ].join('\n'),
      'models/orders.sql': [
        '{{ config(materialized="table",',
        `   pre_hook="${audit('sql-pre', "'{{ model.name }}'")}",`,
        `   post_hook=["${audit('sql-post', '(select count(*)::text from {{ this }})')}"]) }}`,
        'select 1 as id union all select 2',
      ].join('\n'),
    });
    const result = await buildDir(dir);
    expect(result.results.map((r) => `${r.name} ${r.status}`)).toEqual(['orders success']);
    const rel = `"${db.schema}"."orders"`;
    // The post-hook counts the rows of the relation it names: the published one, already swapped in.
    expect(await auditRows()).toEqual([
      `yml-pre ${rel}`,
      'sql-pre orders',
      `project-post ${rel}`,
      'sql-post 2',
    ]);
    expect(await relationAsCsv(db.pool, rel, 'id')).toEqual(['id', '1', '2']);
  });

  it('a failing hook fails the model naming the hook, and rolls back its transaction', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop',
      'models/orders.sql': [
        "{{ config(materialized='table', pre_hook=var('pre'), post_hook=var('post')) }}",
        "select {{ var('v') }} as id",
      ].join('\n'),
      'models/child.sql': "select id from {{ ref('orders') }}",
    });
    const ok = await buildDir(dir, { v: 1, pre: [], post: [] });
    expect(ok.success).toBe(true);

    const preFails = await buildDir(dir, {
      v: 2,
      pre: [audit('pre', "'one'"), 'select 1 / 0'],
      post: [],
    });
    const orders = preFails.results.find((r) => r.name === 'orders');
    expect(orders?.status).toBe('error');
    expect(orders?.message).toContain('orders: pre-hook 2 failed (division by zero)');
    expect(preFails.results.find((r) => r.name === 'child')?.status).toBe('skipped');
    expect(await auditRows()).toEqual([]);

    const postFails = await buildDir(dir, {
      v: 3,
      pre: [],
      post: [audit('post', "'one'"), 'select * from no_such_table'],
    });
    const failed = postFails.results.find((r) => r.name === 'orders');
    expect(failed?.status).toBe('error');
    expect(failed?.message).toContain('orders: post-hook 2 failed');
    expect(failed?.message).toContain('no_such_table');
    // The publish rolled back with the hook: the previous version stays, the first hook's row is gone.
    expect(await relationAsCsv(db.pool, `"${db.schema}"."orders"`, 'id')).toEqual(['id', '1']);
    expect(await auditRows()).toEqual([]);
  });
});

describe('on-run-start / on-run-end', () => {
  it('run once before and after the nodes, on-run-end also after a failed node; a failing one is reported', async () => {
    const files = (end: string) => ({
      'dbt_project.yml': [
        'name: shop',
        'on-run-start:',
        '  - "create table if not exists {{ target.schema }}.run_log (id serial primary key, step text not null, detail text)"',
        `  - "insert into {{ target.schema }}.run_log (step, detail) values ('start', '{{ var(\\"tag\\") }}')"`,
        `on-run-end: "${end}"`,
      ].join('\n'),
      'models/a.sql': [
        "{{ config(materialized='table', post_hook=\"insert into {{ target.schema }}.run_log (step, detail) values ('model', 'a')\") }}",
        'select 1 as id',
      ].join('\n'),
      'models/broken.sql': 'select * from no_such_relation',
    });
    const logged = async () =>
      (
        await db.pool.query<{ line: string }>(
          `select step || ' ' || detail as line from "${db.schema}".run_log order by id`,
        )
      ).rows.map((r) => r.line);

    const first = await buildDir(
      await writeProject(
        files("insert into {{ target.schema }}.run_log (step, detail) values ('end', 'done')"),
      ),
      { tag: 'one' },
    );
    expect(first.results.find((r) => r.name === 'broken')?.status).toBe('error');
    expect(first.onRunEndError).toBeUndefined();
    expect(await logged()).toEqual(['start one', 'model a', 'end done']);

    const second = await buildDir(await writeProject(files('select 1 / 0')), { tag: 'two' });
    expect(second.success).toBe(false);
    expect(second.onRunEndError).toContain('on-run-end 1 failed (division by zero)');
    expect(second.results.find((r) => r.name === 'a')?.status).toBe('success');
    expect(await logged()).toEqual(['start one', 'model a', 'end done', 'start two', 'model a']);
  });

  it('a failing on-run-start builds nothing', async () => {
    const dir = await writeProject({
      'dbt_project.yml': ['name: shop', 'on-run-start: "select * from no_such_table"'].join('\n'),
      'models/never.sql': "{{ config(materialized='table') }}\nselect 1 as id",
    });
    await expect(buildDir(dir)).rejects.toMatchObject({
      code: 'HOOK_FAILED',
      message: expect.stringContaining('on-run-start 1 failed'),
    });
    const { rows } = await db.pool.query(
      `select 1 from information_schema.tables where table_schema = $1 and table_name = 'never'`,
      [db.schema],
    );
    expect(rows).toEqual([]);
  });
});
