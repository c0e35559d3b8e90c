import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type CompiledGraph, type GraphNode, qualify, selectNodes } from '@dataflow/modeling';
import { createLogger } from '@dataflow/runlog';
import { defineCommand } from 'citty';
import { buildArgs, projectArgs, repeatable } from '../args.js';
import type { ProjectConfig } from '../config.js';
import { loadProject } from '../config.js';
import { CliError } from '../errors.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { println } from '../io.js';
import type { Invocation } from '../session.js';
import { newRunId } from '../session.js';
import { compile } from '../steps.js';

/** What generates the DAG file (see {@link planAirflowDag}). */
export interface AirflowDagOptions {
  /** Airflow dag_id (default `dataflow_<project name>_models`). */
  dagId?: string | undefined;
  /** Cron preset or expression; `none` for manual runs only (default `@daily`). */
  schedule?: string | undefined;
  /** First logical date, YYYY-MM-DD (default 2026-01-01); `DATAFLOW_START_DATE` overrides it at parse time. */
  startDate?: string | undefined;
  /** Project directory as the Airflow workers see it (Variable `dataflow_project_dir` overrides it). */
  workerProject: string;
  /** dbt selection of the nodes that get tasks (as `dataflow build --select`). */
  select?: string[] | undefined;
  exclude?: string[] | undefined;
  /** Build models into this schema: passed on to every `build` / `test` task. */
  targetSchema?: string | undefined;
  /** The command that generated the file, for the header comment. */
  generatedBy: string;
}

/** Which CLI step a task runs, and which group it sits in. */
export type AirflowTaskKind = 'ingest' | 'load' | 'source_test' | 'seed' | 'model' | 'test';

/** One BashOperator of the generated DAG. */
export interface AirflowTask {
  kind: AirflowTaskKind;
  /** TaskGroup id (`ingest`, `load`, `source_tests`, `models`, `tests`), or none (`seed`). */
  group: string | undefined;
  /** Full Airflow task id (`models.stg_orders`): group id, dot, id inside the group. */
  taskId: string;
  /** Python variable holding the operator. */
  variable: string;
  /** `dataflow` subcommand. */
  command: 'ingest' | 'load' | 'build' | 'test';
  /** Flags after `--project`, before `--date {{ ds }}`. */
  args: string[];
  /** Full ids of the upstream tasks, sorted. */
  upstream: string[];
  /** Unique id of the model / detached test / source (or dataflow source name) the task is about. */
  node: string;
  /** Unique ids of the data tests this task runs, sorted. */
  tests: string[];
}

/** The DAG before it is rendered as Python. */
export interface AirflowDagPlan {
  dagId: string;
  projectName: string;
  schedule: string;
  startDate: string;
  workerProject: string;
  generatedBy: string;
  tasks: AirflowTask[];
  /** Tests in scope (what `dataflow build` with the same selection runs), each run by exactly one task. */
  testCount: number;
}

const ID_LEN = 250; // Airflow's task_id / dag_id limit
const SAFE_SELECTOR = /^[A-Za-z0-9_.:-]+$/;
const GROUP_OF: Record<AirflowTaskKind, string | undefined> = {
  ingest: 'ingest',
  load: 'load',
  source_test: 'source_tests',
  seed: undefined,
  model: 'models',
  test: 'tests',
};
const KIND_RANK: Record<AirflowTaskKind, number> = {
  ingest: 0,
  load: 1,
  source_test: 2,
  seed: 3,
  model: 4,
  test: 5,
};

/** Airflow task ids: letters, digits, `_` and `-` (the dot separates TaskGroups). */
export function sanitizeTaskId(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_-]+/g, '_');
  return s.length > 0 ? s : '_';
}

const invalid = (message: string) => new CliError('CONFIG_INVALID', `dataflow airflow: ${message}`);

