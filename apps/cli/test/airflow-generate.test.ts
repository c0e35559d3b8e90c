import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CompiledGraph, type GraphNode, selectNodes } from '@dataflow/modeling';
import { createLogger } from '@dataflow/runlog';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sanitizeTaskId } from '../src/airflow/plan.js';
import { compile } from '../src/compile-project.js';
import { loadProject } from '../src/config/load.js';
import {
  commandOf,
  type Inspected,
  inspectDag as inspectDag_,
  python,
  runsPerNode,
} from './airflow-generate-stub.js';
import { cli, tempProject } from './helpers.js';

// These tests load tsx, spawn python or compile projects: on a loaded machine that takes
// longer than vitest's 5 s default, and no test may depend on an idle machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

// `dataflow airflow` is run in-process; the generated file is compiled with python3 and executed
// against a stand-in for Airflow (both the 2.x and the 3.x import paths, airflow-generate-stub.ts),
// which records the tasks, their commands and their `>>` edges.
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const SHOP_DAG = 'airflow/dags/dataflow_shop_models.py';
/** The command in the committed file's header: the lead regenerates the file with exactly this. */
const SHOP_ARGS = [
  'airflow',
  '--project',
  'examples/shop',
  '--out',
  SHOP_DAG,
  '--start-date',
  '2026-05-01',
  '--worker-project',
  '/opt/dataflow/examples/shop',
];

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dataflow-airflow-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const inspectDag = (text: string, major: 2 | 3, env: Record<string, string> = {}) =>
  inspectDag_(work, text, major, env);

async function pyCompile(text: string): Promise<void> {
  const file = join(work, `compile_${Math.random().toString(36).slice(2)}.py`);
  await writeFile(file, text);
  await python([
    '-c',
    'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[1] + "c", doraise=True)',
    file,
  ]);
}

/** The graph `dataflow compile` compiles (same code path, but no target/ artifacts written). */
async function compiledGraph(project: string, cwd = root): Promise<CompiledGraph> {
  const logger = createLogger({ runId: 'test', destination: { write: () => undefined } });
  return compile(await loadProject(project, {}, cwd), logger, {}, undefined);
}

// A small project covering every kind of edge: a source read with source(), another read with
// ref('raw_b') (no graph edge: found in the SQL), an ephemeral model in between, a seed, a test
// attached to a source, a relationships test between unrelated models (detached) and one whose
// other parent is upstream (run by the model's build).
const SMALL = {
  'dataflow.yml': `name: small
warehouse: { schema: wh }
sources:
  a: { type: csv, location: 'data/a/{{ ds }}.csv' }
  b: { type: csv, location: 'data/b/{{ ds }}.csv' }
`,
  'models/stg_a.sql': `{{ config(materialized='view') }}\nselect id from {{ source('raw', 'a') }}\n`,
  'models/stg_b.sql': `{{ config(materialized='view') }}\nselect id, a_id from {{ ref('raw_b') }}\n`,
  'models/eph_a.sql': `{{ config(materialized='ephemeral') }}\nselect id from {{ ref('stg_a') }}\n`,
  'models/mart.sql': `{{ config(materialized='table') }}
select e.id, b.id as b_id, c.code from {{ ref('eph_a') }} e
join {{ ref('stg_b') }} b on b.a_id = e.id cross join {{ ref('codes') }} c
`,
  'seeds/codes.csv': 'code\nx\ny\n',
  'models/schema.yml': `version: 2
sources:
  - name: raw
    schema: wh
    tables:
      - name: a
        identifier: raw_a
        columns:
          - name: id
            data_tests: [not_null]
models:
  - name: stg_a
    columns:
      - name: id
        data_tests: [unique]
  - name: stg_b
    columns:
      - name: a_id
        data_tests:
          - relationships: { to: ref('stg_a'), field: id }
  - name: mart
    columns:
      - name: id
        data_tests:
          - not_null
          - relationships: { to: ref('stg_a'), field: id }
seeds:
  - name: codes
    columns:
      - name: code
        data_tests: [unique]
`,
};

