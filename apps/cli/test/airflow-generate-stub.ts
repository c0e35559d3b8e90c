import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type CompiledGraph, selectNodes } from '@dataflow/modeling';

// Helpers of the `dataflow airflow` tests (airflow-generate*.test.ts). Airflow cannot be installed on
// the test machines: a generated DAG file is executed against a stand-in that records its tasks.
const exec = promisify(execFile);

// A stand-in for the parts of Airflow the generated file uses. TaskGroup prefixes task ids with
// the group id, as Airflow does; `>>` records the upstream task; outlets are recorded as
// `{ Asset: uri }` (airflow.sdk, 3.x) or `{ Dataset: uri }` (airflow.datasets, 2.x).
export const STUB = `
import datetime as dt, json, runpy, sys, types
TASKS, DAGS, GROUPS = [], [], []

class DAG:
    def __init__(self, dag_id, **kwargs):
        self.dag_id, self.kwargs = dag_id, kwargs
        DAGS.append(self)
    def __enter__(self): return self
    def __exit__(self, *exc): return False

class TaskGroup:
    def __init__(self, group_id):
        self.group_id = group_id
    def __enter__(self):
        GROUPS.append(self.group_id)
        return self
    def __exit__(self, *exc):
        GROUPS.pop()
        return False

class BashOperator:
    def __init__(self, task_id, **kwargs):
        self.task_id = ".".join(GROUPS + [task_id])
        self.kwargs, self.upstream = kwargs, []
        TASKS.append(self)
    def __rshift__(self, other):
        other.upstream.append(self.task_id)
        return other

class Asset:
    def __init__(self, name=None, uri=None, **kwargs):
        self.uri = uri if uri is not None else name

class Dataset(Asset):
    def __init__(self, uri, extra=None):
        super().__init__(uri=uri)

def jsonable(v):
    if isinstance(v, Asset): return {type(v).__name__: v.uri}
    if isinstance(v, dict): return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)): return [jsonable(x) for x in v]
    if isinstance(v, dt.timedelta): return {"seconds": v.total_seconds()}
    if isinstance(v, dt.datetime): return v.isoformat()
    return v

def install(major):
    names = ["airflow", "airflow.datasets", "airflow.operators", "airflow.operators.bash", "airflow.utils",
             "airflow.utils.task_group"]
    if major == 3:
        names = ["airflow", "airflow.sdk", "airflow.providers", "airflow.providers.standard",
                 "airflow.providers.standard.operators", "airflow.providers.standard.operators.bash"]
    mods = {n: types.ModuleType(n) for n in names}
    if major == 3:
        mods["airflow.sdk"].DAG = DAG
        mods["airflow.sdk"].TaskGroup = TaskGroup
        mods["airflow.sdk"].Asset = Asset
        mods["airflow.providers.standard.operators.bash"].BashOperator = BashOperator
    else:
        mods["airflow"].DAG = DAG
        mods["airflow.datasets"].Dataset = Dataset
        mods["airflow.operators.bash"].BashOperator = BashOperator
        mods["airflow.utils.task_group"].TaskGroup = TaskGroup
    sys.modules.update(mods)
    pendulum = types.ModuleType("pendulum")
    pendulum.parse = lambda text, tz="UTC": dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)
    sys.modules["pendulum"] = pendulum

install(int(sys.argv[2]))
runpy.run_path(sys.argv[1], run_name="dag_under_test")
json.dump({
    "dags": [{"dag_id": d.dag_id, "kwargs": jsonable({k: v for k, v in d.kwargs.items() if k != "doc_md"})} for d in DAGS],
    "tasks": [{"task_id": t.task_id, "kwargs": jsonable(t.kwargs), "upstream": sorted(t.upstream)} for t in TASKS],
}, sys.stdout, sort_keys=True)
`;

export interface Inspected {
  dags: Array<{ dag_id: string; kwargs: Record<string, unknown> }>;
  tasks: Array<{ task_id: string; kwargs: Record<string, unknown>; upstream: string[] }>;
}

/** Runs python3 with a minimal environment (plus `env`). */
export async function python(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await exec('python3', args, {
    env: { PATH: process.env.PATH ?? '', PYTHONDONTWRITEBYTECODE: '1', ...env },
  });
  return stdout;
}

/** Executes DAG file text under the stand-in with Airflow `major`'s import paths; `work` holds temp files. */
export async function inspectDag(
  work: string,
  text: string,
  major: 2 | 3,
  env: Record<string, string> = {},
): Promise<Inspected> {
  const stub = join(work, 'airflow_stub.py');
  await writeFile(stub, STUB);
  const file = join(work, `dag_${major}_${Math.random().toString(36).slice(2)}.py`);
  await writeFile(file, text);
  return JSON.parse(await python([stub, file, String(major)], env)) as Inspected;
}

/** Tasks in dependency order (Kahn, ties by task id); throws on a cycle or an unknown upstream. */
export function topological(tasks: Inspected['tasks']): Inspected['tasks'] {
  const done = new Set<string>();
  const ordered: Inspected['tasks'] = [];
  while (ordered.length < tasks.length) {
    const ready = tasks.filter((t) => !done.has(t.task_id) && t.upstream.every((u) => done.has(u)));
    if (ready.length === 0) throw new Error('DAG has a cycle or an unknown upstream');
    for (const t of ready) {
      ordered.push(t);
      done.add(t.task_id);
    }
  }
  return ordered;
}

/** Every value of `--<name>` in an argv. */
const valuesOf = (argv: readonly string[], name: string) =>
  argv.filter((_, i) => argv[i - 1] === `--${name}`);

/** The flags of a rendered bash command. */
export function commandOf(bash: string): {
  command: string;
  select: string[];
  exclude: string[];
  argv: string[];
} {
  const argv = bash.split(' ');
  return {
    command: argv[1] as string,
    select: valuesOf(argv, 'select'),
    exclude: valuesOf(argv, 'exclude'),
    argv,
  };
}

/** How often each node is run by the DAG's commands, with the CLI's own selection code. */
export function runsPerNode(graph: CompiledGraph, dag: Inspected): Map<string, number> {
  const runs = new Map<string, number>();
  for (const t of dag.tasks) {
    const { command, select, exclude } = commandOf(t.kwargs.bash_command as string);
    if (command !== 'build' && command !== 'test' && command !== 'snapshot') continue;
    for (const id of selectNodes(graph, { select, ...(exclude.length ? { exclude } : {}) })) {
      const type = graph.nodes[id]?.resourceType;
      // `dataflow test` runs only tests, `dataflow snapshot` only snapshots, of what it selects.
      if (command === 'test' && type !== 'test') continue;
      if (command === 'snapshot' && type !== 'snapshot') continue;
      runs.set(id, (runs.get(id) ?? 0) + 1);
    }
  }
  return runs;
}
