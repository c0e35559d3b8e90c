import type { GraphNode } from '@dataflow/modeling';
import type { ProjectConfig } from '../config/schema.js';
import type { DagScope, GraphInputs } from './graph-inputs.js';
import type { TaskTable } from './task-table.js';
import type { AirflowTask } from './types.js';

/** The source side of the DAG: each source's load task, and what a model reading it waits for. */
export interface SourceTasks {
  /** `load.<source>` by dataflow source name. */
  loadTask: ReadonlyMap<string, AirflowTask>;
  /** `source_tests.<source>` by dataflow source name (or source unique id): models wait for it. */
  gateOf: ReadonlyMap<string, AirflowTask>;
  /** Tests run by a `source_tests` task. */
  sourceOwned: ReadonlySet<string>;
}

/** Tests attached to one source only, by source unique id: they run right after its load. */
function testsOfSourcesOnly(scope: DagScope, inputs: GraphInputs): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of scope.tests) {
    const n = inputs.node(t);
    if (n.resourceType !== 'test' || !n.attachedNode) continue;
    if (inputs.node(n.attachedNode)?.resourceType !== 'source') continue;
    if (!n.dependsOn.every((d) => d === n.attachedNode)) continue;
    out.set(n.attachedNode, [...(out.get(n.attachedNode) ?? []), t]);
  }
  return out;
}

/**
 * Adds `ingest.<source> >> load.<source>` for every source the scope reads (every source when
 * nothing is selected), and `source_tests.<source>` after the load when tests are attached to
 * that source only.
 *
 * @example
 * planSourceTasks(config, scope, inputs, table).loadTask.get('orders')?.taskId; // 'load.orders'
 */
export function planSourceTasks(
  config: ProjectConfig,
  scope: DagScope,
  inputs: GraphInputs,
  table: TaskTable,
): SourceTasks {
  const sourceTests = testsOfSourcesOnly(scope, inputs);
  const wanted = new Set<string>(scope.filtered ? [] : Object.keys(config.sources));
  for (const m of scope.models) for (const i of inputs.inputsOf(m)) if (i.kind === 'source') wanted.add(i.id);
  for (const s of sourceTests.keys()) {
    const name = inputs.dataflowSourceOf(s);
    if (name) wanted.add(name);
  }
  const loadTask = new Map<string, AirflowTask>();
  for (const name of [...wanted].sort()) {
    const ingest = table.add(
      { kind: 'ingest', command: 'ingest', args: ['--source', name], node: name },
      name,
    );
    const load = table.add({ kind: 'load', command: 'load', args: ['--source', name], node: name }, name);
    load.upstream.push(ingest.taskId);
    loadTask.set(name, load);
  }
  const gateOf = new Map<string, AirflowTask>();
  for (const [source, ids] of [...sourceTests].sort(([a], [b]) => a.localeCompare(b))) {
    const n = inputs.node(source) as Extract<GraphNode, { resourceType: 'source' }>;
    const name = inputs.dataflowSourceOf(source);
    const task = table.add(
      {
        kind: 'source_test',
        command: 'test',
        args: ['--select', `source:${n.sourceName}.${n.tableName}`],
        node: source,
      },
      name ?? `${n.sourceName}_${n.tableName}`,
    );
    const load = name ? loadTask.get(name) : undefined;
    if (load) task.upstream.push(load.taskId);
    task.tests = [...ids].sort();
    gateOf.set(name ?? source, task);
  }
  return { loadTask, gateOf, sourceOwned: new Set([...sourceTests.values()].flat()) };
}
