import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';

// These tests load tsx, spawn python or compile projects: on a loaded machine that takes
// longer than vitest's 5 s default, and no test may depend on an idle machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

// Airflow is not installed (and cannot be) on the test machines: the DAG files are compiled with
// python3, the pure task plan is read as JSON, and the DAG file is executed against a stand-in
// that records what it asks Airflow to build, through both the 2.x and the 3.x import paths.
const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const dagsDir = join(root, 'airflow/dags');
const SOURCES = ['customers', 'orders', 'payments', 'rates'];
const MODELS = [
  'stg_customers',
  'stg_orders',
  'stg_payments',
  'stg_rates',
  'dim_customers',
  'fct_orders',
  'fct_daily_revenue',
];

interface Step {
  task_id: string;
  mapped: boolean;
  commands: string[];
  upstream: string[];
  outlets: string[];
}
interface PlanOutput {
  sources: string[];
  env: Record<string, string>;
  plan: Step[];
}
interface InspectedTask {
  task_id: string;
  kind: string;
  kwargs: Record<string, unknown>;
  mapped: { bash_command: string[] | { xcom_from: string } } | null;
  upstream: string[];
}
interface InspectedDag {
  dag_id: string;
  kwargs: Record<string, unknown>;
  tasks: InspectedTask[];
  xcom?: Record<string, string[]>;
}

async function python(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('python3', args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PYTHONDONTWRITEBYTECODE: '1', ...env },
  });
  return stdout;
}

async function plan(args: string[] = [], env: Record<string, string> = {}): Promise<PlanOutput> {
  return JSON.parse(await python([join(dagsDir, 'dataflow_tasks.py'), ...args], env)) as PlanOutput;
}

async function inspect(major: 2 | 3, env: Record<string, string> = {}): Promise<InspectedDag[]> {
  const out = await python(
    [join(root, 'test/examples/inspect_dag.py'), join(dagsDir, 'dataflow_shop.py'), String(major)],
    env,
  );
  return JSON.parse(out) as InspectedDag[];
}

