import { withClient } from '@dataflow/pg';
import { compileGenericTest, runTest, type TestResult } from '@dataflow/quality';
import type pg from 'pg';
import { ModelingError } from '../errors.js';
import type { CompiledGraph, SourceNode } from '../graph.js';
import type { Logger } from '../materialize.js';
import { selectSources } from '../select.js';
import { type FreshnessCriteria, freshnessCriteria, planFreshnessAge } from './criteria.js';

/** dbt's source freshness statuses. */
export type FreshnessStatus = 'pass' | 'warn' | 'error' | 'runtime error';

/** The freshness of one source table. */
export interface FreshnessResult {
  uniqueId: string;
  sourceName: string;
  tableName: string;
  /** Quoted relation. */
  relation: string;
  status: FreshnessStatus;
  /** ISO time of the newest `loaded_at_field` (null: no rows, which counts as stale). */
  maxLoadedAt: string | null;
  /** ISO time of the check. */
  snapshottedAt: string | null;
  ageSeconds: number | null;
  criteria?: FreshnessCriteria;
  /** Why a status is not `pass`: the criteria passed, or the error. */
  message?: string;
  /** The `freshness` data test of `@dataflow/quality` that decided the status. */
  test?: TestResult;
  startedAt: string;
  durationMs: number;
}

/** Options of {@link evaluateFreshness}. */
export interface FreshnessOptions {
  /** dbt selectors naming sources (`source:raw`, `source:raw.orders`); default every source with a freshness rule. */
  select?: string[];
  logger?: Logger;
  signal?: AbortSignal;
}

const describe = (c: FreshnessCriteria) =>
  [
    c.warnAfter ? `warn after ${c.warnAfter.count} ${c.warnAfter.period}(s)` : '',
    c.errorAfter ? `error after ${c.errorAfter.count} ${c.errorAfter.period}(s)` : '',
  ]
    .filter(Boolean)
    .join(', ');

/** The `freshness` generic test of `@dataflow/quality` for this source (status and failing-row sample). */
function freshnessTest(node: SourceNode, criteria: FreshnessCriteria) {
  return compileGenericTest(
    {
      test: 'freshness',
      model: `${node.sourceName}_${node.tableName}`,
      column: criteria.loadedAtField,
      args: {
        ...(criteria.warnAfter ? { warn_after: criteria.warnAfter } : {}),
        ...(criteria.errorAfter ? { error_after: criteria.errorAfter } : {}),
      },
      config: { severity: 'error', ...(criteria.filter ? { where: criteria.filter } : {}) },
      targetType: 'source',
    },
    {
      relation: node.relation.sql,
      resolve: () => {
        throw new TypeError('freshness reads only its own relation');
      },
    },
  );
}

const STATUS: Record<TestResult['status'], FreshnessStatus> = {
  pass: 'pass',
  warn: 'warn',
  fail: 'error',
  error: 'runtime error',
};

async function evaluateOne(
  client: pg.PoolClient,
  node: SourceNode,
  options: FreshnessOptions,
): Promise<FreshnessResult> {
  const started = Date.now();
  const base = {
    uniqueId: node.uniqueId,
    sourceName: node.sourceName,
    tableName: node.tableName,
    relation: node.relation.sql,
    startedAt: new Date(started).toISOString(),
  };
  const empty = { maxLoadedAt: null, snapshottedAt: null, ageSeconds: null };
  const resolved = freshnessCriteria(node);
  if (!resolved?.criteria)
    return {
      ...base,
      ...empty,
      status: 'runtime error',
      message: resolved?.problem ?? 'no freshness rule',
      durationMs: 0,
    };
  const { criteria } = resolved;
  try {
    const test = await runTest(client, freshnessTest(node, criteria), {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    if (test.status === 'error')
      return {
        ...base,
        ...empty,
        status: 'runtime error',
        criteria,
        message: test.message ?? 'error',
        test,
        durationMs: Date.now() - started,
      };
    const age = (
      await client.query<{ max_loaded_at: Date | null; snapshotted_at: Date }>(
        planFreshnessAge(node.relation.sql, criteria),
      )
    ).rows[0];
    const maxLoadedAt = age?.max_loaded_at ?? null;
    const snapshottedAt = age?.snapshotted_at ?? new Date();
    const status = STATUS[test.status];
    return {
      ...base,
      status,
      maxLoadedAt: maxLoadedAt?.toISOString() ?? null,
      snapshottedAt: snapshottedAt.toISOString(),
      ageSeconds: maxLoadedAt ? Math.floor((snapshottedAt.getTime() - maxLoadedAt.getTime()) / 1000) : null,
      criteria,
      ...(status === 'pass'
        ? {}
        : {
            message: maxLoadedAt ? `older than allowed (${describe(criteria)})` : 'no rows (counts as stale)',
          }),
      test,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    return {
      ...base,
      ...empty,
      status: 'runtime error',
      criteria,
      message: error instanceof Error ? error.message : String(error),
      durationMs: Date.now() - started,
    };
  }
}

/**
 * dbt's `source freshness`: every selected source with a `freshness` rule (`warn_after` /
 * `error_after`, `filter`, `loaded_at_field`) is checked by `@dataflow/quality`'s `freshness` test
 * (no rows counts as stale) and reported with its newest load time and age. A source whose rule is
 * malformed, lacks `loaded_at_field` or cannot be queried is a `runtime error` result, not a throw.
 * Sources run one after another on one pooled connection.
 *
 * @example
 * const results = await evaluateFreshness(pool, graph, { select: ['source:raw'] });
 * results.map((r) => [r.sourceName, r.tableName, r.status, r.ageSeconds]); // [['raw', 'orders', 'warn', 100800]]
 */
export async function evaluateFreshness(
  pool: pg.Pool,
  graph: CompiledGraph,
  options: FreshnessOptions = {},
): Promise<FreshnessResult[]> {
  // A source without a rule (or whose windows are all `count: null`) is not checked, as in dbt.
  const ids = selectSources(graph, options.select).filter(
    (id) => freshnessCriteria(graph.nodes[id] as SourceNode) !== undefined,
  );
  if (ids.length === 0) return [];
  return withClient(pool, async (client) => {
    const out: FreshnessResult[] = [];
    for (const id of ids) {
      if (options.signal?.aborted)
        throw new ModelingError('ABORTED', 'freshness aborted', { cause: options.signal.reason });
      out.push(await evaluateOne(client, graph.nodes[id] as SourceNode, options));
    }
    return out;
  });
}