/**
 * Plans a DAG with one task per model of a compiled project, in the style of Astronomer Cosmos.
 * Pure: the graph and config in, the task list out.
 *
 * - `ingest.<source> >> load.<source>` per dataflow.yml source; models that read `raw_<source>`
 *   (through `source()` or `ref()`) wait for its load (or for `source_tests.<source>`, the tests
 *   attached to that source only, when it has any).
 * - `models.<model>`: `dataflow build --select <model>` (the model and its tests, write-audit-publish),
 *   upstream of the models that read it; ephemeral models get no task (their inputs pass through).
 * - `seed`: `dataflow build --select resource_type:seed` (seeds and their tests), upstream of models
 *   that read a seed.
 * - A test is run by the task of the node it is attached to when every other input of the test is
 *   upstream of that task (else by the task of another parent for which that holds); a test with no
 *   such parent (e.g. `relationships` between two unrelated models) gets its own `tests.<test>` task
 *   (`dataflow test --select <test>`) downstream of all its inputs. Every test in scope runs exactly
 *   once; a model's build excludes (`--exclude`) the tests another task runs. This is checked here
 *   with the same selection code the CLI uses, so a plan that would skip or repeat a test throws.
 */
export function planAirflowDag(
  graph: CompiledGraph,
  config: ProjectConfig,
  options: AirflowDagOptions,
): AirflowDagPlan {
  const nodes = graph.nodes;
  const node = (id: string) => nodes[id] as GraphNode;
  const selection = {
    ...(options.select?.length ? { select: options.select } : {}),
    ...(options.exclude?.length ? { exclude: options.exclude } : {}),
  };
  let scope: Set<string>;
  try {
    scope = new Set(selectNodes(graph, selection));
  } catch (error) {
    throw new CliError('USAGE', `dataflow airflow: ${(error as Error).message}`, { cause: error });
  }
  const filtered = Boolean(options.select?.length || options.exclude?.length);
  const isEphemeral = (id: string) => {
    const n = node(id);
    return n.resourceType === 'model' && n.config.materialized === 'ephemeral';
  };
  const models = [...scope].filter((id) => node(id).resourceType === 'model' && !isEphemeral(id)).sort();
  const seeds = [...scope].filter((id) => node(id).resourceType === 'seed').sort();
  const tests = [...scope].filter((id) => node(id).resourceType === 'test').sort();
  const allSeeds = Object.keys(nodes).filter((id) => node(id).resourceType === 'seed');

  // dataflow.yml sources by the relation they load (`"schema"."raw_orders"`).
  const rawSchema = config.warehouse.schema;
  const sourceByRelation = new Map<string, string>();
  for (const [name, source] of Object.entries(config.sources))
    sourceByRelation.set(qualify(rawSchema, source.table ?? `raw_${name}`), name);
  const dataflowSourceOf = (id: string): string | undefined => {
    const n = node(id);
    return n.resourceType === 'source' ? sourceByRelation.get(n.relation.sql) : undefined;
  };
  // `ref('raw_orders')` records no graph edge (the raw tables are external relations): find the
  // relation in the compiled SQL instead.
  const rawReadsOf = (id: string): string[] => {
    const n = node(id);
    if (n.resourceType !== 'model') return [];
    const text = `${n.compiledSql}\n${n.incrementalSql ?? ''}`;
    return [...sourceByRelation].filter(([rel]) => text.includes(rel)).map(([, name]) => name);
  };

  // ---- task ids -------------------------------------------------------------------------------
  const tasks = new Map<string, AirflowTask>();
  const usedIds = new Map<string | undefined, Set<string>>();
  const addTask = (
    spec: Omit<AirflowTask, 'taskId' | 'variable' | 'group' | 'upstream' | 'tests'>,
    name: string,
  ) => {
    const group = GROUP_OF[spec.kind];
    const used = usedIds.get(group) ?? new Set<string>();
    usedIds.set(group, used);
    const room = ID_LEN - (group ? group.length + 1 : 0) - 4;
    const base = sanitizeTaskId(name).slice(0, room);
    let id = base;
    for (let i = 2; used.has(id.toLowerCase()); i++) id = `${base}_${i}`;
    used.add(id.toLowerCase());
    const taskId = group ? `${group}.${id}` : id;
    const task: AirflowTask = {
      ...spec,
      group,
      taskId,
      variable: spec.kind === 'seed' ? 'seeds' : `${spec.kind}_${id.replaceAll('-', '_')}`,
      upstream: [],
      tests: [],
    };
    tasks.set(taskId, task);
    return task;
  };

  // ---- tests attached to one source only: run right after that source is loaded ----------------
  const sourceTests = new Map<string, string[]>(); // source unique id -> tests
  for (const t of tests) {
    const n = node(t);
    if (n.resourceType !== 'test' || !n.attachedNode || node(n.attachedNode)?.resourceType !== 'source')
      continue;
    if (!n.dependsOn.every((d) => d === n.attachedNode)) continue;
    sourceTests.set(n.attachedNode, [...(sourceTests.get(n.attachedNode) ?? []), t]);
  }

  // ---- which sources are ingested and loaded ----------------------------------------------------
  const modelTaskOf = new Map<string, AirflowTask>();
  const wantedSources = new Set<string>(filtered ? [] : Object.keys(config.sources));
  type Input = { kind: 'source' | 'node'; id: string };
  const inputsMemo = new Map<string, Input[]>();
  const visiting = new Set<string>(); // compile rejects cycles; this only keeps a bad graph finite
  // The inputs of a node: dataflow sources by name, other nodes by id, looking through ephemeral models.
  const inputsOf = (id: string): Input[] => {
    const memo = inputsMemo.get(id);
    if (memo) return memo;
    const out: Input[] = [];
    visiting.add(id);
    for (const name of rawReadsOf(id)) out.push({ kind: 'source', id: name });
    for (const dep of node(id).dependsOn) {
      const d = nodes[dep];
      if (!d) continue;
      const name = d.resourceType === 'source' ? dataflowSourceOf(dep) : undefined;
      if (name) out.push({ kind: 'source', id: name });
      else if (isEphemeral(dep)) {
        if (!visiting.has(dep)) out.push(...inputsOf(dep));
      } else out.push({ kind: 'node', id: dep });
    }
    visiting.delete(id);
    inputsMemo.set(id, out);
    return out;
  };
  for (const m of models) for (const i of inputsOf(m)) if (i.kind === 'source') wantedSources.add(i.id);
  for (const s of sourceTests.keys()) {
    const name = dataflowSourceOf(s);
    if (name) wantedSources.add(name);
  }

  const loadTask = new Map<string, AirflowTask>();
  for (const name of [...wantedSources].sort()) {
    const ingest = addTask({ kind: 'ingest', command: 'ingest', args: ['--source', name], node: name }, name);
    const load = addTask({ kind: 'load', command: 'load', args: ['--source', name], node: name }, name);
    load.upstream.push(ingest.taskId);
    loadTask.set(name, load);
  }
  // What a model reading a source waits for: the source's tests when it has some, else its load.
  const gateOf = new Map<string, AirflowTask>();
  for (const [source, ids] of [...sourceTests].sort(([a], [b]) => a.localeCompare(b))) {
    const n = node(source) as Extract<GraphNode, { resourceType: 'source' }>;
    const name = dataflowSourceOf(source);
    const task = addTask(
      {
        kind: 'source_test',
        command: 'test',
        args: ['--select', `source:${n.sourceName}.${n.tableName}`],
        node: source,
      },
      name ?? `${n.sourceName}_${n.tableName}`,
    );
    if (name) task.upstream.push((loadTask.get(name) as AirflowTask).taskId);
    task.tests = [...ids].sort();
    gateOf.set(name ?? source, task);
  }

  const seedTask =
    seeds.length > 0
      ? addTask(
          {
            kind: 'seed',
            command: 'build',
            args: [
              '--select',
              ...(seeds.length === allSeeds.length
                ? ['resource_type:seed']
                : seeds.map((s) => selectorFor(graph, s))),
            ],
            node: 'seeds',
          },
          'seed',
        )
      : undefined;
  for (const m of models) {
    const task = addTask(
      { kind: 'model', command: 'build', args: ['--select', selectorFor(graph, m)], node: m },
      node(m).name,
    );
    modelTaskOf.set(m, task);
  }
  // Producer of an input, for models (sources through their tests) and for tests (sources loaded).
  const producer = (i: Input, forTest: boolean): AirflowTask | undefined => {
    if (i.kind === 'source') return forTest ? loadTask.get(i.id) : (gateOf.get(i.id) ?? loadTask.get(i.id));
    const n = node(i.id);
    if (n.resourceType === 'seed') return scope.has(i.id) ? seedTask : undefined;
    if (n.resourceType === 'model') return modelTaskOf.get(i.id);
    if (n.resourceType === 'source' && !forTest) return gateOf.get(i.id);
    return undefined;
  };
  for (const m of models) {
    const task = modelTaskOf.get(m) as AirflowTask;
    const up = new Set<string>();
    for (const i of inputsOf(m)) {
      const p = producer(i, false);
      if (p && p !== task) up.add(p.taskId);
    }
    task.upstream = [...up].sort();
  }

  // ---- who runs each test ----------------------------------------------------------------------
  const ancestors = new Map<string, Set<string>>();
  const ancestorsOf = (taskId: string): Set<string> => {
    const known = ancestors.get(taskId);
    if (known) return known;
    const out = new Set<string>();
    for (const u of tasks.get(taskId)?.upstream ?? []) {
      out.add(u);
      for (const a of ancestorsOf(u)) out.add(a);
    }
    ancestors.set(taskId, out);
    return out;
  };
  const sourceOwned = new Set([...sourceTests.values()].flat());
  const detached: Array<{ test: string; upstream: string[] }> = [];
  for (const t of tests) {
    if (sourceOwned.has(t)) continue;
    const n = node(t) as Extract<GraphNode, { resourceType: 'test' }>;
    const parentTasks = new Set<AirflowTask>();
    for (const i of inputsOf(t)) {
      const p = producer(i, true);
      if (p) parentTasks.add(p);
    }
    // Runners: tasks whose `--select` picks the test up (a model or seed it reads), attached node first.
    const runnerOf = (id: string) =>
      node(id)?.resourceType === 'model'
        ? modelTaskOf.get(id)
        : node(id)?.resourceType === 'seed' && scope.has(id)
          ? seedTask
          : undefined;
    const candidates = [
      ...(n.attachedNode ? [runnerOf(n.attachedNode)] : []),
      ...[...n.dependsOn].sort().map(runnerOf),
    ].filter((c): c is AirflowTask => c !== undefined);
    const owner = candidates.find((c) =>
      [...parentTasks].every((p) => p === c || ancestorsOf(c.taskId).has(p.taskId)),
    );
    if (owner) owner.tests.push(t);
    else detached.push({ test: t, upstream: [...parentTasks].map((p) => p.taskId).sort() });
  }
  for (const d of detached) {
    const task = addTask(
      { kind: 'test', command: 'test', args: ['--select', selectorFor(graph, d.test)], node: d.test },
      node(d.test).name,
    );
    task.upstream = d.upstream;
    task.tests = [d.test];
  }

  // ---- exclude what another task runs, then check every test runs exactly once -----------------
  const runs = new Map<string, number>();
  for (const task of tasks.values()) {
    task.tests.sort();
    if (task.command !== 'build' && task.command !== 'test') continue;
    const select = task.args.filter((_, i) => task.args[i - 1] === '--select');
    const picked = selectNodes(graph, { select });
    const owned = new Set(task.tests);
    const exclude = picked
      .filter((id) => node(id).resourceType === 'test' && !owned.has(id))
      .map((id) => selectorFor(graph, id));
    for (const e of exclude.sort()) task.args.push('--exclude', e);
    const ran = selectNodes(graph, { select, ...(exclude.length ? { exclude } : {}) });
    const ranTests = ran.filter((id) => node(id).resourceType === 'test');
    const ranOther = ran.filter((id) => node(id).resourceType !== 'test');
    const expectedOther = task.kind === 'model' ? [task.node] : task.kind === 'seed' ? seeds : [];
    if (
      ranTests.join() !== task.tests.join() ||
      (task.command === 'build' && ranOther.join() !== [...expectedOther].sort().join())
    )
      throw invalid(`cannot select exactly the nodes of task ${task.taskId} (ambiguous names?)`);
    for (const id of ranTests) runs.set(id, (runs.get(id) ?? 0) + 1);
  }
  for (const t of tests)
    if (runs.get(t) !== 1) throw invalid(`test ${node(t).name} would run ${runs.get(t) ?? 0} times`);
  if (options.targetSchema !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.targetSchema))
      throw new CliError('USAGE', 'dataflow airflow: --target-schema: expected a plain identifier');
    for (const task of tasks.values())
      if (task.command === 'build' || task.command === 'test')
        task.args.push('--target-schema', options.targetSchema);
  }

  for (const task of tasks.values()) task.upstream = [...new Set(task.upstream)].sort();
  const ordered = [...tasks.values()].sort(
    (a, b) => KIND_RANK[a.kind] - KIND_RANK[b.kind] || a.taskId.localeCompare(b.taskId),
  );
  return {
    dagId: options.dagId ?? `dataflow_${sanitizeTaskId(graph.projectName)}_models`,
    projectName: graph.projectName,
    schedule: options.schedule ?? '@daily',
    startDate: options.startDate ?? '2026-01-01',
    workerProject: options.workerProject,
    generatedBy: options.generatedBy,
    tasks: ordered,
    testCount: tests.length,
  };
}

