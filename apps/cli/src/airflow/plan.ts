import { type CompiledGraph, type GraphNode, qualify, selectNodes } from '@dataflow/modeling';
import type { ProjectConfig } from '../config/schema.js';
import { CliError } from '../errors.js';

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

const invalid = (message: string) => new CliError('CONFIG_INVALID', message);

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
    throw new CliError('USAGE', (error as Error).message, { cause: error });
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
      throw new CliError('USAGE', '--target-schema: expected a plain identifier');
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
