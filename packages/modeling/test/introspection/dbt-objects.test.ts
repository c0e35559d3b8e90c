import { describe, expect, it } from 'vitest';
import { AgateTable } from '../../src/introspection/agate-table.js';
import { DbtColumn } from '../../src/introspection/column.js';
import { DbtRelation } from '../../src/introspection/relation.js';
import { IntrospectionAnswers } from '../../src/introspection/render-with-answers.js';
import type { RelationColumn } from '../../src/introspection/requests.js';
import { JinjaEnvironment } from '../../src/jinja.js';

const table = AgateTable.from({
  columns: [
    { name: 'id', type: 'integer' },
    { name: 'count', type: 'bigint' },
    { name: 'kind', type: 'text' },
  ],
  rows: [
    [1, 10, 'a'],
    [2, 20, null],
  ],
});

function render(template: string, context: Record<string, unknown> = {}): string {
  const jinja = new JinjaEnvironment({ schema: 'analytics' });
  return jinja.env.renderString(template, 't.sql', context);
}

const col = (name: string, dataType: string, size: Partial<RelationColumn> = {}): RelationColumn => ({
  name,
  dataType,
  charMaxLength: null,
  numericPrecision: null,
  numericScale: null,
  ...size,
});

describe('AgateTable (dbt run_query results)', () => {
  it('reads rows by position and name, columns by position and name, and iterates rows', () => {
    const t = { t: table };
    expect(
      render('{{ t.rows[0][0] }} {{ t.rows[1]["count"] }} {{ t.rows[1].kind }} {{ t.rows[0][-1] }}', t),
    ).toBe('1 20 None a');
    expect(
      render('{{ t.columns[0].values() }} {{ t.columns["kind"].values() }} {{ t.column_names }}', t),
    ).toBe("(1, 2) ('a', None) ('id', 'count', 'kind')");
    expect(render('{% for row in t %}{{ row.id }}:{{ row["count"] }};{% endfor %}', t)).toBe('1:10;2:20;');
    expect(
      render('{% for name, c in t.columns.items() %}{{ name }}={{ c.values() | length }} {% endfor %}', t),
    ).toBe('id=2 count=2 kind=2 ');
    expect(render('{{ t.rows | length }} {{ t.rows[0].keys() }} {{ t.rows[0].dict()["kind"] }}', t)).toBe(
      "2 ('id', 'count', 'kind') a",
    );
    expect(render('{{ t.columns[0].data_type }} {{ t.columns[2].data_type }}', t)).toBe(
      '<agate.Integer> <agate.Text>',
    );
  });

  it('print_table logs instead of printing into the SQL; a missing key is a KeyError', () => {
    const lines: string[] = [];
    const logged = AgateTable.from({ columns: [{ name: 'n', type: 'integer' }], rows: [[1]] }, (m) =>
      lines.push(m),
    );
    expect(render('a{{ t.print_table() }}b', { t: logged })).toBe('ab');
    expect(lines).toEqual(['| n |\n| 1 |']);
    expect(() => render('{{ t.rows[0]["nope"] }}', { t: table })).toThrow(/KeyError|'nope'/);
  });
});

describe('DbtRelation and DbtColumn', () => {
  it('prints as the quoted name; include / quote / incorporate give copies; is a mapping for _is_relation', () => {
    const r = DbtRelation.create({ database: 'db', schema: 'an"x', identifier: 'orders', type: 'table' });
    expect(String(r)).toBe('"db"."an""x"."orders"');
    expect(
      render(
        '{{ r.include(database=false) }} {{ r.quote(identifier=false) }} {{ r.identifier }} {{ r.is_table }}',
        { r },
      ),
    ).toBe('"an""x"."orders" "db"."an""x".orders orders True');
    expect(
      render(
        "{{ r.incorporate(path={'identifier': 'o2'}, type='view') }} {{ r is mapping }} {{ r.get('metadata', {}).get('type') }}",
        { r },
      ),
    ).toBe('"db"."an""x"."o2" True PostgresRelation');
    const parsed = DbtRelation.fromSql('"analytics"."stg_orders"');
    expect([parsed.schema, parsed.identifier, parsed.database, String(parsed)]).toEqual([
      'analytics',
      'stg_orders',
      null,
      '"analytics"."stg_orders"',
    ]);
    const cte = DbtRelation.fromSql('__dbt__cte__eph');
    expect([cte.is_cte, cte.identifier, String(cte)]).toEqual([true, '__dbt__cte__eph', '__dbt__cte__eph']);
    expect(
      render(
        "{{ api.Relation.create(schema='s', identifier='t', type='view').render() }} {{ api.Relation.add_ephemeral_prefix('x') }}",
      ),
    ).toBe('"s"."t" __dbt__cte__x');
  });

  it("gives dbt-postgres's column data types and predicates", () => {
    const c = (dataType: string, size: Partial<RelationColumn> = {}) =>
      DbtColumn.from(col('x', dataType, size));
    expect(c('character varying', { charMaxLength: 8 }).data_type).toBe('character varying(8)');
    expect(c('character varying').data_type).toBe('character varying');
    expect(c('text').data_type).toBe('text');
    expect(c('numeric', { numericPrecision: 10, numericScale: 2 }).data_type).toBe('numeric(10,2)');
    expect(c('numeric').data_type).toBe('numeric');
    expect(c('integer', { numericPrecision: 32, numericScale: 0 }).data_type).toBe('integer');
    expect([
      c('integer').is_number(),
      c('integer').is_integer(),
      c('text').is_string(),
      c('text').string_size(),
    ]).toEqual([true, true, true, 256]);
    expect(
      render('{{ c.quoted }} {{ c.name }} {{ c.dtype }} {{ c.is_float() }}', {
        c: DbtColumn.from(col('My "Col"', 'double precision')),
      }),
    ).toBe('"My ""Col""" My "Col" double precision True');
  });
});

describe('adapter introspection in templates', () => {
  it('asks nothing and answers "missing" while parsing (execute false); answers from the build render', () => {
    const jinja = new JinjaEnvironment({ schema: 'analytics' });
    const template = [
      "{% set r = adapter.get_relation(none, 'analytics', 'orders') %}",
      "{% set cols = adapter.get_columns_in_relation(api.Relation.create(schema='analytics', identifier='orders')) %}",
      '{{ execute }} {{ r }} {{ r.type if r else "" }} {{ cols | map(attribute="name") | join(",") }}',
      " {{ cols | selectattr('numeric_precision') | list | length }}",
    ].join('');
    expect(jinja.env.renderString(template, 'm.sql')).toBe('False None   0');
    const answers = new IntrospectionAnswers();
    answers.answer(
      { kind: 'relation', schema: 'analytics', identifier: 'orders' },
      {
        schema: 'analytics',
        identifier: 'orders',
        type: 'view',
      },
    );
    answers.answer({ kind: 'columns', schema: 'analytics', identifier: 'orders' }, [
      col('id', 'integer', { numericPrecision: 32, numericScale: 0 }),
      col('kind', 'text'),
    ]);
    const out = jinja.introspection.executing(answers, () => jinja.env.renderString(template, 'm.sql'));
    expect(out).toBe('True "analytics"."orders" view id,kind 1');
    expect(answers.pending.size).toBe(0);
    expect(jinja.env.renderString('{{ execute }}', 'm.sql')).toBe('False');
  });
});
