import { runTest, type TestResult } from '@dataflow/quality';
import type pg from 'pg';
import { isRetryableCause, ModelingError } from './errors.js';
import {
  type CompiledGraph,
  type GraphNode,
  type ModelNode,
  RELATION_PLACEHOLDER,
  type SeedNode,
  type TestNode,
} from './graph.js';
import {
  type Logger,
  loadSeedToTemp,
  type MaterializeOutcome,
  materializeModel,
  publishSeed,
} from './materialize.js';
import { selectNodes } from './select.js';

type Runnable = ModelNode | SeedNode | TestNode;

/** Outcome of one node in a build; handed to the run log as-is. */
export interface NodeResult {
  uniqueId: string;
  name: string;
  resourceType: 'model' | 'seed' | 'test';
  status: 'success' | 'error' | 'skipped' | 'pass' | 'warn' | 'fail';
  rows?: number;
  durationMs: number;
  message?: string;
  /** `schema.identifier` of the published relation (models, seeds). */
  relation?: string;
  test?: TestResult;
  startedAt: string;
  /** Tests: true when the test ran against the temp relation before publish (write-audit-publish). */
  audit?: boolean;
  /** Models: what the materialization did (`created`, `swapped`, `replaced`, `merge`, ...). */
  action?: string;
}

/** Options of {@link build}. */
export interface BuildOptions {
  select?: string[];
  exclude?: string[];
  /** Concurrent nodes, each on its own pooled connection. Default 4. */
  threads?: number;
  /** Stop starting new nodes after the first failure; the rest are reported as skipped. */
  failFast?: boolean;
  /** Rebuild incremental models from scratch. */
  fullRefresh?: boolean;
  runId: string;
  /** `['model','seed','test']` (default: `dataflow build`), `['model']` for run, `['test']`, `['seed']`. */
  resourceTypes?: Array<'model' | 'seed' | 'test'>;
  /** Where seed CSVs live when they moved since compile (default: the compiled absolute paths). */
  seedsDir?: string;
  /** Write-audit-publish (default true): error-severity tests gate each publish. */
  audit?: boolean;
  signal?: AbortSignal;
  logger?: Logger;
  onNodeStart?(node: GraphNode): void;
  onNodeResult?(result: NodeResult): void;
}

/** Outcome of {@link build}. */
export interface BuildResult {
  results: NodeResult[];
  /** True when no node errored, failed or was skipped. */
  success: boolean;
  /** True when an error-severity data test failed (the CLI's data-test exit code). */
  hasTestFailures: boolean;
  elapsedMs: number;
}

/** The schedule of a build: which nodes run, what each waits for, which tests run as audits. Pure. */
export interface BuildPlan {
  /** Runnable unique ids in a stable order. */
  order: string[];
  /** Node → nodes (in this build) it waits for. */
  waitsFor: Record<string, string[]>;
  /** Model / seed → error-severity tests run against its temp relation before publish. */
  audits: Record<string, string[]>;
}

function ancestorsOf(graph: CompiledGraph, id: string, memo: Map<string, Set<string>>): Set<string> {
  const cached = memo.get(id);
  if (cached) return cached;
  const out = new Set<string>();
  const stack = [...(graph.parentMap[id] ?? [])];
  while (stack.length > 0) {
    const p = stack.pop() as string;
    if (out.has(p)) continue;
    out.add(p);
    stack.push(...(graph.parentMap[p] ?? []));
  }
  memo.set(id, out);
  return out;
}

/**
 * Plans a build. A test is an audit of its attached model / seed when it is error-severity and
 * every other relation it reads is upstream of that node; other tests run after their parents,
 * and children of a node also wait for that node's error-severity post-publish tests (so a failing
 * `relationships` test skips them), unless that would create a cycle.
 *
 * @example
 * const plan = planBuild(graph, { select: ['+orders'] });
 * plan.order;                          // ['seed.shop.raw_orders', 'model.shop.stg_orders', 'model.shop.orders', ...]
 * plan.audits['model.shop.orders'];    // error-severity tests run against the temp relation
 */
