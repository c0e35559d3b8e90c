import { useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { build, compileProject } from '../src/index.js';
import { writeProject } from './helpers.js';

const db = useTestDatabase();

describe("another adapter's materialization or incremental strategy on PostgreSQL", () => {
  it('builds the first table of an insert_overwrite model, fails its incremental run and any materialized_view with UNSUPPORTED_CONFIG', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/events_by_day.sql':
        "{{ config(materialized='incremental', incremental_strategy='insert_overwrite') }}select 1 as id",
      'models/mv_totals.sql': "{{ config(materialized='materialized_view') }}select 2 as id",
    });
    const { graph } = await compileProject({ dir, schema: db.schema });
    const first = await build(db.pool, graph, { runId: 'u1' });
    const byName = [...first.results].sort((a, b) => a.name.localeCompare(b.name));
    expect(byName.map((r) => [r.name, r.status])).toEqual([
      ['events_by_day', 'success'],
      ['mv_totals', 'error'],
    ]);
    expect(byName[1]?.message).toBe(
      'mv_totals: materialized "materialized_view" is not built by dataflow on PostgreSQL',
    );
    expect((await db.pool.query('select id from events_by_day')).rows).toEqual([{ id: 1 }]);
    expect((await db.pool.query(`select to_regclass('mv_totals') as r`)).rows).toEqual([{ r: null }]);

    const second = await build(db.pool, graph, { runId: 'u2', select: ['events_by_day'] });
    expect(second.results.map((r) => [r.name, r.status, r.message])).toEqual([
      [
        'events_by_day',
        'error',
        'events_by_day: incremental_strategy "insert_overwrite" is not built by dataflow on PostgreSQL',
      ],
    ]);
    expect((await db.pool.query('select id from events_by_day')).rows).toEqual([{ id: 1 }]);
  });
});
