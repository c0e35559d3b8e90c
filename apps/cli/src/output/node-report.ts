import { join } from 'node:path';
import { type CompiledGraph, compiledPath, type GraphNode, type NodeResult } from '@dataflow/modeling';
import type { FailureInput } from './failure-block.js';
import type { NodeReport } from './reporter.js';

const isTestType = (t: string) => t === 'test' || t === 'unit_test';

/** What a node counts as in `Finished running …`: `table model`, `seed`, `data test`, `unit test`. */
function kindOf(node: GraphNode | undefined, r: NodeResult): string {
  if (r.resourceType === 'test') return 'data test';
  if (r.resourceType === 'unit_test') return 'unit test';
  if (node?.resourceType === 'model') return `${node.config.materialized} model`;
  return r.resourceType;
}

/** The compiled-SQL path a failing data test is shown with (relative to the project). */
export function testSqlPath(graph: CompiledGraph, node: GraphNode | undefined, targetPath: string) {
  if (node?.resourceType !== 'test') return undefined;
  const rel = compiledPath(graph, node);
  return rel ? join(targetPath, rel) : undefined;
}

/** The failure block of a result that failed or warned; undefined when it passed or was skipped. */
function failureOf(
  r: NodeResult,
  node: GraphNode | undefined,
  sqlPath: string | undefined,
): FailureInput | undefined {
  const status = r.test?.status ?? r.status;
  if (status !== 'fail' && status !== 'error' && status !== 'warn') return undefined;
  const level = status === 'warn' ? 'warn' : 'error';
  const base = { level, name: r.name, file: node?.file, message: r.test?.message ?? r.message } as const;
  if (r.resourceType === 'test') {
    return {
      ...base,
      kind: 'test',
      failures: r.test?.failures,
      severity: r.test?.severity,
      sample: r.test?.sample,
      compiledPath: sqlPath,
    };
  }
  if (r.resourceType === 'unit_test') return { ...base, kind: 'unit_test' };
  return { ...base, kind: r.resourceType };
}

/**
 * A modeling node result as the reporter shows it: its dbt line (materialization and file from
 * the compiled graph) and, for a failing or warning node, its failure block with the path of its
 * compiled SQL (`sqlPath`, when it was written). Pure.
 *
 * @example
 * nodeReport(result, graph, 'target/compiled/shop/models/schema.yml/unique_orders_id.sql');
 */
export function nodeReport(r: NodeResult, graph: CompiledGraph, sqlPath?: string): NodeReport {
  const node = graph.nodes[r.uniqueId];
  const test = r.test;
  return {
    uniqueId: r.uniqueId,
    kind: kindOf(node, r),
    line: {
      resourceType: r.resourceType as NodeReport['line']['resourceType'],
      status: test ? (test.status === 'error' ? 'error' : test.status) : r.status,
      name: r.name,
      relation: r.relation,
      materialized: node?.resourceType === 'model' ? node.config.materialized : undefined,
      rows: isTestType(r.resourceType) ? undefined : r.rows,
      durationMs: r.durationMs,
      failures: test?.failures,
      action: r.action,
    },
    failure: failureOf(r, node, sqlPath),
  };
}