export function planBuild(
  graph: CompiledGraph,
  options: Pick<BuildOptions, 'select' | 'exclude' | 'resourceTypes' | 'audit'> = {},
): BuildPlan {
  const types = new Set(options.resourceTypes ?? ['model', 'seed', 'test']);
  const selected = selectNodes(graph, {
    ...(options.select ? { select: options.select } : {}),
    ...(options.exclude ? { exclude: options.exclude } : {}),
  }).filter((id) => {
    const n = graph.nodes[id] as GraphNode;
    if (n.resourceType === 'source' || !types.has(n.resourceType)) return false;
    return !(n.resourceType === 'model' && n.config.materialized === 'ephemeral');
  });
  const inBuild = new Set(selected);
  const memo = new Map<string, Set<string>>();
  const audits: Record<string, string[]> = {};
  const postTests: TestNode[] = [];
  const useAudit = options.audit !== false;
  for (const id of selected) {
    const n = graph.nodes[id] as GraphNode;
    if (n.resourceType !== 'test') continue;
    const host = n.attachedNode ? graph.nodes[n.attachedNode] : undefined;
    if (
      useAudit &&
      n.severity === 'error' &&
      // Only a test compiled with the placeholder token can be pointed at the temp relation.
      n.sqlTemplate?.includes(RELATION_PLACEHOLDER) &&
      host &&
      inBuild.has(host.uniqueId) &&
      (host.resourceType === 'model' || host.resourceType === 'seed')
    ) {
      const up = ancestorsOf(graph, host.uniqueId, memo);
      if (n.dependsOn.every((d) => d === host.uniqueId || up.has(d))) {
        audits[host.uniqueId] = [...(audits[host.uniqueId] ?? []), id];
        continue;
      }
    }
    postTests.push(n);
  }
  const auditIds = new Set(Object.values(audits).flat());
  const order = topologicalOrder(
    graph,
    selected.filter((id) => !auditIds.has(id)),
  );
  const waitsFor: Record<string, string[]> = {};
  for (const id of order) {
    const n = graph.nodes[id] as GraphNode;
    waitsFor[id] = n.dependsOn.filter((d) => inBuild.has(d));
  }
  // Ephemeral parents are not run: wait for their (transitive) parents instead.
  for (const id of order) {
    const expanded = new Set<string>();
    const stack = [...(graph.nodes[id] as GraphNode).dependsOn];
    while (stack.length > 0) {
      const d = stack.pop() as string;
      const dn = graph.nodes[d];
      if (dn?.resourceType === 'model' && dn.config.materialized === 'ephemeral') stack.push(...dn.dependsOn);
      else if (inBuild.has(d) && !auditIds.has(d)) expanded.add(d);
    }
    waitsFor[id] = [...expanded].sort();
  }
  for (const t of postTests) {
    if (t.severity !== 'error' || !t.attachedNode) continue;
    for (const child of graph.childMap[t.attachedNode] ?? []) {
      if (!waitsFor[child] || (graph.nodes[child] as GraphNode).resourceType === 'test') continue;
      // The child must not be (an ancestor of) something the test reads, or we would deadlock.
      const blocks = t.dependsOn.some((d) => d === child || ancestorsOf(graph, d, memo).has(child));
      if (!blocks) waitsFor[child]?.push(t.uniqueId);
    }
  }
  return { order, waitsFor, audits };
}

/** Kahn's algorithm over the build's nodes; ties keep the given (sorted) order. */
function topologicalOrder(graph: CompiledGraph, ids: string[]): string[] {
  const inSet = new Set(ids);
  const indegree = new Map(ids.map((id) => [id, 0]));
  const ancestorsInSet = (id: string): string[] => {
    const out = new Set<string>();
    const stack = [...(graph.parentMap[id] ?? [])];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const p = stack.pop() as string;
      if (seen.has(p)) continue;
      seen.add(p);
      if (inSet.has(p)) out.add(p);
      else stack.push(...(graph.parentMap[p] ?? []));
    }
    return [...out];
  };
  const children = new Map<string, string[]>();
  for (const id of ids) {
    for (const p of ancestorsInSet(id)) {
      indegree.set(id, (indegree.get(id) ?? 0) + 1);
      children.set(p, [...(children.get(p) ?? []), id]);
    }
  }
  const out: string[] = [];
  const queue = ids.filter((id) => indegree.get(id) === 0);
  while (queue.length > 0) {
    const id = queue.shift() as string;
    out.push(id);
    for (const c of children.get(id) ?? []) {
      const n = (indegree.get(c) ?? 0) - 1;
      indegree.set(c, n);
      if (n === 0) queue.push(c);
    }
  }
  // Nodes in a cycle (only in graphs compiled with errors) keep their place at the end.
  for (const id of ids) if (!out.includes(id)) out.push(id);
  return out;
}

const relationName = (n: ModelNode | SeedNode) => `${n.relation.schema}.${n.relation.identifier}`;

function testStatus(result: TestResult): NodeResult['status'] {
  return result.status === 'error' ? 'error' : result.status;
}

