import type { CompiledGraph, GraphNode } from '@dataflow/modeling';
import type { DagScope, GraphInputs } from './graph-inputs.js';
import type { NodeTasks } from './node-tasks.js';
import { selectorFor } from './selectors.js';
import type { TaskTable } from './task-table.js';
import type { AirflowTask } from './types.js';

/**
 * Gives every test in scope (but those a `source_tests` task runs) to one task: the build of the
 * node it is attached to when every other input of the test is upstream of it, else the build of
 * another parent for which that holds, else its own `tests.<test>` task downstream of all its
 * inputs (Cosmos' detached multi-parent tests).
 *
 * @example
 * assignTests(graph, scope, inputs, nodes, table, sources.sourceOwned);
 */
export function assignTests(
  graph: CompiledGraph,
  scope: DagScope,
  inputs: GraphInputs,
  nodes: NodeTasks,
  table: TaskTable,
  sourceOwned: ReadonlySet<string>,
): void {
  // Runners: tasks whose `--select` picks the test up (a model or seed it reads).
  const runnerOf = (id: string): AirflowTask | undefined => {
    const type = graph.nodes[id]?.resourceType;
    if (type === 'model') return nodes.modelTaskOf.get(id);
    return type === 'seed' && scope.scope.has(id) ? nodes.seedTask : undefined;
  };
  const detached: Array<{ test: string; upstream: string[] }> = [];
  for (const t of scope.tests) {
    if (sourceOwned.has(t)) continue;
    const n = inputs.node(t) as Extract<GraphNode, { resourceType: 'test' }>;
    const parentTasks = new Set<AirflowTask>();
    for (const i of inputs.inputsOf(t)) {
      const p = nodes.producer(i, true);
      if (p) parentTasks.add(p);
    }
    const candidates = [
      ...(n.attachedNode ? [runnerOf(n.attachedNode)] : []),
      ...[...n.dependsOn].sort().map(runnerOf),
    ].filter((c): c is AirflowTask => c !== undefined);
    const owner = candidates.find((c) =>
      [...parentTasks].every((p) => p === c || table.ancestorsOf(c.taskId).has(p.taskId)),
    );
    if (owner) owner.tests.push(t);
    else detached.push({ test: t, upstream: [...parentTasks].map((p) => p.taskId).sort() });
  }
  for (const d of detached) {
    const args = ['--select', selectorFor(graph, d.test)];
    const task = table.add({ kind: 'test', command: 'test', args, node: d.test }, inputs.node(d.test).name);
    task.upstream = d.upstream;
    task.tests = [d.test];
  }
}
