import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtPackagesFixture, useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { assertCompiled, build, compileProject } from '../../src/index.js';
import { AgateTable } from '../../src/introspection/agate-table.js';
import { createPgIntrospector } from '../../src/introspection/pg-introspector.js';
import type { QueryResult } from '../../src/introspection/requests.js';
import { JinjaEnvironment } from '../../src/jinja.js';
import { relationAsCsv, writeProject } from '../helpers.js';

const db = useTestDatabase();

describe('query results hold dates, datetimes and Decimals as dbt does (PostgreSQL)', () => {
  it('casts what PostgreSQL returns: date, timestamp, timestamptz, numeric, float, bool, interval', async () => {
    const [result] = await createPgIntrospector(db.pool)([
      {
        kind: 'query',
        sql: `select date '2024-01-31' as d, timestamp '2024-01-31 10:00:00' as ts,
          timestamptz '2024-01-31 10:00:00+00' at time zone 'UTC' as back_to_ts,
          (timestamptz '2024-01-31 10:00:00+00')::timestamptz as tstz,
          12.340::numeric(6,3) as amount, 0.5::float8 as ratio, true as ok, interval '1 day 2 hours' as span,
          3::bigint as n`,
      },
    ]);
    const table = AgateTable.from(result as QueryResult);
    const jinja = new JinjaEnvironment({ schema: 'analytics' });
    const render = (template: string) => jinja.env.renderString(template, 't.sql', { t: table });
    expect(render('{{ t.rows[0] | join(" | ") }}')).toMatch(
      /^2024-01-31 \| 2024-01-31 10:00:00 \| 2024-01-31 10:00:00 \| 2024-01-31 \d\d:\d\d:00[+-]\d\d:\d\d \| 12\.340 \| 0\.5 \| True \| 1 day, 2:00:00 \| 3$/,
    );
    expect(render("{{ t.rows[0].d.year }} {{ t.rows[0].d.strftime('%Y-%m') }} {{ t.rows[0].ts.hour }}")).toBe(
      '2024 2024-01 10',
    );
    expect(render('{{ t.rows[0].d + modules.datetime.timedelta(days=1) }} {{ t.rows[0].amount + 1 }}')).toBe(
      '2024-02-01 13.340',
    );
    expect(render("{{ t.rows[0].tstz.astimezone(modules.pytz.timezone('UTC')) }}")).toBe(
      '2024-01-31 10:00:00+00:00',
    );
  });

  it('dbt_utils get_column_values of a date column and a date_spine bounded by run_query build on PostgreSQL', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop',
      'seeds/events.csv': 'id,day,amount\n1,2024-01-30,10.50\n2,2024-01-31,11.25\n3,2024-02-02,5.00\n',
      'seeds/schema.yml': [
        'seeds:',
        '  - name: events',
        '    config:',
        '      column_types:',
        '        day: date',
        "        amount: 'numeric(10,2)'",
      ].join('\n'),
      'models/by_month.sql': [
        "{% set days = dbt_utils.get_column_values(ref('events'), 'day', order_by='day') %}",
        "select {% for d in days %}'{{ d.strftime('%Y-%m') }}' as month_{{ loop.index }}, {{ d.day }} as day_{{ loop.index }}, {% endfor %}",
        "{{ days | length }} as n{% if days %}, {{ days[0] < days[-1] }} as ordered, '{{ days[-1] }}' as last_day{% endif %}",
      ].join('\n'),
      'models/spine.sql': [
        "{% set bounds = run_query('select min(day) as lo, max(day) as hi, sum(amount) as total from ' ~ ref('events')) %}",
        '{% if execute %}',
        '{% set lo = bounds.columns[0].values()[0] %}',
        '{% set hi = bounds.columns[1].values()[0] + modules.datetime.timedelta(days=1) %}',
        '{% set total = bounds.rows[0].total %}',
        '{% else %}',
        '{% set lo = modules.datetime.date(2000, 1, 1) %}{% set hi = lo %}{% set total = 0 %}',
        '{% endif %}',
        "select date_day, '{{ lo.strftime('%d/%m/%Y') }}' as first_day, {{ total }} as total from (",
        '{{ dbt_utils.date_spine(datepart=\'day\', start_date="cast(\'" ~ lo ~ "\' as date)", end_date="cast(\'" ~ hi ~ "\' as date)") }}',
        ') spine',
      ].join('\n'),
    });
    await mkdir(join(dir, 'dbt_packages'));
    await symlink(join(dbtPackagesFixture(), 'dbt_utils'), join(dir, 'dbt_packages', 'dbt_utils'), 'dir');
    const compiled = await compileProject({ dir, schema: db.schema });
    const graph = assertCompiled(compiled);
    const result = await build(db.pool, graph, { runId: 'r1', threads: 2, renderer: compiled.renderer });
    expect(result.results.filter((r) => r.status !== 'success').map((r) => [r.name, r.message])).toEqual([]);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."by_month"`, '1')).toEqual([
      'month_1,day_1,month_2,day_2,month_3,day_3,n,ordered,last_day',
      '2024-01,30,2024-01,31,2024-02,2,3,true,2024-02-02',
    ]);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."spine"`, 'date_day')).toEqual([
      'date_day,first_day,total',
      '2024-01-30 00:00:00,30/01/2024,26.75',
      '2024-01-31 00:00:00,30/01/2024,26.75',
      '2024-02-01 00:00:00,30/01/2024,26.75',
      '2024-02-02 00:00:00,30/01/2024,26.75',
    ]);
  });
});
