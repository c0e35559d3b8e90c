import type { CompiledGraph } from '@dataflow/modeling';
import type { DagScope, GraphInputs, Input } from './graph-inputs.js';
import { selectorFor } from './selectors.js';
import type { SourceTasks } from './source-tasks.js';
import type { TaskTable } from './task-table.js';
import type { AirflowTask } from './types.js';

/** The task that makes an input available, for a model or (`forTest`) for a test. */
export type Producer = (input: Input, forTest: boolean) => AirflowTask | undefined;

/** The node side of the DAG: `seed`, `snapshots.<snapshot>`, `models.<model>`, and who produces what. */
export interface NodeTasks {
  seedTask: AirflowTask | undefined;
  modelTaskOf: ReadonlyMap<string, AirflowTask>;
  snapshotTaskOf: ReadonlyMap<string, AirflowTask>;
  producer: Producer;
}

/**
 * Adds the `seed` task (all seeds in scope), one `snapshots.<snapshot>` task per snapshot
 * (`dataflow snapshot --select <snapshot>`) and one `models.<model>` build per model, each
 * downstream of what it reads: models and snapshots (the compiled graph's edges, so snapshots run
 * in DAG order), `seed`, and for a raw table the last task after its load (freshness, source
 * tests), else its load.
 *
 * @example
 * planNodeTasks(graph, scope, inputs, sources, table).modelTaskOf.get('model.shop.stg_orders')?.upstream; // ['load.orders']
 */
export function planNodeTasks(
  graph: CompiledGraph,
  scope: DagScope,
  inputs: GraphInputs,
  sources: SourceTasks,
  table: TaskTable,
): NodeTasks {
  const seedSelect = scope.allSeeds
    ? ['--select', 'resource_type:seed']
    : scope.seeds.flatMap((s) => ['--select', selectorFor(graph, s)]);
  const seedTask =
    scope.seeds.length > 0
      ? table.add({ kind: 'seed', command: 'build', args: seedSelect, node: 'seeds' }, 'seed')
      : undefined;
  const snapshotTaskOf = new Map<string, AirflowTask>();
  for (const s of scope.snapshots) {
    const args = ['--select', selectorFor(graph, s)];
    snapshotTaskOf.set(
      s,
      table.add({ kind: 'snapshot', command: 'snapshot', args, node: s }, inputs.node(s).name),
    );
  }
  const modelTaskOf = new Map<string, AirflowTask>();
  for (const m of scope.models) {
    const args = ['--select', selectorFor(graph, m)];
    modelTaskOf.set(m, table.add({ kind: 'model', command: 'build', args, node: m }, inputs.node(m).name));
  }
  const producer: Producer = (i, forTest) => {
    if (i.kind === 'source')
      return forTest ? sources.loadTask.get(i.id) : (sources.gateOf.get(i.id) ?? sources.loadTask.get(i.id));
    const n = inputs.node(i.id);
    if (n.resourceType === 'seed') return scope.scope.has(i.id) ? seedTask : undefined;
    if (n.resourceType === 'model') return modelTaskOf.get(i.id);
    if (n.resourceType === 'snapshot') return snapshotTaskOf.get(i.id);
    if (n.resourceType === 'source' && !forTest) return sources.gateOf.get(i.id);
    return undefined;
  };
  for (const [m, task] of [...snapshotTaskOf, ...modelTaskOf]) {
    const up = new Set<string>();
    for (const i of inputs.inputsOf(m)) {
      const p = producer(i, false);
      if (p && p !== task) up.add(p.taskId);
    }
    task.upstream = [...up].sort();
  }
  return { seedTask, modelTaskOf, snapshotTaskOf, producer };
}
