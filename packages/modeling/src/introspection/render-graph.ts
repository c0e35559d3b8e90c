import { isConnectionLost } from '@dataflow/pg';
import type pg from 'pg';
import type { CompiledGraph, GraphNode, ModelNode, TestNode } from '../graph.js';
import type { BuildRenderer } from './build-renderer.js';
import { createPgIntrospector } from './pg-introspector.js';

/** What {@link renderGraph} gives. */
export interface RenderedGraph {
  /** The graph with each Jinja model's and each pending test's SQL as rendered with `execute` true. */
  graph: CompiledGraph;
  /** How many nodes were rendered again. */
  rendered: number;
  /** Nodes whose render failed (they keep their offline SQL), with the render's message. */
  problems: Array<{ node: string; file?: string; message: string }>;
}

/** An incremental model renders `is_incremental()` true when its table exists, as dbt compile does. */
async function isIncremental(db: pg.Pool, node: ModelNode): Promise<boolean> {
  if (node.config.materialized !== 'incremental' || node.config.fullRefresh === true) return false;
  const [answer] = await createPgIntrospector(db)([
    { kind: 'relation', schema: node.relation.schema, identifier: node.relation.identifier },
  ]);
  return (answer as { type?: string } | null)?.type === 'table';
}

async function renderNode(
  db: pg.Pool,
  renderer: BuildRenderer,
  node: GraphNode,
  signal: AbortSignal | undefined,
): Promise<GraphNode | undefined> {
  const options = signal ? { signal } : {};
  if (node.resourceType === 'model') {
    if (node.config.materialized === 'ephemeral' || !renderer.renders(node.uniqueId)) return undefined;
    const incremental = await isIncremental(db, node);
    const { sql } = await renderer.render(node.uniqueId, incremental, createPgIntrospector(db), options);
    return { ...node, compiledSql: sql } satisfies ModelNode;
  }
  if (node.resourceType === 'test' && node.compiled.pending) {
    const { compiled } = await renderer.renderTest(node.uniqueId, createPgIntrospector(db), options);
    return { ...node, compiled } satisfies TestNode;
  }
  return undefined;
}

/**
 * dbt's `compile` against a reachable warehouse: every Jinja model (and every test whose SQL
 * compile left pending) rendered again with `execute` true, its questions (`run_query`,
 * `get_columns_in_relation`…) answered by `db` as the warehouse is now. Nothing is built. A render
 * that fails is listed in `problems` and its node keeps the offline SQL; a lost connection rejects.
 *
 * @example
 * const { graph: live, problems } = await renderGraph(graph, compiled.renderer, pool);
 * await writeArtifacts('target', live);
 */
export async function renderGraph(
  graph: CompiledGraph,
  renderer: BuildRenderer,
  db: pg.Pool,
  options: { signal?: AbortSignal } = {},
): Promise<RenderedGraph> {
  const nodes: Record<string, GraphNode> = { ...graph.nodes };
  const problems: RenderedGraph['problems'] = [];
  let rendered = 0;
  for (const node of Object.values(graph.nodes)) {
    options.signal?.throwIfAborted();
    try {
      const fresh = await renderNode(db, renderer, node, options.signal);
      if (!fresh) continue;
      nodes[node.uniqueId] = fresh;
      rendered += 1;
    } catch (error) {
      // Template errors carry a code (COMPILE_FAILED); a query's error its SQLSTATE: both are the node's.
      const code = (error as { code?: unknown }).code;
      if (!(error instanceof Error) || code === undefined || isConnectionLost(error)) throw error;
      problems.push({
        node: node.uniqueId,
        ...(node.file ? { file: node.file } : {}),
        message: error.message,
      });
    }
  }
  return { graph: { ...graph, nodes }, rendered, problems };
}