describe('airflow DAG files', () => {
  // cfile keeps __pycache__ out of the repo; a syntax error makes python3 exit non-zero.
  const pyCompile = (files: string[]) =>
    python([
      '-c',
      [
        'import py_compile, sys, tempfile, os',
        'd = tempfile.mkdtemp()',
        'for f in sys.argv[1:]: py_compile.compile(f, cfile=os.path.join(d, os.path.basename(f) + "c"), doraise=True)',
        'print(len(sys.argv) - 1)',
      ].join('\n'),
      ...files,
    ]);

  it('every DAG file compiles with python3 -m py_compile', async () => {
    const files = (await readdir(dagsDir)).filter((f) => f.endsWith('.py')).sort();
    expect(files).toEqual(['dataflow_shop.py', 'dataflow_shop_models.py', 'dataflow_tasks.py']);
    expect((await pyCompile(files.map((f) => join(dagsDir, f)))).trim()).toBe('3');
  });

  it('the same check rejects a file with a syntax error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dag-syntax-'));
    try {
      await writeFile(join(dir, 'broken_dag.py'), 'with DAG(dag_id="x") as dag\n    pass\n');
      await expect(pyCompile([join(dir, 'broken_dag.py')])).rejects.toThrow(/SyntaxError|PyCompileError/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('dataflow_tasks.py: the daily plan', () => {
  it('is ingest (mapped per source) >> load (mapped per source) >> build, all templated on {{ ds }}', async () => {
    const out = await plan();
    expect(out.sources).toEqual(SOURCES);
    expect(out.plan.map((s) => [s.task_id, s.mapped, s.upstream])).toEqual([
      ['ingest', true, []],
      ['load', true, ['ingest']],
      ['build', false, ['load']],
    ]);
    expect(out.plan[0]?.commands).toEqual(
      SOURCES.map(
        (s) => `$DATAFLOW_CLI ingest --project "$DATAFLOW_PROJECT_DIR" --source ${s} --date {{ ds }}`,
      ),
    );
    expect(out.plan[1]?.commands).toEqual(
      SOURCES.map(
        (s) => `$DATAFLOW_CLI load --project "$DATAFLOW_PROJECT_DIR" --source ${s} --date {{ ds }}`,
      ),
    );
    expect(out.plan[2]?.commands).toEqual([
      '$DATAFLOW_CLI build --project "$DATAFLOW_PROJECT_DIR" --date {{ ds }}',
    ]);
  });

  it('reads the CLI and project from Airflow Variables with env defaults, and the sources from env', async () => {
    const out = await plan([], {
      DATAFLOW_CLI: 'node /opt/x/bin.js',
      DATAFLOW_PROJECT_DIR: '/srv/shop',
      DATAFLOW_SOURCES: 'orders, rates',
    });
    expect(out.env).toEqual({
      DATAFLOW_CLI: `{{ var.value.get('dataflow_cli', "node /opt/x/bin.js") }}`,
      DATAFLOW_PROJECT_DIR: `{{ var.value.get('dataflow_project_dir', "/srv/shop") }}`,
    });
    expect(out.sources).toEqual(['orders', 'rates']);
    expect(out.plan[0]?.commands).toHaveLength(2);
  });

  it('lists the raw tables load writes and the models build writes, as postgres:// table URIs', async () => {
    const out = await plan([], { DATAFLOW_DATABASE_URL: 'postgres://etl:s3cret@warehouse.internal:6543/dw' });
    const base = 'postgres://warehouse.internal:6543/dw/analytics';
    expect(out.plan.map((s) => [s.task_id, s.outlets])).toEqual([
      ['ingest', []],
      ['load', SOURCES.map((s) => `${base}/raw_${s}`)],
      ['build', MODELS.map((m) => `${base}/${m}`)],
    ]);
    expect(JSON.stringify(out)).not.toContain('s3cret');
    // No DATAFLOW_DATABASE_URL: the CLI's embedded PostgreSQL on the worker; port defaults to 5432.
    expect((await plan([], { DATAFLOW_SCHEMA: 'shop', DATAFLOW_MODELS: 'a,b' })).plan[2]?.outlets).toEqual([
      'postgres://localhost:5432/postgres/shop/a',
      'postgres://localhost:5432/postgres/shop/b',
    ]);
    expect((await plan([], { DATAFLOW_DATABASE_URL: 'postgresql://h/db' })).plan[1]?.outlets[0]).toBe(
      'postgres://h:5432/db/analytics/raw_customers',
    );
    await expect(plan([], { DATAFLOW_DATABASE_URL: 'mysql://h/db' })).rejects.toThrow(
      /must be a postgres:\/\/ URL/,
    );
  });

  it('rejects a source name that could inject shell', async () => {
    await expect(plan([], { DATAFLOW_SOURCES: 'orders;rm -rf /' })).rejects.toThrow(
      /letters, digits and _ only/,
    );
  });

  it('backfill plan maps ingest/load over (source, day), snapshots only on the last day, one build', async () => {
    const out = await plan(['--backfill', '2026-05-01', '2026-05-03']);
    const [ingest, load, build] = out.plan;
    expect(ingest?.commands).toHaveLength(1 + 3 * 2);
    expect(ingest?.commands).toContain(
      '$DATAFLOW_CLI ingest --project "$DATAFLOW_PROJECT_DIR" --source customers --date 2026-05-02',
    );
    expect(ingest?.commands.filter((c) => c.includes('--source customers'))).toHaveLength(1);
    expect(load?.commands.filter((c) => c.includes('--date 2026-05-01'))).toHaveLength(3);
    expect(build?.commands).toEqual([
      '$DATAFLOW_CLI build --project "$DATAFLOW_PROJECT_DIR" --start 2026-05-01 --end 2026-05-03',
    ]);
    await expect(plan(['--backfill', '2026-05-03', '2026-05-01'])).rejects.toThrow(/end must be after start/);
  });
});

describe.each([2, 3] as const)('dataflow_shop.py under Airflow %i import paths', (major) => {
  it('builds the daily DAG: catchup, retries with delay, skip on 99, mapped ingest/load', async () => {
    const dags = await inspect(major);
    expect(dags.map((d) => d.dag_id)).toEqual(['dataflow_shop', 'dataflow_shop_backfill']);
    const daily = dags[0] as InspectedDag;
    expect(daily.kwargs).toMatchObject({
      schedule: '@daily',
      catchup: true,
      start_date: '2026-05-01T00:00:00+00:00',
      end_date: null,
      max_active_runs: 1,
      default_args: {
        retries: 3,
        retry_delay: { timedelta_seconds: 300 },
        retry_exponential_backoff: true,
        execution_timeout: { timedelta_seconds: 7200 },
      },
    });
    const expected = (await plan()).plan;
    expect(daily.tasks.map((t) => [t.task_id, t.upstream])).toEqual(
      expected.map((s) => [s.task_id, s.upstream]),
    );
    for (const t of daily.tasks) {
      expect(t.kind).toBe('BashOperator');
      expect(t.kwargs).toMatchObject({ skip_on_exit_code: 99, append_env: true, env: (await plan()).env });
      const step = expected.find((s) => s.task_id === t.task_id) as Step;
      if (step.mapped) expect(t.mapped).toEqual({ bash_command: step.commands });
      else expect(t.kwargs.bash_command).toBe(step.commands[0]);
    }
  });

  it(`declares load's raw tables and build's models as ${major === 3 ? 'Assets' : 'Datasets'}, in both DAGs`, async () => {
    const env = { DATAFLOW_DATABASE_URL: 'postgres://etl:pw@db:5432/dw' };
    const kind = major === 3 ? 'Asset' : 'Dataset';
    const expected = (await plan([], env)).plan;
    const outletsOf = (step: string) =>
      (expected.find((s) => s.task_id === step) as Step).outlets.map((uri) => ({ [kind]: uri }));
    for (const dag of await inspect(major, env)) {
      const byId = Object.fromEntries(dag.tasks.map((t) => [t.task_id, t]));
      expect(byId.load?.kwargs.outlets, dag.dag_id).toEqual(outletsOf('load'));
      expect(byId.build?.kwargs.outlets, dag.dag_id).toEqual(outletsOf('build'));
      expect(outletsOf('load')).toHaveLength(SOURCES.length);
      expect(outletsOf('build')).toHaveLength(MODELS.length);
    }
  });

  it('takes the catchup window from DATAFLOW_START_DATE / DATAFLOW_END_DATE (as docker-compose sets)', async () => {
    const dags = await inspect(major, { DATAFLOW_START_DATE: '2026-05-01', DATAFLOW_END_DATE: '2026-05-03' });
    expect(dags[0]?.kwargs).toMatchObject({
      start_date: '2026-05-01T00:00:00+00:00',
      end_date: '2026-05-03T00:00:00+00:00',
    });
  });

  it('builds the backfill DAG: commands mapped from the run params, then one ranged build', async () => {
    const backfill = (await inspect(major))[1] as InspectedDag;
    expect(backfill.kwargs).toMatchObject({ schedule: null, catchup: false });
    const byId = Object.fromEntries(backfill.tasks.map((t) => [t.task_id, t]));
    expect(byId.ingest?.mapped).toEqual({ bash_command: { xcom_from: 'ingest_commands' } });
    expect(byId.load?.upstream).toEqual(['ingest', 'load_commands']);
    expect(byId.build?.upstream).toEqual(['load']);
    expect(byId.build?.kwargs.bash_command).toBe(
      '$DATAFLOW_CLI build --project "$DATAFLOW_PROJECT_DIR" --start {{ params.start }} --end {{ params.end }}',
    );
    const expected = (await plan(['--backfill', '2026-05-01', '2026-05-04'])).plan;
    expect(backfill.xcom).toEqual({
      ingest_commands: expected[0]?.commands,
      load_commands: expected[1]?.commands,
    });
  });
});
