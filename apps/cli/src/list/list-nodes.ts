import {
  type CompiledGraph,
  type GraphNode,
  type SelectionState,
  selectNodes,
  selectSources,
} from '@dataflow/modeling';

/** What `dataflow ls --resource-type` accepts (`all` = every type). */
export const LIST_RESOURCE_TYPES = [
  'model',
  'seed',
  'snapshot',
  'test',
  'unit_test',
  'source',
  'all',
] as const;
export type ListResourceType = (typeof LIST_RESOURCE_TYPES)[number];

/** What `dataflow ls --output` prints per node. */
export const LIST_OUTPUTS = ['selector', 'name', 'path', 'json'] as const;
export type ListOutput = (typeof LIST_OUTPUTS)[number];

/** Options of {@link listNodes}. */
export interface ListOptions {
  select?: string[];
  exclude?: string[];
  resourceTypes?: ListResourceType[];
  state?: SelectionState;
}

/**
 * The nodes `dataflow ls` lists: dbt's selection (tests by indirect selection), plus the sources
 * a selector names (all of them without `--select`), filtered by resource type, by unique id. Pure.
 *
 * @example
 * listNodes(graph, { select: ['stg_orders+'], resourceTypes: ['model'] }); // ['model.shop.orders', 'model.shop.stg_orders']
 */
export function listNodes(graph: CompiledGraph, options: ListOptions = {}): string[] {
  const { select, exclude, state } = options;
  const types = new Set<string>(options.resourceTypes ?? ['all']);
  const nodes = selectNodes(graph, {
    ...(select?.length ? { select } : {}),
    ...(exclude?.length ? { exclude } : {}),
    ...(state ? { state } : {}),
  });
  const excludedSources = new Set(exclude?.length ? selectSources(graph, exclude, state) : []);
  const sources = selectSources(graph, select?.length ? select : undefined, state).filter(
    (id) => !excludedSources.has(id),
  );
  return [...nodes, ...sources]
    .filter((id) => types.has('all') || types.has(graph.nodes[id]?.resourceType ?? ''))
    .sort();
}

/**
 * One output line for a listed node: `selector` (dbt's default: the fqn, `source:` for sources),
 * `name`, `path` (the file that defines it, '' when none), or `json` (one object per line). Pure.
 *
 * @example
 * listLine(graph.nodes['model.shop.orders'], 'selector'); // 'shop.marts.orders'
 */
export function listLine(node: GraphNode, output: ListOutput): string {
  switch (output) {
    case 'name':
      return node.resourceType === 'source' ? `${node.sourceName}.${node.tableName}` : node.name;
    case 'path':
      return node.file ?? '';
    case 'selector':
      return node.resourceType === 'source'
        ? `source:${node.packageName}.${node.sourceName}.${node.tableName}`
        : node.fqn.join('.');
    case 'json':
      return JSON.stringify({
        name: node.name,
        resource_type: node.resourceType,
        package_name: node.packageName,
        unique_id: node.uniqueId,
        original_file_path: node.file ?? null,
        depends_on: { nodes: node.dependsOn },
        tags: node.tags,
        ...(node.resourceType === 'model' ? { config: { materialized: node.config.materialized } } : {}),
        ...('relation' in node ? { relation_name: node.relation.sql } : {}),
      });
  }
}
