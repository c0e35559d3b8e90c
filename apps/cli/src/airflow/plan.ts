import type { CompiledGraph } from '@dataflow/modeling';
import type { ProjectConfig } from '../config/schema.js';
import { dagScope, graphInputs } from './graph-inputs.js';
import { planNodeTasks } from './node-tasks.js';
import { tableOutlets } from './outlets.js';
import { pinSelections } from './selectors.js';
import { planSourceTasks } from './source-tasks.js';
import { createTaskTable, sanitizeTaskId } from './task-table.js';
import { assignTests } from './test-owners.js';
import type { AirflowDagOptions, AirflowDagPlan, AirflowTaskKind } from './types.js';

export { sanitizeTaskId } from './task-table.js';
export type { AirflowDagOptions, AirflowDagPlan, AirflowTask, AirflowTaskKind, TableRef } from './types.js';

const KIND_RANK: Record<AirflowTaskKind, number> = {
  ingest: 0,
  load: 1,
  freshness: 2,
  source_test: 3,
  seed: 4,
  snapshot: 5,
  model: 6,
  test: 7,
};

/**
 * Plans a DAG with one task per model of a compiled project, in the style of Astronomer Cosmos.
 * Pure: the graph and config in, the task list out.
 *
 * - `ingest.<source> >> load.<source>` per dataflow.yml source, then `freshness.<source>`
 *   (`dataflow freshness --select source:<name>`) when the source has a `freshness:` rule, then
 *   `source_tests.<source>` (the tests attached to that source only) when it has any; models and
 *   snapshots that read `raw_<source>` (through `source()` or `ref()`) wait for the last of these.
 *   A schema.yml source with a `freshness:` rule and no load gets its `freshness.<source>` task.
 * - `models.<model>`: `dataflow build --select <model>` (the model and its tests, write-audit-publish),
 *   upstream of the models that read it; ephemeral models get no task (their inputs pass through).
 * - `seed`: `dataflow build --select resource_type:seed` (seeds and their tests), upstream of models
 *   that read a seed.
 * - `snapshots.<snapshot>`: `dataflow snapshot --select <snapshot>`, downstream of what it reads and
 *   upstream of the models that read it (dbt's DAG order); its tests run as `tests.<test>` tasks.
 * - A test is run by the task of the node it is attached to when every other input of the test is
 *   upstream of that task (else by the task of another parent for which that holds); a test with no
 *   such parent (e.g. `relationships` between two unrelated models) gets its own `tests.<test>` task
 *   (`dataflow test --select <test>`) downstream of all its inputs. Every test in scope runs exactly
 *   once; a model's build excludes (`--exclude`) the tests another task runs. This is checked here
 *   with the same selection code the CLI uses, so a plan that would skip or repeat a test throws.
 * - Each load, snapshot, model and seed task lists the tables it publishes (`outlets`), which the DAG
 *   declares as Airflow Assets (Datasets on Airflow 2) for data-aware scheduling.
 */
export function planAirflowDag(
  graph: CompiledGraph,
  config: ProjectConfig,
  options: AirflowDagOptions,
): AirflowDagPlan {
  const scope = dagScope(graph, options.select ?? [], options.exclude ?? []);
  const inputs = graphInputs(graph, config);
  const table = createTaskTable();
  const sources = planSourceTasks(graph, config, scope, inputs, table);
  const nodes = planNodeTasks(graph, scope, inputs, sources, table);
  assignTests(graph, scope, inputs, nodes, table, sources.sourceOwned);
  pinSelections(graph, table, scope);
  if (options.targetSchema !== undefined) {
    for (const task of table.tasks.values())
      if (task.command === 'build' || task.command === 'test' || task.command === 'snapshot')
        task.args.push('--target-schema', options.targetSchema);
  }
  for (const task of table.tasks.values()) {
    task.upstream = [...new Set(task.upstream)].sort();
    task.outlets = tableOutlets(graph, config, task, scope.seeds);
  }
  const ordered = [...table.tasks.values()].sort(
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
    testCount: scope.tests.length,
  };
}
