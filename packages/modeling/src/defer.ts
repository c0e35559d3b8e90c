import { qualify } from '@dataflow/pg';
import type pg from 'pg';
import type { CompiledGraph, GraphNode, RelationInfo } from './graph.js';
import type { BuildRenderer } from './introspection/build-renderer.js';
import type { StateManifest } from './state.js';

/** One unselected parent and where it is read from instead. */
export interface DeferredRelation {
  uniqueId: string;
  /** The relation in the current target (missing, or passed over with `favorState`). */
  from: RelationInfo;
  /** The relation the previous manifest names. */
  to: RelationInfo;
}

const isEphemeral = (n: GraphNode | undefined) =>
  n?.resourceType === 'model' && n.config.materialized === 'ephemeral';
const builtRelation = (n: GraphNode | undefined): n is Extract<GraphNode, { relation: RelationInfo }> =>
  n !== undefined &&
  (n.resourceType === 'model' || n.resourceType === 'seed' || n.resourceType === 'snapshot');

/**
 * The unselected parents a deferred build may read from the previous state: models (not
 * ephemeral: their SQL is inlined, so their own parents count), seeds and snapshots that selected
 * nodes read and that the previous manifest knows with a relation different from the current
 * one. Pure.
 *
 * @example
 * deferCandidates(graph, ['model.shop.orders'], previous); // [{ uniqueId: 'model.shop.stg_orders', from, to }]
 */
export function deferCandidates(
  graph: CompiledGraph,
  selected: Iterable<string>,
  previous: StateManifest,
): DeferredRelation[] {
  const inBuild = new Set(selected);
  const out = new Map<string, DeferredRelation>();
  const seen = new Set<string>();
  const stack = [...inBuild].flatMap((id) => graph.nodes[id]?.dependsOn ?? []);
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (seen.has(id) || inBuild.has(id)) continue;
    seen.add(id);
    const node = graph.nodes[id];
    if (isEphemeral(node)) {
      stack.push(...(node?.dependsOn ?? []));
      continue;
    }
    if (!builtRelation(node)) continue;
    const to = previous.nodes[id]?.relation;
    if (to && to.sql !== node.relation.sql) out.set(id, { uniqueId: id, from: node.relation, to });
  }
  return [...out.values()].sort((a, b) => a.uniqueId.localeCompare(b.uniqueId));
}

/**
 * dbt ≥ 1.5's rule: a candidate is deferred when its relation is missing in the current target
 * (`existing` holds the quoted relations that exist), or always with `favorState`. Pure.
 *
 * @example
 * chooseDeferred(candidates, new Set(['"ci"."stg_orders"']), false); // the others
 */
export function chooseDeferred(
  candidates: DeferredRelation[],
  existing: ReadonlySet<string>,
  favorState: boolean,
): DeferredRelation[] {
  return favorState ? candidates : candidates.filter((c) => !existing.has(c.from.sql));
}

/**
 * Which of `relations` exist (tables, views, materialized views, partitioned tables), as their
 * quoted `schema.identifier`.
 *
 * @example
 * await existingRelations(pool, candidates.map((c) => c.from)); // Set { '"ci"."stg_orders"' }
 */
export async function existingRelations(
  pool: pg.Pool | pg.PoolClient,
  relations: RelationInfo[],
): Promise<Set<string>> {
  if (relations.length === 0) return new Set();
  const { rows } = await pool.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p', 'v', 'm', 'f')
  and (n.nspname, c.relname) in (select * from unnest($1::text[], $2::text[]))`,
    [relations.map((r) => r.schema), relations.map((r) => r.identifier)],
  );
  return new Set(rows.map((r) => qualify(r.schema, r.name)));
}

/**
 * A copy of the graph in which the SQL of `selected` nodes reads each deferred parent from its
 * previous relation: every occurrence of the quoted current relation (exactly what `ref()`
 * renders) is replaced. The parents' own nodes keep their relation, so they are never built or
 * written to. Pure.
 *
 * @example
 * const deferredGraph = applyDefer(graph, plan.order, chooseDeferred(candidates, existing, false));
 */
export function applyDefer(
  graph: CompiledGraph,
  selected: Iterable<string>,
  deferred: DeferredRelation[],
): CompiledGraph {
  if (deferred.length === 0) return graph;
  const swap = relationSwap(deferred);
  const nodes = { ...graph.nodes };
  for (const id of selected) {
    const node = nodes[id];
    if (!node) continue;
    if (node.resourceType === 'model')
      nodes[id] = {
        ...node,
        compiledSql: swap(node.compiledSql),
        ...(node.incrementalSql !== undefined ? { incrementalSql: swap(node.incrementalSql) } : {}),
      };
    else if (node.resourceType === 'snapshot') nodes[id] = { ...node, compiledSql: swap(node.compiledSql) };
    else if (node.resourceType === 'test')
      nodes[id] = {
        ...node,
        compiled: { ...node.compiled, sql: swap(node.compiled.sql) },
        ...(node.sqlTemplate !== undefined ? { sqlTemplate: swap(node.sqlTemplate) } : {}),
      };
  }
  return { ...graph, nodes };
}

/** Rewrites the current-target relation names of deferred parents to their state relations. */
function relationSwap(deferred: readonly DeferredRelation[]): (sql: string) => string {
  return (sql) => deferred.reduce((text, d) => text.replaceAll(d.from.sql, d.to.sql), sql);
}

/**
 * The build-time renderer with the same swap as {@link applyDefer}: a Jinja model rendered again
 * with `execute` true (its `ref()`s resolved from the compile's name table) reads the deferred
 * parents too.
 *
 * @example
 * build(pool, applyDefer(graph, selected, deferred), { renderer: deferRenderer(renderer, deferred) });
 */
export function deferRenderer(renderer: BuildRenderer, deferred: readonly DeferredRelation[]): BuildRenderer {
  if (deferred.length === 0) return renderer;
  const swap = relationSwap(deferred);
  return {
    renders: (nodeId) => renderer.renders(nodeId),
    async render(nodeId, isIncremental, introspect, options) {
      const result = await renderer.render(nodeId, isIncremental, introspect, options);
      return { ...result, sql: swap(result.sql) };
    },
    rendersTest: (nodeId) => renderer.rendersTest?.(nodeId) ?? false,
    async renderTest(nodeId, introspect, options) {
      if (!renderer.renderTest) throw new TypeError(`no build-time render for ${nodeId}`);
      return swap(await renderer.renderTest(nodeId, introspect, options));
    },
  };
}
