// biome-ignore-all lint/suspicious/noTemplateCurlyInString: a literal ${ENV} must stay literal in a TypeScript config
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineModel, defineProject, sql } from '@dataflow/modeling';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadProject } from '../src/config/load.js';
import { parseTsConfig } from '../src/config/parse.js';
import { defineConfig } from '../src/define-config.js';
import { CliError } from '../src/errors.js';
import { pickConfigExport, splitTsConfig } from '../src/ts-config.js';
import { cli } from './helpers.js';
import { tsConfigProject } from './ts-project.js';

// These tests load tsx, spawn python or compile projects: on a loaded machine that takes
// longer than vitest's 5 s default, and no test may depend on an idle machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const stgOrders = defineModel({
  name: 'stg_orders',
  refs: ['raw_orders'],
  sql: ({ ref }) => sql`select order_id from ${ref('raw_orders')}`,
});
const base = {
  name: 'shop',
  sources: { orders: { type: 'csv', location: 'data/orders/{{ ds }}.csv', primary_key: ['order_id'] } },
};

function errorOf(fn: () => unknown): CliError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error('expected a CliError');
}

async function rejectionOf(promise: Promise<unknown>): Promise<CliError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error('expected a CliError');
}

describe('defineConfig', () => {
  it('is the identity and types the YAML keys plus models/project', () => {
    const config = {
      name: 'shop',
      warehouse: { schema: 'analytics' },
      sources: { orders: { type: 'csv' as const, location: 'o.csv', primary_key: 'order_id' } },
      models: [stgOrders],
    };
    expect(defineConfig(config)).toBe(config);
    const typed = defineConfig({
      name: 'jaffle',
      warehouse: { url: process.env.DF_UNSET_FOR_TYPES },
      sources: {
        rates: {
          type: 'api',
          url: 'https://x/rates',
          auth: { type: 'bearer', token: 't' },
          primary_key: 'id',
        },
      },
      project: defineProject({ name: 'jaffle', models: [stgOrders], externals: ['raw_orders'] }),
    });
    expect(typed.project?.models).toEqual([stgOrders]);
    // @ts-expect-error a typo in a key is a type error, like an unknown key in dataflow.yml
    defineConfig({ name: 'shop', warehose: {} });
    // @ts-expect-error dbt project-file keys are not part of dataflow.config.ts
    defineConfig({ name: 'shop', 'model-paths': ['models'] });
  });
});

