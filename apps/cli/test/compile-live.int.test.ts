import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtPackagesFixture, testServices, useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { cli, tempProject } from './helpers.js';

const db = useTestDatabase();

async function project(): Promise<string> {
  const dir = await tempProject({
    'dataflow.yml': `name: shop\nwarehouse:\n  url: \${DATABASE_URL}\n  schema: ${db.schema}\n`,
    'models/x.sql': "{{ config(materialized='table') }} select 1 as id",
    'models/starred.sql': "select {{ dbt_utils.star(ref('x')) }} from {{ ref('x') }}",
    'models/schema.yml':
      "models:\n  - name: starred\n    data_tests:\n      - dbt_utils.equal_rowcount:\n          compare_model: ref('x')\n",
  });
  await mkdir(join(dir, 'dbt_packages'));
  await symlink(join(dbtPackagesFixture(), 'dbt_utils'), join(dir, 'dbt_packages', 'dbt_utils'), 'dir');
  return dir;
}

const squash = (sql: string) => sql.replace(/\s+/g, ' ').trim();
const compiledSql = (dir: string, file: string) => readFile(join(dir, 'target/compiled/shop', file), 'utf8');

describe('dataflow compile against the warehouse (dbt compile)', () => {
  it('renders with execute true when the warehouse is reachable: star lists the columns x has there', async () => {
    // x as a previous build left it, with a column the model's offline SQL cannot know about.
    await db.pool.query(`create table "${db.schema}"."x" (id int, name text, "Amount" numeric)`);
    const url = testServices().databaseUrl;
    const dir = await project();
    const r = await cli(['compile', '--log-level', 'info'], { cwd: dir, env: { DATABASE_URL: url } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('rendered against the warehouse (execute true)');
    expect(r.stderr).not.toContain(url);
    expect(squash(await compiledSql(dir, 'models/starred.sql'))).toBe(
      `select "id", "name", "Amount" from "${db.schema}"."x"`,
    );
    // The equal_rowcount test, pending offline, is rendered too.
    const test = squash(
      await compiledSql(dir, 'models/schema.yml/dbt_utils_equal_rowcount_starred_ref_x_.sql'),
    );
    expect(test).toContain(`from "${db.schema}"."starred"`);
    expect(test).toContain(`from "${db.schema}"."x"`);
  });

  it('compiles offline, saying so in one log line, when the warehouse is unreachable', async () => {
    const dir = await project();
    const r = await cli(['compile', '--log-level', 'info'], {
      cwd: dir,
      env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
    });
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.includes('compiled offline'))).toHaveLength(1);
    expect(r.stderr).toContain('warehouse unreachable: compiled offline (execute false)');
    expect(squash(await compiledSql(dir, 'models/starred.sql'))).toBe(`select * from "${db.schema}"."x"`);
  });
});
