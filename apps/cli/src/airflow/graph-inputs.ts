import { type CompiledGraph, type GraphNode, qualify, selectNodes } from '@dataflow/modeling';
import { tableOf } from '../config/checks.js';
import type { ProjectConfig } from '../config/schema.js';
import { CliError } from '../errors.js';

/** What the DAG covers: the nodes `dataflow build` with the same selection would run. */
export interface DagScope {
  scope: ReadonlySet<string>;
  /** A `--select` / `--exclude` was given (else every source gets ingest + load tasks). */
  filtered: boolean;
  /** Non-ephemeral models, seeds, snapshots and tests in scope, each sorted. */
  models: string[];
  seeds: string[];
  snapshots: string[];
  tests: string[];
  /** Every seed of the project is in scope (one `resource_type:seed` selector covers them). */
  allSeeds: boolean;
}

/** An input of a node: a `dataflow.yml` source (by name) or another node (by unique id). */
export interface Input {
  kind: 'source' | 'node';
  id: string;
}

/** How nodes read each other and the raw tables, looking through ephemeral models. */
export interface GraphInputs {
  node(id: string): GraphNode;
  isEphemeral(id: string): boolean;
  /** The `dataflow.yml` source loading a source node's relation, if any. */
  dataflowSourceOf(id: string): string | undefined;
  /** The inputs of a node: dataflow sources by name, other nodes by id (ephemeral models see-through). */
  inputsOf(id: string): Input[];
}

/**
 * The scope of the DAG for a selection. A bad selector is a usage error (exit 2).
 *
 * @example
 * dagScope(graph, ['stg_orders+'], []).models; // ['model.shop.fct_orders', 'model.shop.stg_orders']
 */
export function dagScope(
  graph: CompiledGraph,
  select: readonly string[],
  exclude: readonly string[],
): DagScope {
  const node = (id: string) => graph.nodes[id] as GraphNode;
  let scope: Set<string>;
  try {
    scope = new Set(
      selectNodes(graph, {
        ...(select.length ? { select: [...select] } : {}),
        ...(exclude.length ? { exclude: [...exclude] } : {}),
      }),
    );
  } catch (error) {
    throw new CliError('USAGE', (error as Error).message, { cause: error });
  }
  const ofType = (type: GraphNode['resourceType']) =>
    [...scope].filter((id) => node(id).resourceType === type);
  const seeds = ofType('seed').sort();
  return {
    scope,
    filtered: select.length > 0 || exclude.length > 0,
    models: ofType('model')
      .filter((id) => !isEphemeralNode(node(id)))
      .sort(),
    seeds,
    snapshots: ofType('snapshot').sort(),
    tests: ofType('test').sort(),
    allSeeds: seeds.length === Object.values(graph.nodes).filter((n) => n.resourceType === 'seed').length,
  };
}

const isEphemeralNode = (n: GraphNode) => n.resourceType === 'model' && n.config.materialized === 'ephemeral';

/**
 * Reads the inputs of every node: graph edges, plus the raw tables a model names in its SQL
 * (`ref('raw_orders')` records no edge: the raw tables are external relations). Memoised.
 *
 * @example
 * graphInputs(graph, config).inputsOf('model.shop.stg_orders'); // [{ kind: 'source', id: 'orders' }]
 */
export function graphInputs(graph: CompiledGraph, config: ProjectConfig): GraphInputs {
  const node = (id: string) => graph.nodes[id] as GraphNode;
  const sourceByRelation = new Map<string, string>();
  for (const [name, source] of Object.entries(config.sources))
    sourceByRelation.set(qualify(config.warehouse.schema, tableOf(name, source)), name);
  const dataflowSourceOf = (id: string) => {
    const n = node(id);
    return n.resourceType === 'source' ? sourceByRelation.get(n.relation.sql) : undefined;
  };
  const rawReadsOf = (id: string): string[] => {
    const n = node(id);
    if (n.resourceType === 'snapshot') return readsIn(n.compiledSql);
    if (n.resourceType !== 'model') return [];
    return readsIn(`${n.compiledSql}\n${n.incrementalSql ?? ''}`);
  };
  const readsIn = (text: string): string[] =>
    [...sourceByRelation].filter(([rel]) => text.includes(rel)).map(([, name]) => name);
  const memo = new Map<string, Input[]>();
  const visiting = new Set<string>(); // compile rejects cycles; this only keeps a bad graph finite
  const inputsOf = (id: string): Input[] => {
    const known = memo.get(id);
    if (known) return known;
    const out: Input[] = rawReadsOf(id).map((name) => ({ kind: 'source', id: name }));
    visiting.add(id);
    for (const dep of node(id).dependsOn) {
      const d = graph.nodes[dep];
      if (!d) continue;
      const name = d.resourceType === 'source' ? dataflowSourceOf(dep) : undefined;
      if (name) out.push({ kind: 'source', id: name });
      else if (isEphemeralNode(d)) {
        if (!visiting.has(dep)) out.push(...inputsOf(dep));
      } else out.push({ kind: 'node', id: dep });
    }
    visiting.delete(id);
    memo.set(id, out);
    return out;
  };
  return { node, isEphemeral: (id) => isEphemeralNode(node(id)), dataflowSourceOf, inputsOf };
}