/**
 * Runs a compiled graph: seeds, models and tests in dependency order with `threads` concurrent
 * connections. A failed node (or failed error-severity test) skips its descendants; the rest of
 * the DAG continues. Aborting stops scheduling, cancels running statements and rejects with
 * `ModelingError('ABORTED')` once every started node has cleaned up.
 *
 * @example
 * const { success, results } = await build(pool, graph, { runId: 'r1', threads: 4 });
 */
export async function build(
  pool: pg.Pool,
  graph: CompiledGraph,
  options: BuildOptions,
): Promise<BuildResult> {
  const started = performance.now();
  const plan = planBuild(graph, options);
  const threads = Math.max(1, options.threads ?? 4);
  const results: NodeResult[] = [];
  const done = new Map<string, NodeResult['status']>();
  const pending = new Set(plan.order);
  const running = new Map<string, pg.PoolClient | undefined>();
  const { signal, logger } = options;
  let stopReason: string | undefined;
  let fatal: unknown;
  const ensuredSchemas = new Set<string>();

  const report = (r: NodeResult) => {
    results.push(r);
    done.set(r.uniqueId, r.status);
    try {
      options.onNodeResult?.(r);
    } catch (error) {
      logger?.warn({ err: error, node: r.uniqueId }, 'onNodeResult callback threw');
    }
  };
  /** Reports the audits of model `id` that did not run (all but those in `ran`) as skipped. */
  const skipAudits = (
    id: string,
    message: string,
    startedAt: string,
    ran: ReadonlySet<string> = new Set(),
  ) => {
    for (const auditId of plan.audits[id] ?? []) {
      if (ran.has(auditId)) continue;
      report({
        uniqueId: auditId,
        name: (graph.nodes[auditId] as TestNode).name,
        resourceType: 'test',
        status: 'skipped',
        durationMs: 0,
        message,
        startedAt,
        audit: true,
      });
    }
  };
  const skip = (id: string, message: string) => {
    const n = graph.nodes[id] as Runnable;
    pending.delete(id);
    report({
      uniqueId: id,
      name: n.name,
      resourceType: n.resourceType,
      status: 'skipped',
      durationMs: 0,
      message,
      startedAt: new Date().toISOString(),
      ...(n.resourceType !== 'test' ? { relation: relationName(n) } : {}),
    });
    skipAudits(id, message, new Date().toISOString());
  };
  const isOk = (s: NodeResult['status'] | undefined) => s === 'success' || s === 'pass' || s === 'warn';

  const execute = async (id: string): Promise<void> => {
    const node = graph.nodes[id] as Runnable;
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    try {
      options.onNodeStart?.(node);
    } catch (error) {
      logger?.warn({ err: error, node: id }, 'onNodeStart callback threw');
    }
    let client: pg.PoolClient | undefined;
    let broken: Error | undefined;
    const connect = async () => {
      client = await pool.connect();
      running.set(id, client);
      return client;
    };
    try {
      if (node.resourceType === 'test') {
        const result = await runTest(await connect(), node.compiled, {
          ...(signal ? { signal } : {}),
          ...(logger ? { logger } : {}),
        });
        report({
          uniqueId: id,
          name: node.name,
          resourceType: 'test',
          status: testStatus(result),
          durationMs: performance.now() - t0,
          ...(result.message ? { message: result.message } : {}),
          test: result,
          startedAt,
        });
        return;
      }
      const ctxFor = (c: pg.PoolClient) => ({
        client: c,
        pool,
        fullRefresh: options.fullRefresh ?? false,
        ensuredSchemas,
        audits: (plan.audits[id] ?? []).map((a) => graph.nodes[a] as TestNode),
        ...(signal ? { signal } : {}),
        ...(logger ? { logger } : {}),
      });
      let outcome: MaterializeOutcome;
      try {
        if (node.resourceType === 'seed') {
          // COPY takes its own pooled connection: load before holding one, so a build with
          // `threads` equal to the pool size cannot starve itself.
          const loaded = await loadSeedToTemp(pool, node, {
            ...(options.seedsDir ? { seedsDir: options.seedsDir } : {}),
            ensuredSchemas,
            ...(signal ? { signal } : {}),
            ...(logger ? { logger } : {}),
          });
          outcome = await publishSeed(ctxFor(await connect()), node, loaded);
        } else {
          outcome = await materializeModel(ctxFor(await connect()), node);
        }
      } catch (error) {
        const auditResults = (error as { audits?: MaterializeOutcome['audits'] }).audits ?? [];
        for (const a of auditResults) reportAudit(a.uniqueId, a.result);
        skipAudits(
          id,
          `${node.name} failed before its audit`,
          startedAt,
          new Set(auditResults.map((a) => a.uniqueId)),
        );
        throw error;
      }
      for (const a of outcome.audits) reportAudit(a.uniqueId, a.result);
      report({
        uniqueId: id,
        name: node.name,
        resourceType: node.resourceType,
        status: 'success',
        ...(outcome.rows !== undefined ? { rows: outcome.rows } : {}),
        durationMs: performance.now() - t0,
        relation: relationName(node),
        startedAt,
        action: outcome.action,
      });
    } catch (error) {
      if (isRetryableCause(error) || (error as { code?: string }).code === 'CONNECTION_FAILED')
        broken = error as Error;
      const message = error instanceof Error ? error.message : String(error);
      logger?.error({ node: id, err: error }, 'node failed');
      report({
        uniqueId: id,
        name: node.name,
        resourceType: node.resourceType,
        status: 'error',
        durationMs: performance.now() - t0,
        message,
        startedAt,
        ...(node.resourceType !== 'test' ? { relation: relationName(node) } : {}),
      });
    } finally {
      running.delete(id);
      client?.release(broken);
    }
  };
  const reportAudit = (id: string, result: TestResult) => {
    const t = graph.nodes[id] as TestNode;
    report({
      uniqueId: id,
      name: t.name,
      resourceType: 'test',
      status: testStatus(result),
      durationMs: result.durationMs,
      ...(result.message ? { message: result.message } : {}),
      test: result,
      startedAt: result.startedAt,
      audit: true,
    });
  };

  const onAbort = () => {
    stopReason = 'build aborted';
    for (const client of running.values()) {
      const pid = (client as unknown as { processID?: number } | undefined)?.processID;
      // Best effort: if the cancel fails the statement still ends, and the build stops scheduling.
      if (typeof pid === 'number') pool.query('select pg_cancel_backend($1)', [pid]).catch(() => undefined);
    }
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });

  const failed = (id: string) => {
    const s = done.get(id);
    if (s === 'error' || s === 'skipped') return true;
    if (s === 'fail') return (graph.nodes[id] as TestNode).severity === 'error';
    return false;
  };

  await new Promise<void>((resolveAll) => {
    const inflight = new Set<Promise<void>>();
    // A bug in scheduling must end the build with an error, never leave `build` pending forever.
    const pump = () => {
      try {
        schedule();
      } catch (error) {
        fatal ??= error;
        stopReason = 'an unexpected error stopped the build';
        pending.clear();
        if (inflight.size === 0) resolveAll();
      }
    };
    const schedule = () => {
      // Propagate failures: anything waiting on a failed node is skipped.
      let changed = true;
      while (changed) {
        changed = false;
        for (const id of [...pending]) {
          const bad = plan.waitsFor[id]?.find((d) => done.has(d) && failed(d));
          if (bad) {
            skip(id, `skipped: upstream ${graph.nodes[bad]?.name ?? bad} ${done.get(bad)}`);
            changed = true;
          }
        }
      }
      if (stopReason) for (const id of [...pending]) skip(id, `skipped: ${stopReason}`);
      for (const id of [...pending]) {
        if (inflight.size >= threads) break;
        const deps = plan.waitsFor[id] ?? [];
        if (!deps.every((d) => isOk(done.get(d)) || (done.get(d) === 'fail' && !failed(d)))) continue;
        pending.delete(id);
        const p = execute(id)
          .catch((error: unknown) => {
            fatal ??= error;
            stopReason = 'an unexpected error stopped the build';
          })
          .finally(() => {
            inflight.delete(p);
            const status = done.get(id);
            if (options.failFast && !isOk(status) && !stopReason)
              stopReason = `fail-fast after ${graph.nodes[id]?.name}`;
            pump();
          });
        inflight.add(p);
      }
      if (inflight.size === 0) {
        // Nothing runs and nothing is runnable: whatever is left waits on nodes outside the build.
        for (const id of [...pending]) skip(id, 'skipped: dependencies did not run');
        resolveAll();
      }
    };
    pump();
  });
  signal?.removeEventListener('abort', onAbort);
  if (fatal) throw fatal;
  if (signal?.aborted) throw new ModelingError('ABORTED', 'build aborted', { cause: signal.reason });
  const elapsedMs = performance.now() - started;
  const hasTestFailures = results.some(
    (r) =>
      r.resourceType === 'test' &&
      r.status === 'fail' &&
      (graph.nodes[r.uniqueId] as TestNode).severity === 'error',
  );
  const success = results.every((r) => r.status === 'success' || r.status === 'pass' || r.status === 'warn');
  return { results, success, hasTestFailures, elapsedMs };
}
