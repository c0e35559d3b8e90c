import type { AirflowTask, AirflowTaskKind } from './types.js';

const ID_LEN = 250; // Airflow's task_id / dag_id limit
const GROUP_OF: Record<AirflowTaskKind, string | undefined> = {
  ingest: 'ingest',
  load: 'load',
  freshness: 'freshness',
  source_test: 'source_tests',
  seed: undefined,
  snapshot: 'snapshots',
  model: 'models',
  test: 'tests',
};

/** Airflow task ids: letters, digits, `_` and `-` (the dot separates TaskGroups). */
export function sanitizeTaskId(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_-]+/g, '_');
  return s.length > 0 ? s : '_';
}

/** What a task is, before the table gives it an id, a group and a variable. */
export type TaskSpec = Omit<
  AirflowTask,
  'taskId' | 'variable' | 'group' | 'upstream' | 'tests' | 'outlets' | 'dated'
> &
  Partial<Pick<AirflowTask, 'dated'>>;

/** The tasks of a DAG being planned, with unique ids per TaskGroup. */
export interface TaskTable {
  readonly tasks: ReadonlyMap<string, AirflowTask>;
  /** Adds a task named after `name` (sanitized, cut to Airflow's limit, `_2`, `_3`… when taken). */
  add(spec: TaskSpec, name: string): AirflowTask;
  /** Every task upstream of a task, transitively (call once the edges are final). */
  ancestorsOf(taskId: string): ReadonlySet<string>;
}

/**
 * An empty task table.
 *
 * @example
 * const table = createTaskTable();
 * table.add({ kind: 'model', command: 'build', args: ['--select', 'a'], node: 'model.p.a' }, 'a').taskId; // 'models.a'
 */
export function createTaskTable(): TaskTable {
  const tasks = new Map<string, AirflowTask>();
  const usedIds = new Map<string | undefined, Set<string>>();
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
  const add = (spec: TaskSpec, name: string): AirflowTask => {
    const group = GROUP_OF[spec.kind];
    const used = usedIds.get(group) ?? new Set<string>();
    usedIds.set(group, used);
    const room = ID_LEN - (group ? group.length + 1 : 0) - 4;
    const base = sanitizeTaskId(name).slice(0, room);
    let id = base;
    for (let i = 2; used.has(id.toLowerCase()); i++) id = `${base}_${i}`;
    used.add(id.toLowerCase());
    const taskId = group ? `${group}.${id}` : id;
    const variable = spec.kind === 'seed' ? 'seeds' : `${spec.kind}_${id.replaceAll('-', '_')}`;
    const task: AirflowTask = {
      ...spec,
      dated: spec.dated ?? true,
      group,
      taskId,
      variable,
      upstream: [],
      tests: [],
      outlets: [],
    };
    tasks.set(taskId, task);
    return task;
  };
  return { tasks, add, ancestorsOf };
}
