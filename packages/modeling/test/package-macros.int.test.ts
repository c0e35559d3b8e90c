import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtPackagesFixture, useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { compileProject, type ModelNode } from '../src/index.js';
import { createPgIntrospector } from '../src/introspection/pg-introspector.js';
import { writeProject } from './helpers.js';

const db = useTestDatabase();
const PACKAGES = ['dbt_utils', 'dbt_date'] as const;
const ADAPTER_PREFIX = /^[a-z]+__/;

/** Every macro name each fixture package defines, read from its macro files (not a hand-kept list). */
function packageMacros(): string[] {
  const names = new Set<string>();
  for (const pkg of PACKAGES) {
    const dir = join(dbtPackagesFixture(), pkg, 'macros');
    for (const file of readdirSync(dir, { recursive: true }) as string[]) {
      if (!file.endsWith('.sql')) continue;
      const text = readFileSync(join(dir, file), 'utf8');
      for (const m of text.matchAll(/\{%-?\s*macro\s+([A-Za-z_]\w*)\s*\(/g))
        names.add(`${pkg}.${m[1] as string}`);
    }
  }
  return [...names].sort();
}

/**
 * How each public macro is exercised: `expr` renders inside `select … as v` and runs on PostgreSQL,
 * `query` renders a whole query that runs, `compile` only compiles (the reason says why it does
 * not run as SQL on its own), `build` is a model that reads the warehouse: compiled offline, then
 * rendered again with `execute` true against a real table (`ref('people')` a Relation, its columns
 * Column objects) and run, its rows compared.
 */
type Use =
  | { call: string; kind: 'expr' | 'query' }
  | { call: string; kind: 'compile'; why: string; renders?: string }
  /** A whole model template that reads the warehouse: rendered at build time, run, its rows compared. */
  | { call: string; kind: 'build'; rows: Record<string, unknown>[] };
/** The `people` table with its empty string read as null (`nullcheck` of a string column). */
const NULLCHECKED = [
  { id: 1, name: 'ann', code: 'x' },
  { id: 2, name: null, code: null },
];
const HELPER = 'a compile-time datetime helper (a Python value, no SQL)';
const d = "'2024-03-15'::date";
const ts = "'2024-03-15 10:20:30'::timestamp";
const EXERCISED: Record<string, Use> = {
  'dbt_utils.date_spine': {
    call: `dbt_utils.date_spine('day', "'2024-01-01'::date", "'2024-01-05'::date")`,
    kind: 'query',
  },
  'dbt_utils.deduplicate': {
    call: `dbt_utils.deduplicate('(select 1 as id, 2 as v) as t', 'id', 'v desc')`,
    kind: 'query',
  },
  'dbt_utils.degrees_to_radians': { call: 'dbt_utils.degrees_to_radians(180)', kind: 'expr' },
  'dbt_utils.generate_series': { call: 'dbt_utils.generate_series(10)', kind: 'query' },
  'dbt_utils.generate_surrogate_key': {
    call: "dbt_utils.generate_surrogate_key(['1', \"'a'\"])",
    kind: 'expr',
  },
  'dbt_utils.get_column_values': {
    call: "dbt_utils.get_column_values(ref('base'), 'id') | join(',')",
    kind: 'compile',
    why: 'reads the warehouse (execute false offline: the default)',
  },
  'dbt_utils.get_filtered_columns_in_relation': {
    call: "select '{{ dbt_utils.get_filtered_columns_in_relation(ref('people'), except=['NAME']) | join(',') }}' as v",
    kind: 'build',
    rows: [{ v: 'id,code' }],
  },
  'dbt_utils.get_intervals_between': {
    call: `dbt_utils.get_intervals_between("'2024-01-01'::date", "'2024-01-05'::date", 'day')`,
    kind: 'compile',
    why: 'runs a query at build time (a number offline)',
  },
  'dbt_utils.get_powers_of_two': {
    call: 'dbt_utils.get_powers_of_two(10)',
    kind: 'compile',
    why: 'returns a Jinja number, not SQL',
  },
  'dbt_utils.get_query_results_as_dict': {
    call: "dbt_utils.get_query_results_as_dict('select 1 as a')",
    kind: 'compile',
    why: 'reads the warehouse (a dict of columns)',
  },
  'dbt_utils.get_relations_by_pattern': {
    call: "dbt_utils.get_relations_by_pattern('public%', 'x%') | length",
    kind: 'compile',
    why: 'reads the warehouse',
  },
  'dbt_utils.get_relations_by_prefix': {
    call: "dbt_utils.get_relations_by_prefix('public', 'x') | length",
    kind: 'compile',
    why: 'reads the warehouse',
  },
  'dbt_utils.get_single_value': {
    call: "dbt_utils.get_single_value('select 1', default=0)",
    kind: 'compile',
    why: 'reads the warehouse',
  },
  'dbt_utils.get_table_types_sql': {
    call: 'dbt_utils.get_table_types_sql()',
    kind: 'compile',
    why: 'a CASE fragment over information_schema columns',
  },
  'dbt_utils.get_tables_by_pattern_sql': {
    call: "dbt_utils.get_tables_by_pattern_sql('pg_catalog', 'pg_c%')",
    kind: 'query',
  },
  'dbt_utils.get_tables_by_prefix_sql': {
    call: "dbt_utils.get_tables_by_prefix_sql('pg_catalog', 'pg_c')",
    kind: 'query',
  },
  'dbt_utils.get_url_host': { call: `dbt_utils.get_url_host("'https://example.com/a?b=1'")`, kind: 'expr' },
  'dbt_utils.get_url_parameter': {
    call: `dbt_utils.get_url_parameter("'https://example.com/a?b=1&c=2'", 'c')`,
    kind: 'expr',
  },
  'dbt_utils.get_url_path': { call: `dbt_utils.get_url_path("'https://example.com/a/b?c=1'")`, kind: 'expr' },
  'dbt_utils.group_by': {
    call: "'select 1 as a, count(*) from (select 1) t ' ~ dbt_utils.group_by(1)",
    kind: 'query',
  },
  'dbt_utils.haversine_distance': {
    call: 'dbt_utils.haversine_distance(48.85, 2.35, 51.5, -0.12)',
    kind: 'expr',
  },
  'dbt_utils.log_info': { call: "dbt_utils.log_info('hello') ~ '1'", kind: 'expr' },
  'dbt_utils.nullcheck': {
    call: "select {{ dbt_utils.nullcheck(adapter.get_columns_in_relation(ref('people'))) }} from {{ ref('people') }} order by id",
    kind: 'build',
    rows: NULLCHECKED,
  },
  'dbt_utils.nullcheck_table': {
    call: "{{ dbt_utils.nullcheck_table(ref('people')) }} order by id",
    kind: 'build',
    rows: NULLCHECKED,
  },
  'dbt_utils.pivot': {
    call: "'select ' ~ dbt_utils.pivot('k', ['a', 'b']) ~ \" from (select 'a' as k) t\"",
    kind: 'query',
  },
  'dbt_utils.pretty_log_format': {
    call: "dbt_utils.pretty_log_format('x')",
    kind: 'compile',
    why: 'log text',
  },
  'dbt_utils.pretty_time': { call: 'dbt_utils.pretty_time()', kind: 'compile', why: 'log text (the clock)' },
  'dbt_utils.safe_add': { call: "dbt_utils.safe_add(['1', 'null', '2'])", kind: 'expr' },
  'dbt_utils.safe_divide': { call: 'dbt_utils.safe_divide(1, 0)', kind: 'expr' },
  'dbt_utils.safe_subtract': { call: "dbt_utils.safe_subtract(['5', 'null', '2'])", kind: 'expr' },
  'dbt_utils.slugify': { call: '"\'" ~ dbt_utils.slugify(\'Hello World!\') ~ "\'"', kind: 'expr' },
  'dbt_utils.star': {
    call: "select {{ dbt_utils.star(ref('people'), except=['code'], prefix='p_') }} from {{ ref('people') }} order by 1",
    kind: 'build',
    rows: [
      { p_id: 1, p_name: 'ann' },
      { p_id: 2, p_name: '' },
    ],
  },
  'dbt_utils.surrogate_key': {
    call: "dbt_utils.surrogate_key(['1'])",
    kind: 'compile',
    why: 'deprecated: raises its documented compiler error unless a var allows it',
  },
  'dbt_utils.union_relations': {
    call: "dbt_utils.union_relations([ref('base')])",
    kind: 'compile',
    why: 'reads the warehouse',
  },
  'dbt_utils.unpivot': {
    call: "select * from ({{ dbt_utils.unpivot(ref('people'), exclude=['id'], remove=['code']) }}) u order by id",
    kind: 'build',
    rows: [
      { id: 1, field_name: 'name', value: 'ann' },
      { id: 2, field_name: 'name', value: '' },
    ],
  },
  'dbt_utils.width_bucket': { call: 'dbt_utils.width_bucket(5, 0, 10, 4)', kind: 'expr' },
  'dbt_date.compile_reference_datetime': {
    call: 'dbt_date.compile_reference_datetime()',
    kind: 'compile',
    why: 'a Python datetime at compile time',
  },
  'dbt_date.convert_timezone': {
    call: `dbt_date.convert_timezone("${ts}", 'Europe/Paris', 'UTC')`,
    kind: 'expr',
  },
  'dbt_date.date': {
    call: 'dbt_date.date(2024, 3, 15)',
    kind: 'compile',
    why: 'a Python date at compile time',
  },
  'dbt_date.date_part': { call: `dbt_date.date_part('year', "${d}")`, kind: 'expr' },
  'dbt_date.date_spine': {
    call: `dbt_date.date_spine('day', "'2024-01-01'::date", "'2024-01-05'::date")`,
    kind: 'query',
  },
  'dbt_date.day_name': { call: `dbt_date.day_name("${d}")`, kind: 'expr' },
  'dbt_date.day_name_localized': {
    call: `dbt_date.day_name("${d}", language='fr')`,
    kind: 'compile',
    why: 'exercised through day_name(language=…)',
  },
  'dbt_date.day_of_month': { call: `dbt_date.day_of_month("${d}")`, kind: 'expr' },
  'dbt_date.day_of_week': { call: `dbt_date.day_of_week("${d}")`, kind: 'expr' },
  'dbt_date.day_of_year': { call: `dbt_date.day_of_year("${d}")`, kind: 'expr' },
  'dbt_date.from_unixtimestamp': { call: 'dbt_date.from_unixtimestamp(1700000000)', kind: 'expr' },
  'dbt_date.generate_series': { call: 'dbt_date.generate_series(5)', kind: 'query' },
  'dbt_date.get_base_dates': {
    call: "dbt_date.get_base_dates(start_date='2024-01-01', end_date='2024-01-10')",
    kind: 'query',
  },
  'dbt_date.get_date_dimension': {
    call: "dbt_date.get_date_dimension('2024-01-01', '2024-01-10')",
    kind: 'query',
  },
  'dbt_date.get_fiscal_periods': {
    call: "dbt_date.get_fiscal_periods(ref('dates'), year_end_month=6, week_start_day=1)",
    kind: 'compile',
    why: 'reads a date model',
  },
  'dbt_date.get_fiscal_year_dates': {
    call: "dbt_date.get_fiscal_year_dates(ref('dates'))",
    kind: 'compile',
    why: 'reads a date model',
  },
  'dbt_date.get_intervals_between': {
    call: `dbt_date.get_intervals_between("'2024-01-01'::date", "'2024-01-05'::date", 'day')`,
    kind: 'compile',
    why: 'runs a query at build time',
  },
  'dbt_date.get_localized_datepart_names': {
    call: "dbt_date.get_localized_datepart_names('fr', 'month') | length",
    kind: 'compile',
    why: 'a Jinja list of names',
  },
  'dbt_date.get_powers_of_two': {
    call: 'dbt_date.get_powers_of_two(10)',
    kind: 'compile',
    why: 'returns a Jinja number',
  },
  'dbt_date.datetime': {
    call: 'dbt_date.datetime(2024, 3, 15, 10).isoformat()',
    kind: 'compile',
    why: HELPER,
    renders: '2024-03-15T10:00:00+00:00',
  },
  'dbt_date.is_after': {
    call: "dbt_date.is_after('2024-03-15', '2024-01-01')",
    kind: 'compile',
    why: HELPER,
    // dbt_date's reading: is the reference (2024-01-01) after the value?
    renders: 'False',
  },
  'dbt_date.is_after_or_equal': {
    call: "dbt_date.is_after_or_equal('2024-03-15', '2024-03-15')",
    kind: 'compile',
    why: HELPER,
    renders: 'True',
  },
  'dbt_date.is_before': {
    call: "dbt_date.is_before('2024-03-15', '2024-01-01')",
    kind: 'compile',
    why: HELPER,
    renders: 'True',
  },
  'dbt_date.is_before_or_equal': {
    call: "dbt_date.is_before_or_equal('2024-01-01', '2024-01-01')",
    kind: 'compile',
    why: HELPER,
    renders: 'True',
  },
  'dbt_date.is_between': {
    call: "dbt_date.is_between('2024-01-01', '2024-12-31', reference='2024-03-15')",
    kind: 'compile',
    why: HELPER,
    renders: 'True',
  },
  'dbt_date.iso_week_end': { call: `dbt_date.iso_week_end("${d}")`, kind: 'expr' },
  'dbt_date.iso_week_of_year': { call: `dbt_date.iso_week_of_year("${d}")`, kind: 'expr' },
  'dbt_date.iso_week_start': { call: `dbt_date.iso_week_start("${d}")`, kind: 'expr' },
  'dbt_date.iso_year_week': { call: `dbt_date.iso_year_week("${d}")`, kind: 'expr' },
  'dbt_date.last_month': { call: 'dbt_date.last_month()', kind: 'expr' },
  'dbt_date.last_month_name': { call: 'dbt_date.last_month_name()', kind: 'expr' },
  'dbt_date.last_month_number': { call: 'dbt_date.last_month_number()', kind: 'expr' },
  'dbt_date.last_week': { call: 'dbt_date.last_week()', kind: 'expr' },
  'dbt_date.month_name': { call: `dbt_date.month_name("${d}", short=false)`, kind: 'expr' },
  'dbt_date.month_name_localized': {
    call: `dbt_date.month_name("${d}", language='de')`,
    kind: 'compile',
    why: 'exercised through month_name(language=…)',
  },
  'dbt_date.n_days_ago': { call: 'dbt_date.n_days_ago(7)', kind: 'expr' },
  'dbt_date.n_days_away': { call: 'dbt_date.n_days_away(7)', kind: 'expr' },
  'dbt_date.n_months_ago': { call: 'dbt_date.n_months_ago(2)', kind: 'expr' },
  'dbt_date.n_months_away': { call: 'dbt_date.n_months_away(2)', kind: 'expr' },
  'dbt_date.n_weeks_ago': { call: 'dbt_date.n_weeks_ago(2)', kind: 'expr' },
  'dbt_date.n_weeks_away': { call: 'dbt_date.n_weeks_away(2)', kind: 'expr' },
  'dbt_date.next_month': { call: 'dbt_date.next_month()', kind: 'expr' },
  'dbt_date.next_month_name': { call: 'dbt_date.next_month_name(short=false)', kind: 'expr' },
  'dbt_date.next_month_number': { call: 'dbt_date.next_month_number()', kind: 'expr' },
  'dbt_date.next_week': { call: 'dbt_date.next_week()', kind: 'expr' },
  'dbt_date.now': { call: "dbt_date.now('UTC')", kind: 'expr' },
  'dbt_date.periods_since': { call: `dbt_date.periods_since("${d}", 'day')`, kind: 'expr' },
  'dbt_date.round_timestamp': { call: `dbt_date.round_timestamp("${ts}")`, kind: 'expr' },
  'dbt_date.to_compile_datetime': {
    call: "dbt_date.to_compile_datetime('2024-03-15').isoformat()",
    kind: 'compile',
    why: HELPER,
    renders: '2024-03-15T00:00:00+00:00',
  },
  'dbt_date.to_unixtimestamp': { call: `dbt_date.to_unixtimestamp("${ts}")`, kind: 'expr' },
  'dbt_date.today': { call: 'dbt_date.today()', kind: 'expr' },
  'dbt_date.tomorrow': { call: 'dbt_date.tomorrow()', kind: 'expr' },
  'dbt_date.week_end': { call: `dbt_date.week_end("${d}")`, kind: 'expr' },
  'dbt_date.week_of_year': { call: `dbt_date.week_of_year("${d}")`, kind: 'expr' },
  'dbt_date.week_start': { call: `dbt_date.week_start("${d}")`, kind: 'expr' },
  'dbt_date.yesterday': { call: 'dbt_date.yesterday()', kind: 'expr' },
};

/** Macros not called on their own, each with the reason. */
const NOT_CALLED: Record<string, string> = {
  'dbt_utils.test_not_null_proportion': 'a generic test (`{% test %}`), compiled through schema.yml tests',
};
const isPrivate = (name: string) => (name.split('.')[1] as string).startsWith('_');
const isImplementation = (name: string) => ADAPTER_PREFIX.test(name.split('.')[1] as string);

describe('every public dbt_utils and dbt_date macro on PostgreSQL', () => {
  it('each one is exercised or listed with a reason; each compiles; each SQL expression or query runs', async () => {
    const all = packageMacros();
    const publicMacros = all.filter((n) => !isPrivate(n) && !isImplementation(n));
    // Implementations (`postgres__x`, `default__x`) and private helpers (`_x`) run through the public ones.
    expect(publicMacros.length).toBeGreaterThan(90);
    const unlisted = publicMacros.filter((n) => !(n in EXERCISED) && !(n in NOT_CALLED));
    expect(unlisted, 'public macros neither exercised nor listed as not called').toEqual([]);

    const files: Record<string, string> = {
      'dbt_project.yml': 'name: shop\nvars:\n  "dbt_date:time_zone": UTC\n',
      'models/base.sql': 'select 1 as id, 2 as v',
      'models/dates.sql': "select '2024-01-01'::date as date_day",
      'models/people.sql':
        "select * from (values (1, 'ann'::varchar(10), 'x'::text), (2, '', '')) as t(id, name, code)",
    };
    const modelName = (macro: string) => `m_${macro.replace('.', '__')}`;
    for (const [macro, use] of Object.entries(EXERCISED)) {
      if (!publicMacros.includes(macro)) continue;
      const body =
        use.kind === 'build'
          ? use.call
          : use.kind === 'expr'
            ? `select {{ ${use.call} }} as v`
            : `{{ ${use.call} }}`;
      files[`models/${modelName(macro)}.sql`] = body;
    }
    const dir = await writeProject(files);
    await mkdir(join(dir, 'dbt_packages'));
    for (const pkg of PACKAGES)
      await symlink(join(dbtPackagesFixture(), pkg), join(dir, 'dbt_packages', pkg), 'dir');
    // target.database is the connection's, as dbt's profile gives it (information_schema macros name it).
    const database = new URL(db.url).pathname.slice(1);
    const compiled = await compileProject({ dir, schema: db.schema, target: { database } });
    const { graph, diagnostics } = compiled;
    const errors = diagnostics
      .filter((x) => x.severity === 'error')
      .map((x) => `${x.node ?? x.file}: ${x.message}`);
    expect(errors.filter((e) => !e.startsWith('m_dbt_utils__surrogate_key:'))).toEqual([]);

    const failures: string[] = [];
    for (const [macro, use] of Object.entries(EXERCISED)) {
      if (use.kind !== 'compile' || use.renders === undefined) continue;
      const node = graph.nodes[`model.shop.${modelName(macro)}`] as ModelNode | undefined;
      if (node?.compiledSql.trim() !== use.renders) failures.push(`${macro} rendered ${node?.compiledSql}`);
    }
    for (const [macro, use] of Object.entries(EXERCISED)) {
      if (use.kind === 'compile' || use.kind === 'build' || !publicMacros.includes(macro)) continue;
      const node = graph.nodes[`model.shop.${modelName(macro)}`] as ModelNode | undefined;
      if (!node) {
        failures.push(`${macro}: not compiled`);
        continue;
      }
      try {
        const result = await db.pool.query(node.compiledSql);
        if (result.rows.length === 0) failures.push(`${macro}: no rows`);
      } catch (error) {
        failures.push(`${macro}: ${(error as Error).message}\n${node.compiledSql}`);
      }
    }
    expect(failures).toEqual([]);

    // Macros that read the warehouse render at build time (execute true) against the table `ref()` names.
    const people = graph.nodes['model.shop.people'] as ModelNode;
    await db.pool.query(`create table "${db.schema}"."people" as ${people.compiledSql}`);
    const introspect = createPgIntrospector(db.pool);
    const built: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const [macro, use] of Object.entries(EXERCISED)) {
      if (use.kind !== 'build') continue;
      expected[macro] = use.rows;
      try {
        const { sql } = await compiled.renderer.render(`model.shop.${modelName(macro)}`, false, introspect);
        built[macro] = (await db.pool.query(sql)).rows;
      } catch (error) {
        built[macro] = (error as Error).message;
      }
    }
    expect(built).toEqual(expected);
  });
});
