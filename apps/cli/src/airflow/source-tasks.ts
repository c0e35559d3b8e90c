import { type CompiledGraph, freshnessCriteria, type SourceNode } from '@dataflow/modeling';
import type { ProjectConfig } from '../config/schema.js';
import type { DagScope, GraphInputs } from './graph-inputs.js';
import type { TaskTable } from './task-table.js';
import type { AirflowTask } from './types.js';

/** The source side of the DAG: each source's load task, and what a model reading it waits for. */
export interface SourceTasks {
  /** `load.<source>` by dataflow source name. */
  loadTask: ReadonlyMap<string, AirflowTask>;
  /**
   * The last task after a source's load (`freshness.<source>`, `source_tests.<source>`) by dataflow
   * source name (or source unique id): the nodes reading the source wait for it.
   */
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

/** Source nodes with a `freshness:` rule that the DAG checks, sorted: those of loaded sources, and (unfiltered, or read by a node in scope) the others. */
function freshnessSources(
  graph: CompiledGraph,
  scope: DagScope,
  inputs: GraphInputs,
  loaded: ReadonlySet<string>,
): string[] {
  const read = new Set<string>();
  for (const id of [...scope.models, ...scope.snapshots])
    for (const i of inputs.inputsOf(id)) if (i.kind === 'node') read.add(i.id);
  return Object.values(graph.nodes)
    .filter((n): n is SourceNode => n.resourceType === 'source' && freshnessCriteria(n) !== undefined)
    .map((n) => n.uniqueId)
    .filter((id) => {
      const name = inputs.dataflowSourceOf(id);
      return name ? loaded.has(name) : !scope.filtered || read.has(id);
    })
    .sort();
}

/**
 * Adds `ingest.<source> >> load.<source>` for every source the scope reads (every source when
 * nothing is selected), then `freshness.<source>` (`dataflow freshness --select source:<name>`)
 * for a source with a `freshness:` rule, and `source_tests.<source>` when tests are attached to
 * that source only, chained in that order after the load. The last of the chain gates the nodes
 * that read the source, so a source past `error_after` (exit 3) stops its models.
 *
 * @example
 * planSourceTasks(graph, config, scope, inputs, table).loadTask.get('orders')?.taskId; // 'load.orders'
 */
export function planSourceTasks(
  graph: CompiledGraph,
  config: ProjectConfig,
  scope: DagScope,
  inputs: GraphInputs,
  table: TaskTable,
): SourceTasks {
  const sourceTests = testsOfSourcesOnly(scope, inputs);
  const wanted = new Set<string>(scope.filtered ? [] : Object.keys(config.sources));
  for (const m of [...scope.models, ...scope.snapshots])
    for (const i of inputs.inputsOf(m)) if (i.kind === 'source') wanted.add(i.id);
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
  // The last task of each source's chain (load, freshness, source tests), by name or unique id.
  const gateOf = new Map<string, AirflowTask>();
  const chain = (source: string, task: AirflowTask) => {
    const name = inputs.dataflowSourceOf(source);
    const before = gateOf.get(name ?? source) ?? (name ? loadTask.get(name) : undefined);
    if (before) task.upstream.push(before.taskId);
    gateOf.set(name ?? source, task);
  };
  const taskName = (n: SourceNode) => inputs.dataflowSourceOf(n.uniqueId) ?? `${n.sourceName}_${n.tableName}`;
  for (const source of freshnessSources(graph, scope, inputs, new Set(loadTask.keys()))) {
    const n = inputs.node(source) as SourceNode;
    const args = ['--select', `source:${n.sourceName}.${n.tableName}`];
    chain(
      source,
      table.add({ kind: 'freshness', command: 'freshness', args, node: source, dated: false }, taskName(n)),
    );
  }
  for (const [source, ids] of [...sourceTests].sort(([a], [b]) => a.localeCompare(b))) {
    const n = inputs.node(source) as SourceNode;
    const args = ['--select', `source:${n.sourceName}.${n.tableName}`];
    const task = table.add({ kind: 'source_test', command: 'test', args, node: source }, taskName(n));
    task.tests = [...ids].sort();
    chain(source, task);
  }
  return { loadTask, gateOf, sourceOwned: new Set([...sourceTests.values()].flat()) };
}