describe('dataflow airflow on a small project', () => {
  let dir: string;
  let text: string;
  let graph: CompiledGraph;
  beforeAll(async () => {
    dir = await tempProject(SMALL);
    const r = await cli([
      'airflow',
      '--project',
      dir,
      '--worker-project',
      '/srv/small',
      '--start-date',
      '2026-05-01',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    text = r.stdout;
    graph = await compiledGraph(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('declares one task per source step, model, seed step and detached test, grouped', () => {
    const calls = text.replace(/, outlets=\((?:table\("\w+", "\w+"\),)+\)\)$/gm, ')');
    const ids = [...calls.matchAll(/^ +(\w+) = dataflow\(("[^"]+"), ("[^"]+")(.*)\)$/gm)].map((m) =>
      [m[1], JSON.parse(m[2] as string), JSON.parse(m[3] as string), `[${(m[4] as string).slice(2)}]`].join(
        ' ',
      ),
    );
    expect(ids).toEqual([
      'ingest_a a ingest ["--source", "a"]',
      'ingest_b b ingest ["--source", "b"]',
      'load_a a load ["--source", "a"]',
      'load_b b load ["--source", "b"]',
      'source_test_a a test ["--select", "source:raw.a"]',
      'seeds seed build ["--select", "resource_type:seed"]',
      'model_mart mart build ["--select", "mart"]',
      // stg_a's eager selection picks up both relationships tests to it: both run elsewhere.
      'model_stg_a stg_a build ["--select", "stg_a", "--exclude", "relationships_mart_id__id__ref_stg_a_", "--exclude", "relationships_stg_b_a_id__id__ref_stg_a_"]',
      'model_stg_b stg_b build ["--select", "stg_b", "--exclude", "relationships_stg_b_a_id__id__ref_stg_a_"]',
      'test_relationships_stg_b_a_id__id__ref_stg_a_ relationships_stg_b_a_id__id__ref_stg_a_ test ["--select", "relationships_stg_b_a_id__id__ref_stg_a_"]',
    ]);
    expect(text).not.toMatch(/eph_a/); // ephemeral: no task, its input passes through
  });

  it('declares the tables each load, model and seed task publishes as outlets', () => {
    const outlets = [...text.matchAll(/^ +(\w+) = dataflow\(.*, outlets=\((.*)\)\)$/gm)].map(
      (m) => `${m[1]}: ${m[2]}`,
    );
    expect(outlets).toEqual([
      'load_a: table("wh", "raw_a"),',
      'load_b: table("wh", "raw_b"),',
      'seeds: table("wh", "codes"),',
      'model_mart: table("wh", "mart"),',
      'model_stg_a: table("wh", "stg_a"),',
      'model_stg_b: table("wh", "stg_b"),',
    ]);
  });

  it('writes the dependency lines of the graph: sources -> raw tables -> models, through the ephemeral model', () => {
    const deps = text
      .split('\n')
      .filter((l) => /^ {4}\w+ >> \w+$/.test(l))
      .map((l) => l.trim());
    expect(deps).toEqual([
      'ingest_a >> load_a',
      'ingest_b >> load_b',
      'load_a >> source_test_a',
      'model_stg_a >> model_mart', // mart -> eph_a -> stg_a
      'model_stg_b >> model_mart',
      'seeds >> model_mart',
      'source_test_a >> model_stg_a', // a has a source test: models wait for it
      'load_b >> model_stg_b', // ref('raw_b'): no graph edge, found in the compiled SQL
      'model_stg_a >> test_relationships_stg_b_a_id__id__ref_stg_a_',
      'model_stg_b >> test_relationships_stg_b_a_id__id__ref_stg_a_',
    ]);
  });

  it('has a header naming the generating command, and the same input gives the same bytes', async () => {
    expect(text.split('\n')[0]).toBe(
      `# Generated by \`dataflow airflow --project ${dir} --start-date 2026-05-01 --worker-project /srv/small\`.`,
    );
    // Flags in another order: the same canonical header, the same bytes.
    const again = await cli([
      'airflow',
      '--worker-project',
      '/srv/small',
      '--start-date',
      '2026-05-01',
      '--project',
      dir,
    ]);
    expect(again.stdout).toBe(text);
  });

  it('compiles with python3 (py_compile)', async () => {
    await pyCompile(text);
  });

  it.each([2, 3] as const)(
    'runs under Airflow %i import paths: edges, commands, operator settings',
    async (major) => {
      const dag = await inspectDag(text, major);
      expect(dag.dags).toEqual([
        {
          dag_id: 'dataflow_small_models',
          kwargs: expect.objectContaining({
            schedule: '@daily',
            catchup: true,
            start_date: '2026-05-01T00:00:00+00:00',
            end_date: null,
            max_active_runs: 1,
            default_args: expect.objectContaining({
              retries: 3,
              retry_delay: { seconds: 300 },
              retry_exponential_backoff: true,
            }),
          }),
        },
      ]);
      const byId = Object.fromEntries(dag.tasks.map((t) => [t.task_id, t]));
      expect(Object.keys(byId).sort()).toEqual([
        'ingest.a',
        'ingest.b',
        'load.a',
        'load.b',
        'models.mart',
        'models.stg_a',
        'models.stg_b',
        'seed',
        'source_tests.a',
        'tests.relationships_stg_b_a_id__id__ref_stg_a_',
      ]);
      for (const t of dag.tasks) {
        expect(t.kwargs).toMatchObject({
          skip_on_exit_code: 99,
          append_env: true,
          env: {
            DATAFLOW_CLI: `{{ var.value.get('dataflow_cli', "dataflow") }}`,
            DATAFLOW_PROJECT_DIR: `{{ var.value.get('dataflow_project_dir', "/srv/small") }}`,
          },
        });
        expect(t.kwargs.bash_command).toMatch(
          /^\$DATAFLOW_CLI \w+ --project "\$DATAFLOW_PROJECT_DIR" .* --date \{\{ ds \}\}$/,
        );
      }
      expect(byId['models.stg_b']?.kwargs.bash_command).toBe(
        '$DATAFLOW_CLI build --project "$DATAFLOW_PROJECT_DIR" --select stg_b --exclude relationships_stg_b_a_id__id__ref_stg_a_ --date {{ ds }}',
      );
      expect(byId['models.mart']?.upstream).toEqual(['models.stg_a', 'models.stg_b', 'seed']);
      expect(byId['load.a']?.upstream).toEqual(['ingest.a']);
      expect(byId['source_tests.a']?.upstream).toEqual(['load.a']);
      // Outlets: Assets on Airflow 3, Datasets on 2; the embedded PostgreSQL's URI when no URL is set.
      const asset = (table: string) => ({
        [major === 3 ? 'Asset' : 'Dataset']: `postgres://localhost:5432/postgres/wh/${table}`,
      });
      expect(byId['load.a']?.kwargs.outlets).toEqual([asset('raw_a')]);
      expect(byId['models.stg_a']?.kwargs.outlets).toEqual([asset('stg_a')]);
      expect(byId.seed?.kwargs.outlets).toEqual([asset('codes')]);
      expect(byId['ingest.a']?.kwargs.outlets).toEqual([]);
      expect(byId['tests.relationships_stg_b_a_id__id__ref_stg_a_']?.kwargs.outlets).toEqual([]);
      const withUrl = await inspectDag(text, major, {
        DATAFLOW_DATABASE_URL: 'postgresql://etl:s3cret@db.internal/dw',
      });
      const mart = withUrl.tasks.find((t) => t.task_id === 'models.mart');
      expect(mart?.kwargs.outlets).toEqual([
        { [major === 3 ? 'Asset' : 'Dataset']: 'postgres://db.internal:5432/dw/wh/mart' },
      ]);
      expect(JSON.stringify(withUrl)).not.toContain('s3cret');
    },
  );

  it('runs every node of the project exactly once (checked with the CLI selection on the rendered commands)', async () => {
    const dag = await inspectDag(text, 3);
    const runs = runsPerNode(graph, dag);
    // Ephemeral models are never built on their own: they are inlined into their children.
    const runnable = Object.values(graph.nodes)
      .filter((n) => n.resourceType !== 'source' && n.name !== 'eph_a')
      .map((n) => n.uniqueId)
      .sort();
    expect(runnable).toHaveLength(4 + 6);
    expect([...runs.keys()].sort()).toEqual(runnable);
    expect(new Set(runs.values())).toEqual(new Set([1]));
    // The relationships test mart -> stg_a runs in mart's build (stg_a is upstream of it); the seed's
    // test with the seed; the source's test right after its load.
    const testsOf = (taskId: string) => {
      const t = dag.tasks.find((x) => x.task_id === taskId);
      const { select, exclude } = commandOf(t?.kwargs.bash_command as string);
      return selectNodes(graph, { select, ...(exclude.length ? { exclude } : {}) })
        .filter((id) => graph.nodes[id]?.resourceType === 'test')
        .map((id) => graph.nodes[id]?.name);
    };
    expect(testsOf('models.mart')).toEqual(['not_null_mart_id', 'relationships_mart_id__id__ref_stg_a_']);
    expect(testsOf('seed')).toEqual(['unique_codes_code']);
    expect(testsOf('source_tests.a')).toEqual(['source_not_null_raw_a_id']);
  });

  it('--select narrows the DAG to the selected models and the sources they read', async () => {
    const r = await cli(['airflow', '--project', dir, '--select', 'stg_b+', '--exclude', 'mart']);
    expect(r.code).toBe(0);
    const dag = await inspectDag(r.stdout, 3);
    expect(dag.tasks.map((t) => [t.task_id, t.upstream])).toEqual([
      ['ingest.b', []],
      ['load.b', ['ingest.b']],
      ['models.stg_b', ['load.b']],
    ]);
    // The relationships test's other model is not in the DAG: it runs in stg_b's build, as
    // `dataflow build --select stg_b+ --exclude mart` would run it.
    expect(dag.tasks[2]?.kwargs.bash_command).toContain('--select stg_b --date');
  });

  it('--target-schema reaches every build and test task', async () => {
    const r = await cli(['airflow', '--project', dir, '--target-schema', 'dev_ci']);
    expect(r.code).toBe(0);
    const dag = await inspectDag(r.stdout, 3);
    const withSchema = dag.tasks
      .filter((t) => / --target-schema dev_ci --date /.test(t.kwargs.bash_command as string))
      .map((t) => t.task_id);
    expect(withSchema).toEqual(dag.tasks.map((t) => t.task_id).filter((id) => !/^(ingest|load)\./.test(id)));
    expect(withSchema).toHaveLength(6);
    const bad = await cli(['airflow', '--project', dir, '--target-schema', 'dev ci']);
    expect([bad.code, bad.stderr]).toEqual([
      2,
      'dataflow airflow: --target-schema: expected a plain identifier ([A-Za-z_][A-Za-z0-9_]*)\n',
    ]);
  });

  it('--dag-id, --schedule none and env overrides reach the DAG', async () => {
    const r = await cli(['airflow', '--project', dir, '--dag-id', 'nightly.small', '--schedule', 'none']);
    expect(r.code).toBe(0);
    const dag = await inspectDag(r.stdout, 2, {
      DATAFLOW_START_DATE: '2026-03-01',
      DATAFLOW_END_DATE: '2026-03-04',
      DATAFLOW_PROJECT_DIR: '/mnt/p',
      DATAFLOW_RETRIES: '1',
    });
    expect(dag.dags[0]).toMatchObject({
      dag_id: 'nightly.small',
      kwargs: {
        schedule: null,
        start_date: '2026-03-01T00:00:00+00:00',
        end_date: '2026-03-04T00:00:00+00:00',
        default_args: { retries: 1 },
      },
    });
    expect(dag.tasks[0]?.kwargs.env).toMatchObject({
      DATAFLOW_PROJECT_DIR: `{{ var.value.get('dataflow_project_dir', "/mnt/p") }}`,
    });
    // Without --worker-project the workers' default is the absolute project path.
    expect(r.stdout).toContain(`os.environ.get("DATAFLOW_PROJECT_DIR", ${JSON.stringify(dir)})`);
  });

  it('--out writes the file; --check passes on it and exits 1 once it is stale or missing', async () => {
    const out = join(work, 'dags', 'small.py');
    const w = await cli(['airflow', '--project', dir, '--out', out]);
    expect(w.code).toBe(0);
    expect(w.stdout).toBe(`wrote ${out}: 10 tasks (3 models), 6 tests\n`);
    const ok = await cli(['airflow', '--project', dir, '--out', out, '--check']);
    expect([ok.code, ok.stdout]).toEqual([0, `${out} is up to date\n`]);
    await writeFile(out, `${await readFile(out, 'utf8')}# edited\n`);
    const stale = await cli(['airflow', '--project', dir, '--out', out, '--check']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toBe(
      `dataflow airflow: ${out} is stale; regenerate: dataflow airflow --project ${dir} --out ${out}\n`,
    );
    await rm(out);
    const missing = await cli(['airflow', '--project', dir, '--out', out, '--check']);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining(`${out} is missing`)]);
  });
});

describe('dataflow airflow: usage and project errors exit 2', () => {
  it.each([
    [['--check'], /--check needs --out FILE/],
    [['--dag-id', 'bad id'], /--dag-id: letters, digits/],
    [['--start-date', '2026-02-30'], /--start-date: expected a date YYYY-MM-DD/],
    [['--schedule', ' '], /--schedule: empty/],
    [['--dag'], /unknown option --dag$/m],
    [['--select', 'nosuch:x'], /unknown selector method nosuch/],
  ])('%j', async (args, message) => {
    const dir = await tempProject({ 'dataflow.yml': 'name: x\n', 'models/m.sql': 'select 1 as x\n' });
    try {
      const r = await cli(['airflow', '--project', dir, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a compile error (unknown ref) exits 2 and writes nothing', async () => {
    const dir = await tempProject({
      'dataflow.yml': 'name: x\n',
      'models/m.sql': "select * from {{ ref('nope') }}\n",
    });
    try {
      const r = await cli(['airflow', '--project', dir, '--out', join(dir, 'dag.py')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/compile failed with 1 error\(s\); first: .*UNKNOWN_REF/);
      await expect(readFile(join(dir, 'dag.py'))).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a missing project exits 2', async () => {
    const r = await cli(['airflow', '--project', join(tmpdir(), 'no-such-dataflow-project')]);
    expect(r.code).toBe(2);
  });

  it('selects a model by fqn when its name also matches a folder (dbt name selection)', async () => {
    const dir = await tempProject({
      'dataflow.yml': 'name: x\n',
      'models/orders/orders.sql': 'select 1 as id\n',
      'models/orders/order_items.sql': "select id from {{ ref('orders') }}\n",
    });
    try {
      const r = await cli(['airflow', '--project', dir]);
      expect(r.code).toBe(0);
      const dag = await inspectDag(r.stdout, 3);
      expect(
        dag.tasks.map((t) => [t.task_id, commandOf(t.kwargs.bash_command as string).select, t.upstream]),
      ).toEqual([
        ['models.order_items', ['order_items'], ['models.orders']],
        ['models.orders', ['fqn:x.orders.orders'], []],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--help lists the flags', async () => {
    const r = await cli(['airflow', '--help']);
    expect(r.code).toBe(0);
    for (const f of [
      '--project',
      '--out',
      '--check',
      '--dag-id',
      '--schedule',
      '--start-date',
      '--worker-project',
      '--select',
      '--exclude',
    ])
      expect(r.stdout).toContain(f);
  });

  it('task ids keep to Airflow characters', () => {
    expect(sanitizeTaskId('my model.v2')).toBe('my_model_v2');
    expect(sanitizeTaskId('ok-name_1')).toBe('ok-name_1');
    expect(sanitizeTaskId('')).toBe('_');
  });
});

describe('the committed shop DAG (airflow/dags/dataflow_shop_models.py)', () => {
  let graph: CompiledGraph;
  let dag: Inspected;
  beforeAll(async () => {
    graph = await compiledGraph('examples/shop');
    dag = await inspectDag(await readFile(join(root, SHOP_DAG), 'utf8'), 3);
  });

  it('is up to date with examples/shop (regenerate with the command in its header)', async () => {
    const r = await cli([...SHOP_ARGS, '--check'], { cwd: root });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const header = (await readFile(join(root, SHOP_DAG), 'utf8')).split('\n')[0];
    expect(header).toBe(`# Generated by \`dataflow ${SHOP_ARGS.join(' ')}\`.`);
  });

  it('compiles with python3 (py_compile)', async () => {
    await pyCompile(await readFile(join(root, SHOP_DAG), 'utf8'));
  });

  it("has exactly the compiled graph's model -> model edges, and each model waits for the raw tables it reads", () => {
    const node = (id: string) => graph.nodes[id] as GraphNode;
    const models = Object.values(graph.nodes).filter((n) => n.resourceType === 'model');
    const taskOfModel = (id: string) => `models.${node(id).name}`;
    const expected = models
      .flatMap((m) =>
        m.dependsOn
          .filter((d) => node(d).resourceType === 'model')
          .map((d) => `${taskOfModel(d)} >> ${taskOfModel(m.uniqueId)}`),
      )
      .sort();
    const actual = dag.tasks
      .filter((t) => t.task_id.startsWith('models.'))
      .flatMap((t) => t.upstream.filter((u) => u.startsWith('models.')).map((u) => `${u} >> ${t.task_id}`))
      .sort();
    expect(actual).toEqual(expected);
    expect(actual).toHaveLength(6);
    // Source edges: the staging model of each source waits for its load (or its source tests).
    const upstreamOf = Object.fromEntries(dag.tasks.map((t) => [t.task_id, t.upstream]));
    expect(upstreamOf['models.stg_customers']).toEqual(['source_tests.customers']);
    expect(upstreamOf['models.stg_orders']).toEqual(['source_tests.orders']);
    expect(upstreamOf['models.stg_payments']).toEqual(['load.payments']);
    expect(upstreamOf['models.stg_rates']).toEqual(['load.rates']);
    // orders has a `freshness:` rule: load >> freshness >> source tests >> its models.
    expect(upstreamOf['freshness.orders']).toEqual(['load.orders']);
    expect(upstreamOf['source_tests.orders']).toEqual(['freshness.orders']);
    expect(upstreamOf['snapshots.customers_snapshot']).toEqual(['models.stg_customers']);
    for (const s of ['customers', 'orders', 'payments', 'rates'])
      expect(upstreamOf[`load.${s}`]).toEqual([`ingest.${s}`]);
  });

  it('declares each raw table and model of the shop as an outlet of the task that publishes it', () => {
    const uri = (t: string) => `postgres://localhost:5432/postgres/analytics/${t}`;
    const outlets = Object.fromEntries(
      dag.tasks.map((t) => [t.task_id, (t.kwargs.outlets as Array<{ Asset: string }>).map((a) => a.Asset)]),
    );
    for (const s of ['customers', 'orders', 'payments', 'rates'])
      expect(outlets[`load.${s}`]).toEqual([uri(`raw_${s}`)]);
    const models = Object.values(graph.nodes).filter((n) => n.resourceType === 'model');
    expect(models).toHaveLength(7);
    for (const m of models) expect(outlets[`models.${m.name}`]).toEqual([uri(m.name)]);
    expect(outlets['snapshots.customers_snapshot']).toEqual([uri('customers_snapshot')]);
    expect(outlets['freshness.orders']).toEqual([]);
    const published = Object.values(outlets).flat();
    expect(published).toHaveLength(4 + 7 + 1);
  });

  it('checks the freshness of orders once, without a date, and runs the snapshot with the DAG run date', () => {
    const commands = Object.fromEntries(dag.tasks.map((t) => [t.task_id, t.kwargs.bash_command]));
    expect(dag.tasks.filter((t) => /^(freshness|snapshots)\./.test(t.task_id)).map((t) => t.task_id)).toEqual(
      ['freshness.orders', 'snapshots.customers_snapshot'],
    );
    expect(commands['freshness.orders']).toBe(
      '$DATAFLOW_CLI freshness --project "$DATAFLOW_PROJECT_DIR" --select source:raw.orders',
    );
    expect(commands['snapshots.customers_snapshot']).toBe(
      '$DATAFLOW_CLI snapshot --project "$DATAFLOW_PROJECT_DIR" --select customers_snapshot --date {{ ds }}',
    );
  });

  it('runs every model, the snapshot and every data test of the shop exactly once per day', () => {
    const runs = runsPerNode(graph, dag);
    const runnable = Object.values(graph.nodes)
      .filter((n) => n.resourceType !== 'source')
      .map((n) => n.uniqueId)
      .sort();
    expect(runnable.filter((id) => id.startsWith('test.'))).toHaveLength(36);
    expect([...runs.keys()].sort()).toEqual(runnable);
    expect(new Set(runs.values())).toEqual(new Set([1]));
    // Detached: the relationships tests between models none of which is upstream of the other.
    expect(
      dag.tasks.filter((t) => t.task_id.startsWith('tests.')).map((t) => [t.task_id, t.upstream]),
    ).toEqual([
      [
        'tests.relationships_fct_orders_customer_id__customer_id__ref_stg_customers_',
        ['models.fct_orders', 'models.stg_customers'],
      ],
      [
        'tests.relationships_stg_orders_customer_id__customer_id__ref_stg_customers_',
        ['models.stg_customers', 'models.stg_orders'],
      ],
      [
        'tests.relationships_stg_payments_order_id__order_id__ref_stg_orders_',
        ['models.stg_orders', 'models.stg_payments'],
      ],
    ]);
  });
});
