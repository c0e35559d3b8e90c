import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempProject } from './helpers.js';

const cliRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const D = '2026-05-01';

/** A real `dataflow` process with piped (non-TTY) output, as Airflow or CI runs it. */
async function dataflow(args: string[], env: Record<string, string | undefined> = {}) {
  const { FORCE_COLOR: _force, NO_COLOR: _no, DATAFLOW_LOG_FORMAT: _format, ...base } = process.env;
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/bin.ts', ...args], {
    cwd: cliRoot,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

// A JS stack frame: `    at fn (file:///…:12:3)`.
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

describe('dataflow terminal output (spawned, piped)', () => {
  const db = useTestDatabase();
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    env = { DATABASE_URL: db.connectionString() };
    dir = await tempProject({
      'dataflow.yml': `name: shop
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
    columns: { order_id: integer, amount: numeric }
`,
      [`data/orders/${D}.csv`]: `order_id,amount\n${Array.from({ length: 50 }, (_, i) => `${i + 1},${i}.50`).join('\n')}\n`,
      'seeds/countries.csv': 'code,name\nDE,Germany\nFR,France\nFR,France again\n',
      'models/stg_countries.sql': `{{ config(materialized='view') }}\nselect code, name from {{ ref('countries') }}\n`,
      'models/dim_countries.sql': `{{ config(materialized='table') }}\nselect code, count(*) as n from {{ ref('stg_countries') }} group by code\n`,
      'models/stg_orders.sql': `{{ config(materialized='table') }}\nselect order_id, amount from {{ source('raw', 'orders') }}\n`,
      'models/schema.yml': `version: 2
models:
  - name: stg_countries
    columns:
      - name: code
        data_tests: [not_null, unique]
  - name: dim_countries
    columns:
      - name: code
        data_tests: [not_null]
  - name: stg_orders
    columns:
      - name: order_id
        data_tests: [unique]
`,
    });
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    await db.pool.query(`drop schema if exists "${db.schema}_meta" cascade`);
  });

  it('--log-format text: one dbt line per node, the failing test as dbt shows it (no stack), Done counts, exit 3', async () => {
    const r = await dataflow(
      ['build', '--project', dir, '--log-format', 'text', '--exclude', 'stg_orders'],
      env,
    );
    expect(r.code).toBe(3);
    const lines = r.stderr.split('\n');
    const results = lines.filter((l) => /^\d+ of \d+ /.test(l));
    // seed, 2 audits of stg_countries, stg_countries, dim_countries, its test
    expect(results).toHaveLength(6);
    expect(results.every((l) => / of 6 /.test(l))).toBe(true);
    expect(results).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`OK loaded seed file ${db.schema}\\.countries \\.+ \\[INSERT 3 in \\d+\\.\\d\\ds\\]$`),
        ),
        expect.stringMatching(/PASS not_null_stg_countries_code \.+ \[PASS in/),
        expect.stringMatching(/FAIL unique_stg_countries_code \.+ \[FAIL 1 in/),
        expect.stringMatching(
          new RegExp(`ERROR creating view model ${db.schema}\\.stg_countries \\.+ \\[ERROR in`),
        ),
        expect.stringMatching(new RegExp(`SKIP relation ${db.schema}\\.dim_countries \\.+ \\[SKIP\\]$`)),
        expect.stringMatching(/SKIP test not_null_dim_countries_code \.+ \[SKIP\]$/),
      ]),
    );
    const failure = r.stderr.slice(r.stderr.indexOf('Failure in test unique_stg_countries_code'));
    expect(failure.split('\n').slice(0, 8)).toEqual([
      'Failure in test unique_stg_countries_code (models/schema.yml)',
      '  Got 1 result, configured to fail if != 0 (severity error)',
      '',
      '  | unique_field | n_records |',
      '  | ------------ | --------- |',
      '  | FR           | 2         |',
      '',
      '  compiled code at target/compiled/shop/models/schema.yml/unique_stg_countries_code.sql',
    ]);
    const sql = await readFile(
      join(dir, 'target/compiled/shop/models/schema.yml/unique_stg_countries_code.sql'),
      'utf8',
    );
    expect(sql).toMatch(/group by "code"\s+having count\(\*\) > 1/);
    expect(r.stderr).toMatch(/^Done\. PASS=2 WARN=0 ERROR=2 SKIP=2 TOTAL=6$/m);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stderr).not.toContain('\u001b['); // piped, no FORCE_COLOR: no colour, no bars
    // stdout is not a terminal: the last line is still Airflow's JSON summary.
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '')).toMatchObject({
      command: 'build',
      exit_code: 3,
    });
  });

  it('default off a TTY: JSON lines only, one per node result, errors without stacks; --log-level debug keeps them', async () => {
    const r = await dataflow(['build', '--project', dir, '--exclude', 'stg_orders'], env);
    expect(r.code).toBe(3);
    const entries = r.stderr
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { msg: string; err?: { stack?: string }; node?: string; sample?: unknown },
      );
    expect(entries.filter((e) => /^\d+ of 6 /.test(e.msg))).toHaveLength(6);
    const failed = entries.find((e) => e.msg.startsWith('test unique_stg_countries_code:'));
    expect(failed).toMatchObject({
      failures: 1,
      severity: 'error',
      sample: [{ unique_field: 'FR', n_records: '2' }],
    });
    const nodeFailed = entries.find((e) => e.msg === 'node failed');
    expect(nodeFailed?.err).toMatchObject({ type: 'ModelingError', code: 'AUDIT_FAILED' });
    expect(nodeFailed?.err?.stack).toBeUndefined();

    const debug = await dataflow(
      ['build', '--project', dir, '--exclude', 'stg_orders', '--log-level', 'debug'],
      env,
    );
    expect(debug.code).toBe(3);
    expect(debug.stderr).toContain('"stack":"ModelingError: write-audit-publish');
  });

  it('run --log-format text: a line per ingest and load with rows and bytes, then the models; colours with FORCE_COLOR', async () => {
    const r = await dataflow(
      ['run', '--project', dir, '--date', D, '--log-format', 'text', '--select', 'stg_orders+'],
      { ...env, FORCE_COLOR: '1' },
    );
    expect(r.code).toBe(0);
    const plain = r.stderr.replace(new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g'), '');
    expect(plain).toMatch(/^1 of 2 OK ingested orders 2026-05-01 \.+ \[50 rows, \d+ B in \d+\.\d\ds\]$/m);
    expect(plain).toMatch(
      new RegExp(
        `^2 of 2 OK loaded orders 2026-05-01 into ${db.schema}\\.raw_orders \\.+ \\[50 rows, \\d+ B in \\d+\\.\\d\\ds\\]$`,
        'm',
      ),
    );
    expect(plain).toMatch(
      new RegExp(`OK created table model ${db.schema}\\.stg_orders \\.+ \\[SELECT 50 in`),
    );
    expect(plain).toMatch(/^Completed successfully$/m);
    expect(plain).toMatch(/^Done\. PASS=4 WARN=0 ERROR=0 SKIP=0 TOTAL=4$/m);
    expect(r.stderr).toContain('\u001b[32mOK'); // FORCE_COLOR: green OK
  });

  it('--log-format yaml is a usage error (exit 2)', async () => {
    const r = await dataflow(['build', '--project', dir, '--log-format', 'yaml'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--log-format: expected one of text|json, got "yaml"');
  });
});
