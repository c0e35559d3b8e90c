import { useTestDatabase } from '@dataflow/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { assertCompiled, type BuildResourceType, build, compileProject } from '../src/index.js';
import { writeProject } from './helpers.js';

const db = useTestDatabase();

describe('+grants and +persist_docs on seeds', () => {
  // Roles are cluster-wide: names unique to this run, dropped afterwards.
  const suffix = `${process.pid}_${Date.now()}`;
  const reader = `df_seed_reader_${suffix}`;
  const analyst = `df_seed_analyst_${suffix}`;
  afterAll(async () => {
    await db.pool.query(`drop owned by "${reader}", "${analyst}"`).catch(() => undefined);
    await db.pool.query(`drop role if exists "${reader}"`);
    await db.pool.query(`drop role if exists "${analyst}"`);
  });

  async function buildWith(dir: string, vars: Record<string, unknown>, resourceTypes?: BuildResourceType[]) {
    const compiled = await compileProject({ dir, schema: db.schema, vars });
    const graph = assertCompiled(compiled);
    const result = await build(db.pool, graph, {
      runId: `r${Math.random()}`,
      threads: 2,
      renderer: compiled.renderer,
      ...(resourceTypes ? { resourceTypes } : {}),
    });
    return result.results.filter((x) => x.status !== 'success').map((x) => `${x.name}: ${x.message}`);
  }

  const grantees = async (table: string) =>
    (
      await db.pool.query<{ g: string }>(
        `select grantee || ':' || lower(privilege_type) as g from information_schema.role_table_grants
          where table_schema = $1 and table_name = $2 and grantee in ($3, $4) order by 1`,
        [db.schema, table, reader, analyst],
      )
    ).rows.map((r) => r.g);
  const comments = async (table: string) =>
    (
      await db.pool.query(
        `select obj_description($1::regclass, 'pg_class') as rel, col_description($1::regclass, 1) as c1,
                col_description($1::regclass, 2) as c2`,
        [`"${db.schema}"."${table}"`],
      )
    ).rows[0];

  it('applies them after each load, from seeds: config and a seed’s schema.yml config:, and keeps them on a dependent view the swap recreates', async () => {
    await db.pool.query(`create role "${reader}"`);
    await db.pool.query(`create role "${analyst}"`);
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: shop',
        'seeds:',
        '  shop:',
        `    +grants: {select: ["{{ var('grantee') }}"]}`,
        '    +persist_docs: {relation: true}',
      ].join('\n'),
      'seeds/countries.csv': 'code,name\nFR,France\nDE,Germany\n',
      'seeds/currencies.csv': 'code,rate\nEUR,1\n',
      'seeds/schema.yml': [
        'version: 2',
        'seeds:',
        '  - name: countries',
        '    description: ISO countries',
        '    columns:',
        '      - name: code',
        '        description: ISO 3166 code',
        '    config:',
        '      persist_docs: {relation: true, columns: true}',
        '  - name: currencies',
        "    description: Currencies, 'as of today'",
        '    config:',
        `      grants: {select: ["{{ var('grantee') }}", ${analyst}], insert: ["{{ var('grantee') }}"]}`,
      ].join('\n'),
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: country_names',
        '    description: Country names only',
        '    config:',
        '      persist_docs: {relation: true}',
        `      grants: {select: [${analyst}]}`,
      ].join('\n'),
      'models/country_names.sql': "select name from {{ ref('countries') }}",
    });
    expect(await buildWith(dir, { grantee: reader })).toEqual([]);
    expect(await grantees('countries')).toEqual([`${reader}:select`]);
    expect(await grantees('currencies')).toEqual([
      `${analyst}:select`,
      `${reader}:insert`,
      `${reader}:select`,
    ]);
    expect(await comments('countries')).toEqual({ rel: 'ISO countries', c1: 'ISO 3166 code', c2: null });
    expect(await comments('currencies')).toEqual({ rel: "Currencies, 'as of today'", c1: null, c2: null });
    expect(await grantees('country_names')).toEqual([`${analyst}:select`]);

    // Seeds alone, with another grantee: the seeds' grants are the configured set again after the
    // swap, and the view that reads `countries` (not rebuilt) keeps its own grants and comment.
    expect(await buildWith(dir, { grantee: analyst }, ['seed'])).toEqual([]);
    expect(await grantees('countries')).toEqual([`${analyst}:select`]);
    expect(await grantees('currencies')).toEqual([`${analyst}:insert`, `${analyst}:select`]);
    expect(await comments('countries')).toEqual({ rel: 'ISO countries', c1: 'ISO 3166 code', c2: null });
    expect(await grantees('country_names')).toEqual([`${analyst}:select`]);
    expect((await comments('country_names')).rel).toBe('Country names only');
  });

  it('reports a malformed seed grants config with the seed and file', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop',
      'seeds/countries.csv': 'code\nFR\n',
      'seeds/schema.yml': [
        'version: 2',
        'seeds:',
        '  - name: countries',
        '    config:',
        '      grants: [x]',
      ].join('\n'),
    });
    const compiled = await compileProject({ dir, schema: db.schema });
    expect(compiled.diagnostics.map((d) => [d.code, d.file, d.message])).toEqual([
      [
        'CONFIG_ERROR',
        'seeds/countries.csv',
        'seed countries: grants must map privileges to grantees (grants: { select: [reporter] })',
      ],
    ]);
  });
});
