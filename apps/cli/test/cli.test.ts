// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests feed literal ${ENV} references to the config parser
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig, scaffoldFiles, VERSION } from '../src/index.js';
import { cli, tempProject } from './helpers.js';

// These tests load tsx, spawn python or compile projects: on a loaded machine that takes
// longer than vitest's 5 s default, and no test may depend on an idle machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const project = async (yml: string) => {
  const dir = await tempProject({ 'dataflow.yml': yml });
  dirs.push(dir);
  return dir;
};

describe('runCli without a database', () => {
  it('--version prints the package version', async () => {
    const pkg = (await import('../package.json', { with: { type: 'json' } })).default as { version: string };
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
    expect(VERSION).toBe(pkg.version);
  });

  it('--help lists every command; subcommand --help shows its flags', async () => {
    const root = await cli(['--help']);
    expect(root.code).toBe(0);
    for (const c of ['run', 'ingest', 'load', 'seed', 'build', 'test', 'compile', 'runs', 'init']) {
      expect(root.stdout).toContain(c);
    }
    const run = await cli(['run', '--help']);
    expect(run.code).toBe(0);
    for (const f of [
      '--date',
      '--start',
      '--end',
      '--source',
      '--select',
      '--exclude',
      '--threads',
      '--fail-fast',
      '--full-refresh',
    ]) {
      expect(run.stdout).toContain(f);
    }
  });

  it('no command prints usage and exits 2', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('USAGE');
  });

  it('an unknown command exits 2 with a hint', async () => {
    const r = await cli(['rnu', '--date', '2026-05-01']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("dataflow: unknown command 'rnu' (did you mean 'run'?); see dataflow --help\n");
  });

  it('an unknown flag exits 2 with a hint', async () => {
    const r = await cli(['run', '--daet', '2026-05-01']);
    expect(r.code).toBe(2);
    // The command is named once (it was printed twice: 'dataflow: dataflow run: …').
    expect(r.stderr).toBe('dataflow run: unknown option --daet (did you mean --date?)\n');
  });

  it('a command that needs an interval and has none exits 2 with a clear message', async () => {
    const dir = await project('name: x\n');
    const r = await cli(['run'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'dataflow run: an interval is needed: pass --date YYYY-MM-DD (Airflow: --date {{ ds }}) or --start/--end\n',
    );
    // Every exit of a recorded command has its summary line, setup failures included.
    expect(r.summary).toMatchObject({
      command: 'run',
      status: 'failed',
      exit_code: 2,
      error: { code: 'NO_INTERVAL' },
    });
  });

  it('a bad --log-level or --threads exits 2', async () => {
    const dir = await project('name: x\n');
    const level = await cli(['build', '--log-level', 'loud'], { cwd: dir });
    expect(level.code).toBe(2);
    expect(level.stderr).toBe(
      'dataflow build: --log-level: expected one of trace|debug|info|warn|error|fatal|silent, got "loud"\n',
    );
    const threads = await cli(['build', '--threads', 'many'], { cwd: dir });
    expect(threads.code).toBe(2);
    expect(threads.stderr).toBe('dataflow build: --threads: expected an integer 1-64, got "many"\n');
  });

  it('a bad date or a reversed range exits 2', async () => {
    const dir = await project('name: x\n');
    expect((await cli(['ingest', '--date', '2026-02-30'], { cwd: dir })).code).toBe(2);
    const r = await cli(['ingest', '--start', '2026-05-02', '--end', '2026-05-01'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--end (2026-05-01) must be after --start (2026-05-02)');
  });

  it('a config typo exits 2 with one line naming the file and key, no stack trace', async () => {
    const dir = await project(
      'name: shop\nsources:\n  orders:\n    type: csv\n    location: data/o.csv\n    disposition: upsert\n',
    );
    const r = await cli(['run', '--date', '2026-05-01'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'dataflow run: dataflow.yml: sources.orders.disposition: expected one of append|replace|replace_partition|merge\n',
    );
    expect(r.summary).toMatchObject({
      status: 'failed',
      exit_code: 2,
      error: { class: 'CliError', code: 'CONFIG_INVALID' },
    });
    const typo = await cli(['load', '--date', '2026-05-01'], {
      cwd: await project('name: shop\nwarehose:\n  url: postgres://x@y/z\n'),
    });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe(
      "dataflow load: dataflow.yml: warehose: unknown key (did you mean 'warehouse'?)\n",
    );
  });

  it('invalid YAML exits 2 naming the file and line, with its code frame under the one line', async () => {
    const r = await cli(['build'], { cwd: await project('name: x\nsources:\n  orders: [unclosed\n') });
    expect(r.code).toBe(2);
    const [first, ...frame] = r.stderr.trimEnd().split('\n');
    expect(first).toMatch(/^dataflow build: dataflow\.yml:\d+:\d+: invalid YAML: /);
    expect(frame.join('\n')).toContain('orders: [unclosed');
    expect(frame.join('\n')).toContain('^');
    expect(r.summary).toMatchObject({ exit_code: 2, error: { code: 'CONFIG_INVALID' } });
  });

  it('a missing project exits 2 and suggests init', async () => {
    const dir = await project('name: x\n');
    await rm(`${dir}/dataflow.yml`);
    const r = await cli(['build'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no dataflow.yml or dataflow.config.ts (or dbt_project.yml) in');
    expect(r.stderr).toContain('dataflow init DIR');
  });

  it('an unreachable warehouse is a runtime failure (exit 1, retryable) in one line, password redacted', async () => {
    const dir = await project('name: x\nwarehouse:\n  url: postgres://app:${PGPASS}@127.0.0.1:1/db\n');
    const r = await cli(['build'], { cwd: dir, env: { PGPASS: 'hunter2-secret' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('dataflow build: run log: cannot connect to PostgreSQL (ECONNREFUSED)\n');
    expect(r.summary).toMatchObject({ exit_code: 1, status: 'failed', error: { code: 'MIGRATION_FAILED' } });
    expect(r.stdout).not.toContain('hunter2-secret');
  });

  it('init scaffolds a valid project and refuses a non-empty directory', async () => {
    const parent = await project('name: x\n');
    const r = await cli(['init', 'shop'], { cwd: parent });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('created shop');
    const again = await cli(['init', 'shop'], { cwd: parent });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('is not empty');
  });

  it('compile works offline and lists the scaffolded nodes', async () => {
    const parent = await project('name: x\n');
    await cli(['init', 'p'], { cwd: parent });
    // --project is relative to the invocation's cwd.
    const r = await cli(['compile', '--project', 'p'], { cwd: parent });
    // One log line: no warehouse is configured, so nothing is rendered with execute true.
    expect(
      r.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).msg),
    ).toEqual(['no warehouse connection configured: compiled offline (execute false)']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('model stg_orders (view) -> public.stg_orders');
    expect(r.stdout).toContain('model fct_daily_revenue (table) -> public.fct_daily_revenue');
    expect(r.stdout).toContain('compiled 2 models, 0 seeds, 6 tests');
  });

  it('compile reports an unknown ref with exit 2', async () => {
    const dir = await tempProject({
      'dataflow.yml': 'name: x\n',
      'models/a.sql': "select * from {{ ref('nope') }}\n",
    });
    dirs.push(dir);
    const r = await cli(['compile'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('UNKNOWN_REF');
  });
});

describe('scaffold', () => {
  it('the generated dataflow.yml validates', () => {
    const files = scaffoldFiles('shop');
    const { config } = parseConfig(parseYaml(files['dataflow.yml'] ?? ''), {});
    expect(Object.keys(config.sources)).toEqual(['orders']);
    expect(config.warehouse.url).toBeUndefined();
    expect(files['data/orders/2026-05-01.csv']?.split('\n')[0]).toBe(
      'order_id,customer_id,ordered_at,status,amount',
    );
  });
});
