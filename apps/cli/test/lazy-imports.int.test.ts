import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { testServices, useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempProject } from './helpers.js';

// Issue 13: `load` and `ingest` run hundreds of times a day; they must not import the modelling,
// quality and lineage stacks, and `load` of a project of CSV sources not even zod, pino-pretty or
// ingest's ingestion half. A resolve hook (`--import` + `module.register`) records every module a
// real `dataflow` process resolves, and at exit every CommonJS module it required (pg, pino,
// pino-pretty are CommonJS, which the hook does not see), so re-adding a static import anywhere on
// the path fails here.

const cliRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const D = '2026-05-01';

/** Resolved URLs that mean "this stack was imported" (package entries, src or dist). */
const HEAVY: Record<string, RegExp> = {
  '@dataflow/modeling': /\/packages\/modeling\/(src\/index\.ts|dist\/index\.js)$/,
  '@dataflow/quality': /\/packages\/quality\//,
  '@dataflow/lineage': /\/packages\/lineage\/(src\/index\.ts|dist\/index\.js)$/,
  'js-yaml': /\/node_modules\/js-yaml\//,
  nunjucks: /\/node_modules\/nunjucks\//,
};

/** What `dataflow load` of CSV sources must not load either (its start-up is the load's overhead). */
const NOT_FOR_LOAD: Record<string, RegExp> = {
  zod: /\/node_modules\/zod\//,
  'pino-pretty': /\/node_modules\/pino-pretty\//,
  'ingest (CSV / API ingestion)':
    /\/packages\/ingest\/(src\/index\.ts|dist\/index\.js|(src|dist)\/ingest-(csv|api)\.(ts|js))$/,
  'undici (HTTP client)': /\/node_modules\/undici\//,
  '@aws-sdk': /\/node_modules\/@aws-sdk\//,
};

/** tsx (`--import tsx` runs the sources) and what it loads: not the CLI's. */
const TSX = /\/node_modules\/(tsx|esbuild|@esbuild|get-tsconfig|resolve-pkg-maps)\//;

/** The stacks of `table` among resolved `url\tparent` lines, each named with its first importer. */
function heavyIn(lines: readonly string[], table: Record<string, RegExp> = HEAVY): string[] {
  return Object.entries(table).flatMap(([name, re]) => {
    const hit = lines.find((l) => re.test(l.split('\t')[0] ?? ''));
    return hit === undefined
      ? []
      : [`${name} <- ${hit.split('\t')[1]?.replace(/^.*\/(packages|apps)\//, '')}`];
  });
}

describe('lazy imports: what a dataflow process loads', () => {
  const db = useTestDatabase();
  let dir: string;
  let register: string;
  let env: Record<string, string>;

  /** Runs the CLI as Airflow does (its own process) and returns its exit code and resolved URLs. */
  async function spawnRecorded(
    args: string[],
  ): Promise<{ code: number | null; stderr: string; urls: string[] }> {
    const log = join(dir, `resolved-${args[0]}-${Date.now()}.txt`);
    await writeFile(log, '');
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--import', register, 'src/bin.ts', ...args],
      { cwd: cliRoot, env: { ...process.env, ...env, RESOLVE_LOG: log }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout?.resume();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const urls = (await readFile(log, 'utf8')).split('\n').filter((u) => u.length > 0);
    return { code, stderr, urls };
  }

  beforeAll(async () => {
    const project = (lineage: string) => `name: lazy
warehouse:
  url: \${DATABASE_URL}
  schema: ${db.schema}
metadata:
  schema: ${db.schema}_meta
lake:
  url: file://.dataflow/lake
sources:
  orders:
    type: csv
    location: data/orders/{{ ds }}.csv
    disposition: replace_partition
    columns: { order_id: integer, amount: numeric }
${lineage}`;
    dir = await tempProject({
      'dataflow.yml': project(''),
      'with-lineage/dataflow.yml': project('lineage:\n  transport: file\n  file: lineage.ndjson\n'),
      [`data/orders/${D}.csv`]: 'order_id,amount\n1,19.90\n2,5.00\n',
      [`with-lineage/data/orders/${D}.csv`]: 'order_id,amount\n3,1.00\n',
      'hooks.mjs': `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.RESOLVE_LOG, resolved.url + '\\t' + context.parentURL + '\\n');
  return resolved;
}
`,
    });
    register = join(dir, 'register.mjs');
    await writeFile(
      register,
      `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});
// CommonJS modules never reach the resolve hook: list require's cache when the process ends.
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  const lines = Object.keys(cache).map((file) => pathToFileURL(file).href + '\\t(require)\\n');
  appendFileSync(process.env.RESOLVE_LOG, lines.join(''));
});
`,
    );
    env = { DATABASE_URL: testServices().databaseUrl, DATAFLOW_LOG_LEVEL: 'warn' };
  }, 60_000);

  afterAll(async () => {
    await db.pool.query(`drop schema if exists ${db.schema}_meta cascade`);
  });

  it('ingest and load of a project without lineage import neither modeling, quality nor lineage', async () => {
    const ingest = await spawnRecorded(['ingest', '--date', D, '--project', dir]);
    expect(ingest.stderr).toBe('');
    expect(ingest.code).toBe(0);
    expect(heavyIn(ingest.urls)).toEqual([]);

    const load = await spawnRecorded(['load', '--date', D, '--project', dir]);
    expect(load.stderr).toBe('');
    expect(load.code).toBe(0);
    expect(heavyIn(load.urls)).toEqual([]);
    expect(heavyIn(load.urls, NOT_FOR_LOAD)).toEqual([]);
    // The CommonJS side was recorded: pg and pino are required by the load.
    expect(load.urls.some((u) => /\/node_modules\/pg\/lib\/index\.js\t\(require\)$/.test(u))).toBe(true);
    expect(load.urls.some((u) => /\/node_modules\/pino\/pino\.js\t\(require\)$/.test(u))).toBe(true);
    expect(heavyIn(ingest.urls, { 'pino-pretty': NOT_FOR_LOAD['pino-pretty'] as RegExp })).toEqual([]);
    // The hook did see the load: the warehouse library and the project's YAML parser.
    expect(load.urls.some((u) => /\/packages\/warehouse\//.test(u))).toBe(true);
    expect(load.urls.some((u) => /\/node_modules\/yaml\//.test(u))).toBe(true);
    const { rows } = await db.pool.query(`select order_id from ${db.schema}.raw_orders order by order_id`);
    expect(rows).toEqual([{ order_id: 1 }, { order_id: 2 }]);
  }, 180_000);

  it('a project with lineage configured does import @dataflow/lineage for load (and still not modeling)', async () => {
    const project = join(dir, 'with-lineage');
    expect((await spawnRecorded(['ingest', '--date', D, '--project', project])).code).toBe(0);
    const load = await spawnRecorded(['load', '--date', D, '--project', project]);
    expect(load.code).toBe(0);
    expect(heavyIn(load.urls)).toEqual(['@dataflow/lineage <- cli/src/lineage.ts']);
    const events = (await readFile(join(project, 'lineage.ndjson'), 'utf8')).trim().split('\n');
    expect(events.length).toBeGreaterThan(0);
  }, 180_000);

  it('dataflow --version loads no library at all', async () => {
    const version = await spawnRecorded(['--version']);
    expect(version.code).toBe(0);
    expect(version.urls.filter((u) => /\/node_modules\/|\/packages\//.test(u) && !TSX.test(u))).toEqual([]);
  }, 60_000);
});
