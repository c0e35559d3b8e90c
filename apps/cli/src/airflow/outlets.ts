import type { CompiledGraph } from '@dataflow/modeling';
import { tableOf } from '../config/checks.js';
import type { ProjectConfig } from '../config/schema.js';
import type { AirflowTask, TableRef } from './types.js';

/**
 * The tables a task publishes, for its `outlets`: a load its raw table (in the warehouse
 * schema), a model build its relation (views included: a downstream DAG reads them too), a
 * snapshot its SCD2 table, the seed task the seeds in scope. Other tasks (ingest, tests) publish no table. Pure.
 *
 * @example
 * tableOutlets(graph, config, loadTask, []); // [{ schema: 'analytics', table: 'raw_orders' }]
 */
export function tableOutlets(
  graph: CompiledGraph,
  config: ProjectConfig,
  task: Pick<AirflowTask, 'kind' | 'node'>,
  seedsInScope: readonly string[],
): TableRef[] {
  const relationOf = (id: string): TableRef[] => {
    const node = graph.nodes[id];
    return node && 'relation' in node
      ? [{ schema: node.relation.schema, table: node.relation.identifier }]
      : [];
  };
  switch (task.kind) {
    case 'load': {
      const source = config.sources[task.node];
      return source ? [{ schema: config.warehouse.schema, table: tableOf(task.node, source) }] : [];
    }
    case 'model':
    case 'snapshot':
      return relationOf(task.node);
    case 'seed':
      return seedsInScope.flatMap(relationOf);
    default:
      return [];
  }
}