describe('pickConfigExport', () => {
  it('prefers the named export `config`, else the default export', () => {
    const a = { name: 'a' };
    const b = { name: 'b' };
    expect(pickConfigExport({ config: a, default: b })).toBe(a);
    expect(pickConfigExport({ default: b })).toBe(b);
  });

  it('unwraps the CommonJS interop wrapper of a .ts file outside a "type": "module" package', () => {
    const c = { name: 'c' };
    expect(pickConfigExport({ default: { default: c } })).toBe(c);
    expect(pickConfigExport({ default: { config: c } })).toBe(c);
  });

  it('fails naming both ways to export when nothing is exported', () => {
    const err = errorOf(() => pickConfigExport({ other: 1 }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(
      "dataflow.config.ts: no configuration exported; use 'export default defineConfig({ ... })' or 'export const config = defineConfig({ ... })'",
    );
  });
});

describe('splitTsConfig', () => {
  it.each([
    [null, 'dataflow.config.ts: expected the exported configuration to be an object'],
    [[base], 'dataflow.config.ts: expected the exported configuration to be an object'],
    [{ ...base, models: stgOrders }, 'dataflow.config.ts: models: expected a list of defineModel() results'],
    [
      { ...base, models: [stgOrders, { name: 'x', sql: 'select 1' }] },
      'dataflow.config.ts: models.1: expected a defineModel() result',
    ],
    [
      { ...base, project: { name: 'x', models: [] } },
      'dataflow.config.ts: project: expected a defineProject() result',
    ],
    [
      { ...base, models: [], project: defineProject({ name: 'p', models: [] }) },
      "dataflow.config.ts: project: use either 'models' or 'project', not both",
    ],
    [
      { ...base, 'model-paths': ['models'] },
      "dataflow.config.ts: model-paths: not supported in dataflow.config.ts (TypeScript models come from 'models' or 'project'; dbt-style settings belong in dbt_project.yml)",
    ],
  ])('rejects %j with one line naming the key', (value, message) => {
    const err = errorOf(() => splitTsConfig(value));
    expect(err.message).toBe(message);
    expect(err.exitCode).toBe(2);
  });

  it('separates models and project from the YAML-shaped keys', () => {
    const project = defineProject({ name: 'p', models: [stgOrders], externals: ['raw_orders'] });
    expect(splitTsConfig({ ...base, models: [stgOrders] })).toEqual({ plain: base, models: [stgOrders] });
    expect(splitTsConfig({ ...base, project })).toEqual({ plain: base, project });
  });
});

describe('parseTsConfig', () => {
  it('validates with the dataflow.yml schema, naming dataflow.config.ts and the key path', () => {
    const bad = { ...base, sources: { orders: { ...base.sources.orders, disposition: 'upsert' } } };
    expect(errorOf(() => parseTsConfig(bad, {})).message).toBe(
      'dataflow.config.ts: sources.orders.disposition: expected one of append|replace|replace_partition|merge',
    );
    const typo = { ...base, sources: { orders: { ...base.sources.orders, primary_kye: ['x'] } } };
    expect(errorOf(() => parseTsConfig(typo, {})).message).toBe(
      "dataflow.config.ts: sources.orders.primary_kye: unknown key (did you mean 'primary_key'?)",
    );
    expect(errorOf(() => parseTsConfig({ ...base, build: { threads: '4' } }, {})).message).toBe(
      'dataflow.config.ts: build.threads: expected number, got string',
    );
  });

  it('applies defaults, groups `models` under the config name and keeps `project` as is', () => {
    const { config, tsProject } = parseTsConfig({ ...base, models: [stgOrders] }, {});
    expect(config.warehouse).toEqual({ schema: 'public', pool_size: 8 });
    expect(config.sources.orders).toMatchObject({
      disposition: 'replace_partition',
      primary_key: ['order_id'],
    });
    expect(tsProject).toMatchObject({ kind: 'project-definition', name: 'shop', models: [stgOrders] });
    const project = defineProject({ name: 'jaffle', models: [stgOrders], externals: ['raw_orders'] });
    expect(parseTsConfig({ ...base, project }, {}).tsProject).toBe(project);
    expect(parseTsConfig(base, {}).tsProject).toBeUndefined();
  });

  it('does not interpolate ${ENV}, but applies the DATAFLOW_* env overrides', () => {
    const { config, secrets } = parseTsConfig(
      { ...base, lake: { url: 's3://lake/${PREFIX}' } },
      { PREFIX: 'raw', DATAFLOW_DATABASE_URL: 'postgres://u:override-pw@h/db' },
    );
    expect(config.lake.url).toBe('s3://lake/${PREFIX}');
    expect(config.warehouse.url).toBe('postgres://u:override-pw@h/db');
    expect(secrets).toEqual(expect.arrayContaining(['postgres://u:override-pw@h/db', 'override-pw']));
  });

  it('registers credentials written in the TypeScript config as secrets', () => {
    const { secrets } = parseTsConfig(
      {
        name: 'shop',
        warehouse: { url: 'postgres://app:wh%40pw@db:5432/shop' },
        metadata: { url: 'postgres://meta:meta-pw@db/meta' },
        lake: { url: 's3://lake/raw', access_key_id: 'AKIA', secret_access_key: 'lake-secret' },
        sources: {
          rates: { type: 'api', url: 'https://x/rates', auth: { type: 'bearer', token: 'bearer-tok' } },
          fx: {
            type: 'api',
            url: 'https://x/fx',
            auth: { type: 'basic', username: 'u', password: 'basic-pw' },
          },
          kv: { type: 'api', url: 'https://x/kv', auth: { type: 'api_key', name: 'k', value: 'key-val' } },
          files: { type: 'csv', location: 'https://x/f.csv', headers: { Authorization: 'Token hdr-tok' } },
        },
      },
      {},
    );
    expect([...secrets].sort()).toEqual(
      [
        'wh@pw',
        'meta-pw',
        'lake-secret',
        'bearer-tok',
        'basic-pw',
        'key-val',
        'hdr-tok',
        'Token hdr-tok',
      ].sort(),
    );
  });
});

describe('loadProject with dataflow.config.ts (tsx)', () => {
  const dirs: string[] = [];
  const project = async (files: Record<string, string>) => {
    const dir = await tsConfigProject(files);
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('loads a default export typed with defineConfig, with TypeScript models', async () => {
    const dir = await project({
      'dataflow.config.ts': `import { defineConfig } from '@dataflow/cli';
import { defineModel, sql } from '@dataflow/modeling';
const days: number = 7;
const stg = defineModel({ name: 'stg_orders', refs: ['raw_orders'], sql: ({ ref }) => sql\`select * from \${ref('raw_orders')} limit \${days}\` });
export default defineConfig({ name: 'shop', warehouse: { url: 'postgres://u:pw-from-ts@h/db' }, models: [stg] });
`,
    });
    const loaded = await loadProject(dir, {});
    expect(loaded).toMatchObject({
      dir,
      file: 'dataflow.config.ts',
      kind: 'typescript',
      secrets: ['pw-from-ts'],
    });
    expect(loaded.config.warehouse.url).toBe('postgres://u:pw-from-ts@h/db');
    expect(loaded.tsProject?.name).toBe('shop');
    expect(loaded.tsProject?.models.map((m) => m.name)).toEqual(['stg_orders']);
  });

  it('a TypeScript config without models has an empty TypeScript project (no models/ dir is read)', async () => {
    const dir = await project({ 'dataflow.config.ts': "export const config = { name: 'bare' };\n" });
    const loaded = await loadProject(dir, {});
    expect(loaded.tsProject).toMatchObject({ name: 'bare', models: [], seeds: [] });
  });

  it('a TypeScript config beside dbt_project.yml leaves the models to the dbt-style directory', async () => {
    const dir = await project({
      'dataflow.config.ts': "export const config = { name: 'mixed' };\n",
      'dbt_project.yml': 'name: mixed\n',
    });
    const loaded = await loadProject(dir, {});
    expect(loaded.kind).toBe('typescript');
    expect(loaded.tsProject).toBeUndefined();
  });

  it('every load evaluates the file afresh', async () => {
    const dir = await project({ 'dataflow.config.ts': "export const config = { name: 'first' };\n" });
    expect((await loadProject(dir, {})).config.name).toBe('first');
    await writeFile(join(dir, 'dataflow.config.ts'), "export const config = { name: 'second' };\n");
    expect((await loadProject(dir, {})).config.name).toBe('second');
  });

  it.each([
    // file:line:column of the syntax error, and esbuild's reason (not "Transform failed with 1 error:").
    [
      'a syntax error',
      'export const config = { name: ;\n',
      /^dataflow\.config\.ts:1:31: cannot load: Unexpected ";"$/,
    ],
    [
      'a throwing module',
      "throw new Error('DATABASE_URL is required');\n",
      /^dataflow\.config\.ts:1:7: cannot load: DATABASE_URL is required$/,
    ],
    [
      'an unresolvable import',
      "import { x } from './missing.js';\nexport const config = { name: x };\n",
      /^dataflow\.config\.ts: cannot load: .*missing/,
    ],
    ['no export', 'export const other = 1;\n', /^dataflow\.config\.ts: no configuration exported/],
    [
      'an invalid value',
      "export default { name: 'shop', warehouse: { pool_size: 0 } };\n",
      /^dataflow\.config\.ts: warehouse\.pool_size: /,
    ],
  ])('%s is a configuration error (exit 2, one line)', async (_label, source, message) => {
    const dir = await project({ 'dataflow.config.ts': source });
    const err = await rejectionOf(loadProject(dir, {}));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
  });

  it('a load failure outside a "type": "module" package hints at the CommonJS format', async () => {
    const dir = await project({
      'package.json': '{ "name": "cjs-project" }',
      'dataflow.config.ts': "throw new Error('boom');\n",
    });
    const err = await rejectionOf(loadProject(dir, {}));
    expect(err.message).toBe(
      // As CommonJS tsx evaluates a data: URL, so the stack has no usable line: no location then.
      'dataflow.config.ts: cannot load: boom (hint: dataflow.config.ts is loaded as CommonJS; add "type": "module" to the project\'s package.json)',
    );
  });

  it('both dataflow.yml and dataflow.config.ts is a configuration error', async () => {
    const dir = await project({
      'dataflow.yml': 'name: shop\n',
      'dataflow.config.ts': "export const config = { name: 'shop' };\n",
    });
    const err = await rejectionOf(loadProject(dir, {}));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(
      `both dataflow.yml and dataflow.config.ts in ${dir}; keep one of them (they are alternatives)`,
    );
  });
});

describe('dataflow with dataflow.config.ts (in-process, no database)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('an invalid TypeScript config exits 2 with one line naming the file and key', async () => {
    const dir = await tsConfigProject({
      'dataflow.config.ts': `import { defineConfig } from '@dataflow/cli';
export default defineConfig({
  name: 'shop',
  warehouse: { url: 'postgres://app:never-printed@127.0.0.1:1/db' },
  sources: { orders: { type: 'csv', location: 'data/o.csv', disposition: 'upsert' } },
});
`,
    });
    dirs.push(dir);
    const r = await cli(['run', '--date', '2026-05-01'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'dataflow run: dataflow.config.ts: sources.orders.disposition: expected one of append|replace|replace_partition|merge\n',
    );
    expect(r.summary).toMatchObject({ exit_code: 2, error: { code: 'CONFIG_INVALID' } });
  });

  it('both config files exit 2 before anything runs', async () => {
    const dir = await tsConfigProject({
      'dataflow.yml': 'name: shop\n',
      'dataflow.config.ts': "export const config = { name: 'shop' };\n",
    });
    dirs.push(dir);
    const r = await cli(['build'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `dataflow build: both dataflow.yml and dataflow.config.ts in ${dir}; keep one of them (they are alternatives)\n`,
    );
  });

  it('compile reads TypeScript models from dataflow.config.ts', async () => {
    const dir = await tsConfigProject({
      'dataflow.config.ts': `import { defineConfig } from '@dataflow/cli';
import { defineModel, sql } from '@dataflow/modeling';

const stg = defineModel({ name: 'stg_orders', refs: ['raw_orders'], sql: ({ ref }) => sql\`select order_id from \${ref('raw_orders')}\` });
const fct = defineModel({ name: 'fct_orders', materialized: 'table', refs: ['stg_orders'],
  columns: { order_id: { tests: ['unique'] } },
  sql: ({ ref }) => sql\`select order_id from \${ref('stg_orders')}\` });
export const config = defineConfig({
  name: 'shop',
  warehouse: { schema: 'analytics' },
  sources: { orders: { type: 'csv', location: 'data/orders.csv' } },
  models: [stg, fct],
});
`,
    });
    dirs.push(dir);
    const r = await cli(['compile'], { cwd: dir });
    expect(r.stderr).not.toContain('"level":"error"');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('model fct_orders (table) -> analytics.fct_orders');
    expect(r.stdout).toContain('model stg_orders (view) -> analytics.stg_orders');
    expect(r.stdout).toContain('compiled 2 models, 0 seeds, 1 tests');
  });
});