/**
 * The `--select` value that picks exactly one node: its name, else its fqn. Throws when neither
 * is unambiguous or the name is not shell- and Jinja-safe (letters, digits, `_ . : -`).
 */
function selectorFor(graph: CompiledGraph, id: string): string {
  const n = graph.nodes[id] as GraphNode;
  for (const candidate of [n.name, `fqn:${n.fqn.join('.')}`]) {
    if (!SAFE_SELECTOR.test(candidate)) continue;
    const picked = selectNodes(graph, { select: [candidate], indirectSelection: 'empty' });
    if (picked.length === 1 && picked[0] === id) return candidate;
  }
  throw invalid(
    `no selector picks exactly ${n.resourceType} ${JSON.stringify(n.name)} (rename it: letters, digits, _)`,
  );
}

const py = (s: string) => JSON.stringify(s);

/** Renders the plan as an Airflow DAG file (deterministic: same plan, same bytes). */
export function renderAirflowDag(plan: AirflowDagPlan): string {
  const counts = (k: AirflowTaskKind) => plan.tasks.filter((t) => t.kind === k).length;
  const detached = counts('test');
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);
  const seedLine = counts('seed')
    ? [
        '- seed: `dataflow build --select resource_type:seed` (seeds and their tests), upstream of',
        '  the models reading seeds.',
      ]
    : [];
  push(
    `# Generated by \`${plan.generatedBy}\`.`,
    '# Do not edit: change the project and regenerate (add --check in CI to fail when this file is stale).',
    `"""${plan.dagId}: one Airflow task per model of the dataflow project ${plan.projectName} (Cosmos style).`,
    '',
    `${counts('model')} models, ${counts('ingest')} sources, ${plan.testCount} data tests; every task is a BashOperator`,
    'running the dataflow CLI for the logical date of the run (--date {{ ds }}):',
    '',
    '    ingest.<source> >> load.<source> [>> source_tests.<source>] >> models.<model> >> ...',
    '',
    '- models.<model>: `dataflow build --select <model>`: the model and its data tests',
    '  (write-audit-publish: a new version is published only if its tests pass). The edges',
    "  between models are the compiled graph's; a model that reads raw_<source> waits for the",
    '  load of that source (and for the tests attached to the source, source_tests.<source>).',
    ...seedLine,
    `- tests.<test>: a test that reads several models none of which is upstream of the others`,
    `  (${detached} here), run once all of them are built (Cosmos' detached multi-parent tests).`,
    '',
    'Every data test runs exactly once per DAG run: a model build --exclude-s the tests that',
    'another task runs. Exit 99 (nothing to load for the day) marks a task skipped, and the',
    'models downstream of it are skipped too. Configure with Airflow Variables dataflow_cli /',
    'dataflow_project_dir, or the worker env DATAFLOW_CLI / DATAFLOW_PROJECT_DIR;',
    'DATAFLOW_START_DATE / DATAFLOW_END_DATE bound the catchup window. Airflow 2.6+ and 3.x.',
    '"""',
    '',
    'from __future__ import annotations',
    '',
    'import json',
    'import os',
    'from datetime import timedelta',
    '',
    'import pendulum',
    '',
    'try:  # Airflow 3.x',
    '    from airflow.providers.standard.operators.bash import BashOperator',
    '    from airflow.sdk import DAG, TaskGroup',
    'except ImportError:  # Airflow 2.x',
    '    from airflow import DAG',
    '    from airflow.operators.bash import BashOperator',
    '    from airflow.utils.task_group import TaskGroup',
    '',
    `DEFAULT_CLI = os.environ.get("DATAFLOW_CLI", "dataflow")`,
    `DEFAULT_PROJECT_DIR = os.environ.get("DATAFLOW_PROJECT_DIR", ${py(plan.workerProject)})`,
    '# catchup creates one run per day from START_DATE (to END_DATE when set): a backfill.',
    `START_DATE = pendulum.parse(os.environ.get("DATAFLOW_START_DATE", ${py(plan.startDate)}), tz="UTC")`,
    'END_DATE = pendulum.parse(os.environ["DATAFLOW_END_DATE"], tz="UTC") if os.environ.get("DATAFLOW_END_DATE") else None',
    '',
    'default_args = {',
    '    "owner": "data-platform",',
    '    "retries": int(os.environ.get("DATAFLOW_RETRIES", "3")),',
    '    "retry_delay": timedelta(minutes=int(os.environ.get("DATAFLOW_RETRY_DELAY_MINUTES", "5"))),',
    '    "retry_exponential_backoff": True,',
    '    "max_retry_delay": timedelta(minutes=30),',
    '    "execution_timeout": timedelta(minutes=int(os.environ.get("DATAFLOW_TASK_TIMEOUT_MINUTES", "120"))),',
    '}',
    '',
    '# BashOperator env is templated: Airflow Variables first, then the defaults above.',
    'OPERATOR_ENV = {',
    '    "DATAFLOW_CLI": "{{ var.value.get(\'dataflow_cli\', %s) }}" % json.dumps(DEFAULT_CLI),',
    '    "DATAFLOW_PROJECT_DIR": "{{ var.value.get(\'dataflow_project_dir\', %s) }}" % json.dumps(DEFAULT_PROJECT_DIR),',
    '}',
    '',
    '',
    'def dataflow(task_id: str, command: str, *args: str) -> BashOperator:',
    '    """`dataflow <command> --project $DATAFLOW_PROJECT_DIR <args> --date {{ ds }}`; exit 99 = skipped."""',
    '    return BashOperator(',
    '        task_id=task_id,',
    '        bash_command=" ".join(["$DATAFLOW_CLI", command, \'--project "$DATAFLOW_PROJECT_DIR"\', *args, "--date {{ ds }}"]),',
    '        env=OPERATOR_ENV,',
    '        append_env=True,  # keep the worker env: DATAFLOW_DATABASE_URL, AWS_* ...',
    '        skip_on_exit_code=99,',
    '    )',
    '',
    '',
    'with DAG(',
    `    dag_id=${py(plan.dagId)},`,
    `    description=${py(`${plan.projectName}: one task per model, generated by dataflow airflow`)},`,
    `    schedule=${plan.schedule.toLowerCase() === 'none' ? 'None' : py(plan.schedule)},`,
    '    start_date=START_DATE,',
    '    end_date=END_DATE,',
    '    catchup=True,',
    '    max_active_runs=int(os.environ.get("DATAFLOW_MAX_ACTIVE_RUNS", "1")),',
    '    default_args=default_args,',
    `    tags=["dataflow", ${py(plan.projectName)}, "models"],`,
    '    doc_md=__doc__,',
    ') as dag:',
  );
  const groups: Array<[string | undefined, AirflowTask[]]> = [];
  for (const task of plan.tasks) {
    const last = groups.at(-1);
    if (last && last[0] === task.group) last[1].push(task);
    else groups.push([task.group, [task]]);
  }
  for (const [group, tasks] of groups) {
    const indent = group ? '        ' : '    ';
    if (group) push(`    with TaskGroup(group_id=${py(group)}):`);
    for (const t of tasks) {
      const id = group ? t.taskId.slice(group.length + 1) : t.taskId;
      const call = `${t.variable} = dataflow(${[id, t.command, ...t.args].map(py).join(', ')})`;
      if (t.tests.length > 0 && t.kind !== 'test') push(`${indent}# runs ${t.tests.length} test(s)`);
      push(`${indent}${call}`);
    }
  }
  push('', "    # Dependencies: the compiled graph's edges (sources -> raw_* tables -> models -> models).");
  const byId = new Map(plan.tasks.map((t) => [t.taskId, t]));
  for (const t of plan.tasks)
    for (const u of t.upstream) push(`    ${(byId.get(u) as AirflowTask).variable} >> ${t.variable}`);
  return `${lines.join('\n')}\n`;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const validDate = (s: string) => DATE.test(s) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);

/** Canonical form of the generating command, for the file header (order fixed, --check left out). */
function commandLine(args: Record<string, unknown>, rawArgs: readonly string[]): string {
  const parts = ['dataflow airflow'];
  const flag = (name: string, value: unknown) => {
    if (typeof value !== 'string') return;
    parts.push(`--${name} ${SAFE_ARG.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`}`);
  };
  for (const name of [
    'project',
    'out',
    'dag-id',
    'schedule',
    'start-date',
    'worker-project',
    'target-schema',
  ])
    flag(name, args[name]);
  for (const name of ['select', 'exclude']) for (const v of repeatable(rawArgs, name)) flag(name, v);
  return parts.join(' ');
}
const SAFE_ARG = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * `dataflow airflow`: compiles the project (as `dataflow compile`, no database) and writes an
 * Airflow DAG with one task per model (stdout, or `--out FILE`; `--check` exits 1 when FILE is stale).
 */
export const airflowCommand = defineCommand({
  meta: {
    name: 'airflow',
    description: 'Generate an Airflow DAG with one task per model (Cosmos style) from the compiled project',
  },
  args: {
    ...projectArgs,
    out: { type: 'string', description: 'Write the DAG file here (default: stdout)', valueHint: 'FILE' },
    check: { type: 'boolean', description: 'Exit 1 when --out differs from what would be generated' },
    'dag-id': { type: 'string', description: 'DAG id (default dataflow_<name>_models)', valueHint: 'ID' },
    schedule: { type: 'string', description: 'Schedule (default @daily; none = manual)', valueHint: 'CRON' },
    'start-date': {
      type: 'string',
      description: 'First logical date (default 2026-01-01)',
      valueHint: 'YYYY-MM-DD',
    },
    'worker-project': {
      type: 'string',
      description: 'Project directory on the Airflow workers (default: the absolute --project path)',
      valueHint: 'DIR',
    },
    select: buildArgs.select,
    exclude: buildArgs.exclude,
    'target-schema': buildArgs['target-schema'],
  },
  async run(ctx) {
    const invocation = (ctx.data as { invocation: Invocation }).invocation;
    const { redactor, io } = invocation;
    const logger = createLogger({
      runId: newRunId(),
      pretty: io.stderrIsTTY,
      destination: io.stderr,
      redactor,
      bindings: { command: 'airflow' },
      level: ((ctx.args['log-level'] as string | undefined) ?? 'info') as 'info',
    });
    try {
      const args = ctx.args as Record<string, unknown>;
      const out = args.out as string | undefined;
      if (args.check && !out) throw new CliError('USAGE', 'dataflow airflow: --check needs --out FILE');
      const dagId = args['dag-id'] as string | undefined;
      if (dagId !== undefined && !/^[A-Za-z0-9_.-]{1,250}$/.test(dagId))
        throw new CliError(
          'USAGE',
          `dataflow airflow: --dag-id: letters, digits, _ . - only, got ${JSON.stringify(dagId)}`,
        );
      const startDate = args['start-date'] as string | undefined;
      if (startDate !== undefined && !validDate(startDate))
        throw new CliError(
          'USAGE',
          `dataflow airflow: --start-date: expected YYYY-MM-DD, got ${JSON.stringify(startDate)}`,
        );
      const schedule = args.schedule as string | undefined;
      if (schedule !== undefined && schedule.trim() === '')
        throw new CliError('USAGE', 'dataflow airflow: --schedule: empty');

      const project = await loadProject(
        (args.project as string | undefined) ?? '.',
        invocation.env,
        invocation.cwd,
      );
      for (const s of project.secrets) redactor.add(s);
      const graph = await compile(
        project,
        logger,
        { targetSchema: args['target-schema'] as string | undefined },
        undefined,
      );
      const plan = planAirflowDag(graph, project.config, {
        dagId,
        schedule,
        startDate,
        workerProject: (args['worker-project'] as string | undefined) ?? project.dir,
        select: repeatable(ctx.rawArgs, 'select'),
        exclude: repeatable(ctx.rawArgs, 'exclude'),
        targetSchema: args['target-schema'] as string | undefined,
        generatedBy: commandLine(args, ctx.rawArgs),
      });
      const text = renderAirflowDag(plan);
      if (!out) {
        io.stdout.write(text);
      } else {
        const path = resolve(invocation.cwd, out);
        if (args.check) {
          const current = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT') return undefined;
            throw error;
          });
          if (current !== text) {
            io.stderr.write(
              `dataflow airflow: ${out} is ${current === undefined ? 'missing' : 'stale'}; regenerate: ${plan.generatedBy}\n`,
            );
            invocation.exitCode = EXIT.RUNTIME;
            return;
          }
          println(io, `${out} is up to date`);
        } else {
          await writeAtomically(path, text);
          println(
            io,
            `wrote ${out}: ${plan.tasks.length} tasks (${plan.tasks.filter((t) => t.kind === 'model').length} models), ${plan.testCount} tests`,
          );
        }
      }
      invocation.exitCode = EXIT.OK;
    } catch (error) {
      io.stderr.write(
        `${redactor.redact((error as Error).message).split('\n')[0]}\n`.replace(
          /^(?!dataflow )/,
          'dataflow airflow: ',
        ),
      );
      invocation.exitCode = exitCodeFor(error);
    } finally {
      await logger.flush();
    }
  },
});

/** Writes through a temp file and a rename, so a reader (the Airflow DAG processor) never sees half a file. */
async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
