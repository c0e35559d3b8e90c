import { inTransaction, isConnectionLost, quoteIdent, withClient } from '@dataflow/pg';
import { runTest, type TestResult } from '@dataflow/quality';
import type pg from 'pg';
import { isModelingError, ModelingError } from './errors.js';
import {
  type CompiledGraph,
  type GraphNode,
  type ModelNode,
  RELATION_PLACEHOLDER,
  type RelationInfo,
  type SeedNode,
  type SnapshotNode,
  type TestNode,
  type UnitTestNode,
} from './graph.js';
import type { BuildRenderer } from './introspection/build-renderer.js';
import { createPgIntrospector } from './introspection/pg-introspector.js';
import { testForRun } from './introspection/test-for-run.js';
import {
  type Logger,
  loadSeedToTemp,
  type MaterializeOutcome,
  materializeModel,
  publishSeed,
} from './materialize.js';
import { createScheduler } from './schedule.js';
import { type SelectionState, selectNodes } from './select.js';
import { runSnapshot } from './snapshot/run.js';
import { runUnitTest, type UnitTestResult } from './unit-test/run.js';

type Runnable = ModelNode | SeedNode | TestNode | SnapshotNode | UnitTestNode;
/** What a build can run. */
export type BuildResourceType = 'model' | 'seed' | 'test' | 'snapshot' | 'unit_test';
const ALL_TYPES: BuildResourceType[] = ['model', 'seed', 'test', 'snapshot', 'unit_test'];

/** Outcome of one node in a build; handed to the run log as-is. */
export interface NodeResult {
  uniqueId: string;
  name: string;
  resourceType: BuildResourceType;
  status: 'success' | 'error' | 'skipped' | 'pass' | 'warn' | 'fail';
  rows?: number;
  durationMs: number;
  message?: string;
  /** `schema.identifier` of the published relation (models, seeds), or of a test's stored failures. */
  relation?: string;
  test?: TestResult;
  /** Unit tests: the outcome with its row diff (`message` holds the diff as a table). */
  unitTest?: UnitTestResult;
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
  /** What `state:` / `result:` selectors compare against (`--state DIR`, a previous run_results.json). */
  state?: SelectionState;
  /** Concurrent nodes, each on its own pooled connection. Default 4. */
  threads?: number;
  /** Stop starting new nodes after the first failure; the rest are reported as skipped. */
  failFast?: boolean;
  /** Rebuild incremental models from scratch. */
  fullRefresh?: boolean;
  runId: string;
  /**
   * What to run (default: everything, as `dataflow build`): `['model']` for run, `['test', 'unit_test']`
   * for test, `['seed']`, `['snapshot']` for snapshot.
   */
  resourceTypes?: BuildResourceType[];
  /** The snapshot time of every snapshot in this build (default: each transaction's `localtimestamp`). */
  snapshotTime?: string | Date;
  /** Where seed CSVs live when they moved since compile (default: the compiled absolute paths). */
  seedsDir?: string;
  /** Write-audit-publish (default true): error-severity tests gate each publish. */
  audit?: boolean;
  /**
   * `compileProject`'s `renderer`: each Jinja model is rendered again just before it runs, after its
   * parents are built, with `execute` true and its questions (`run_query`, `get_columns_in_relation`…)
   * answered on the model's connection, as dbt does. Without it models run their compiled SQL.
   */
  renderer?: BuildRenderer;
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
  /** True when an error-severity data test or a unit test failed (the CLI's data-test exit code). */
  hasTestFailures: boolean;
  /** The `on-run-end` hook that failed (the nodes' results stand; `success` is false). */
  onRunEndError?: string;
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

/**
 * Unit tests run before their model, which (when in the build) waits for them. Like dbt, a unit
 * test waits for its model's parents in the build (it borrows their column types); alone it waits
 * for nothing. Each is placed just before its model in the order.
 */
function scheduleUnitTests(
  graph: CompiledGraph,
  order: string[],
  waitsFor: Record<string, string[]>,
): string[] {
  const units = order.filter((id) => graph.nodes[id]?.resourceType === 'unit_test');
  if (units.length === 0) return order;
  const byModel = new Map<string, string[]>();
  for (const id of units) {
    const model = (graph.nodes[id] as UnitTestNode).attachedNode;
    byModel.set(model, [...(byModel.get(model) ?? []), id]);
    const parents = waitsFor[model];
    waitsFor[id] = parents ? parents.filter((p) => graph.nodes[p]?.resourceType !== 'unit_test') : [];
    if (parents) waitsFor[model] = [...parents, id].sort();
  }
  const out: string[] = [];
  const placed = new Set<string>();
  for (const id of order) {
    if (placed.has(id)) continue;
    for (const next of [...(byModel.get(id) ?? []), id]) {
      if (placed.has(next)) continue;
      out.push(next);
      placed.add(next);
    }
  }
  return out;
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
  options: Pick<BuildOptions, 'select' | 'exclude' | 'state' | 'resourceTypes' | 'audit'> = {},
): BuildPlan {
  const types = new Set<string>(options.resourceTypes ?? ALL_TYPES);
  const selected = selectNodes(graph, {
    ...(options.select ? { select: options.select } : {}),
    ...(options.exclude ? { exclude: options.exclude } : {}),
    ...(options.state ? { state: options.state } : {}),
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
      // Only a test compiled with the placeholder token, or one rendered at build time (pending),
      // can be pointed at the temp relation.
      (n.sqlTemplate?.includes(RELATION_PLACEHOLDER) || n.compiled.pending) &&
      host &&
      inBuild.has(host.uniqueId) &&
      (host.resourceType === 'model' || host.resourceType === 'seed')
    ) {
      const up = ancestorsOf(graph, host.uniqueId, memo);
      // Sources are never built: reading one (directly, or as the identity of a loaded relation) is no reason to wait.
      const upstream = (d: string) =>
        d === host.uniqueId || up.has(d) || graph.nodes[d]?.resourceType === 'source';
      if (n.dependsOn.every(upstream)) {
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
      else if ((inBuild.has(d) && !auditIds.has(d)) || graph.failedModels?.[d]) expanded.add(d);
    }
    waitsFor[id] = [...expanded].sort();
  }
  for (const t of postTests) {
    if (t.severity !== 'error' || !t.attachedNode) continue;
    for (const child of graph.childMap[t.attachedNode] ?? []) {
      if (!waitsFor[child] || (graph.nodes[child] as GraphNode).resourceType === 'test') continue;
      // The child must not be (an ancestor of) something the test reads, or we would deadlock;
      // nor waited for by the test through another test's edge added here (two relationships
      // tests between two branches would otherwise wait for each other).
      const blocks =
        t.dependsOn.some((d) => d === child || ancestorsOf(graph, d, memo).has(child)) ||
        waitsOn(waitsFor, t.uniqueId, child);
      if (!blocks) waitsFor[child]?.push(t.uniqueId);
    }
  }
  return { order: scheduleUnitTests(graph, order, waitsFor), waitsFor, audits };
}

/** Whether `from` waits, directly or transitively, for `target`. */
function waitsOn(waitsFor: Record<string, string[]>, from: string, target: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (id === target) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(waitsFor[id] ?? []));
  }
  return false;
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

const relationName = (n: ModelNode | SeedNode | SnapshotNode) =>
  `${n.relation.schema}.${n.relation.identifier}`;
const hasRelation = (n: Runnable): n is ModelNode | SeedNode | SnapshotNode =>
  n.resourceType === 'model' || n.resourceType === 'seed' || n.resourceType === 'snapshot';

function testStatus(result: TestResult): NodeResult['status'] {
  return result.status === 'error' ? 'error' : result.status;
}

/** What running one node needs; `clients` holds the connection of each running node (for cancel on abort). */
interface NodeRun {
  pool: pg.Pool;
  options: BuildOptions;
  audits: TestNode[];
  ensuredSchemas: Set<string>;
  clients: Map<string, pg.PoolClient>;
}

/** `schema.identifier` of the relation holding a test's failing rows, when it stored them. */
function storedRelation(test: TestNode, result: TestResult): { relation?: string } {
  const stored = test.compiled.storeFailuresIn;
  return result.storedIn && stored ? { relation: `${stored.schema}.${stored.identifier}` } : {};
}

function auditResult(test: TestNode, result: TestResult): NodeResult {
  return {
    uniqueId: test.uniqueId,
    name: test.name,
    resourceType: 'test',
    status: testStatus(result),
    durationMs: result.durationMs,
    ...(result.message ? { message: result.message } : {}),
    ...storedRelation(test, result),
    test: result,
    startedAt: result.startedAt,
    audit: true,
  };
}

/** Results of the audits of a node that did not run (all but those in `ran`), as skipped. */
function skippedAudits(
  audits: TestNode[],
  message: string,
  startedAt: string,
  ran: ReadonlySet<string> = new Set(),
): NodeResult[] {
  return audits
    .filter((a) => !ran.has(a.uniqueId))
    .map((a) => ({
      uniqueId: a.uniqueId,
      name: a.name,
      resourceType: 'test',
      status: 'skipped',
      durationMs: 0,
      message,
      startedAt,
      audit: true,
    }));
}

/** A node the scheduler skipped, with its audits. */
function skippedResults(node: Runnable, audits: TestNode[], message: string): NodeResult[] {
  const startedAt = new Date().toISOString();
  return [
    {
      uniqueId: node.uniqueId,
      name: node.name,
      resourceType: node.resourceType,
      status: 'skipped',
      durationMs: 0,
      message,
      startedAt,
      ...(hasRelation(node) ? { relation: relationName(node) } : {}),
    },
    ...skippedAudits(audits, message, startedAt),
  ];
}

/** Builds a seed or model with its audits; a failure carries the audit results that ran. */
async function materializeNode(
  run: NodeRun,
  node: ModelNode | SeedNode,
  connect: () => Promise<pg.PoolClient>,
): Promise<MaterializeOutcome> {
  const { options, pool, ensuredSchemas } = run;
  const { signal, logger } = options;
  const ctxFor = (client: pg.PoolClient) => ({
    client,
    pool,
    fullRefresh: options.fullRefresh ?? false,
    ensuredSchemas,
    audits: run.audits,
    renderAudit: (test: TestNode, temp: RelationInfo) =>
      testForRun(test, client, { renderer: options.renderer, relation: temp.sql, signal, logger }),
    runId: options.runId,
    ...(signal ? { signal } : {}),
    ...(logger ? { logger } : {}),
  });
  if (node.resourceType === 'model') {
    const client = await connect();
    const { renderer } = options;
    if (!renderer?.renders(node.uniqueId)) return materializeModel(ctxFor(client), node);
    const renderSql = async (isIncremental: boolean) => {
      const rendered = await renderer.render(node.uniqueId, isIncremental, createPgIntrospector(client), {
        ...(signal ? { signal } : {}),
      });
      logger?.debug(
        { node: node.uniqueId, passes: rendered.passes, questions: rendered.questions },
        'rendered at build time',
      );
      return rendered.sql;
    };
    return materializeModel({ ...ctxFor(client), renderSql }, node);
  }
  // COPY takes its own pooled connection: load before holding one, so a build with `threads`
  // equal to the pool size cannot starve itself.
  const loaded = await loadSeedToTemp(pool, node, {
    ...(options.seedsDir ? { seedsDir: options.seedsDir } : {}),
    ensuredSchemas,
    runId: options.runId,
    ...(signal ? { signal } : {}),
    ...(logger ? { logger } : {}),
  });
  return publishSeed(ctxFor(await connect()), node, loaded);
}

/** Runs a unit test or a snapshot on `client`; a unit test's failure is a result, a snapshot's throws. */
async function runOwnNode(
  run: NodeRun,
  node: UnitTestNode | SnapshotNode,
  client: pg.PoolClient,
  startedAt: string,
  t0: number,
): Promise<NodeResult> {
  const { logger, signal, snapshotTime } = run.options;
  const base = { uniqueId: node.uniqueId, name: node.name, resourceType: node.resourceType, startedAt };
  if (node.resourceType === 'unit_test') {
    const result = await runUnitTest(client, node.spec, logger ? { logger } : {});
    if (result.status === 'error' && isConnectionLost(result.error)) throw result.error;
    return {
      ...base,
      status: result.status,
      durationMs: performance.now() - t0,
      ...(result.message ? { message: result.message } : {}),
      unitTest: result,
    };
  }
  const outcome = await runSnapshot(
    client,
    {
      name: node.name,
      uniqueId: node.uniqueId,
      ...(node.file ? { file: node.file } : {}),
      relation: node.relation,
      sql: node.compiledSql,
      config: node.config,
    },
    {
      ...(snapshotTime ? { now: snapshotTime } : {}),
      ...(logger ? { logger } : {}),
      ...(signal ? { signal } : {}),
    },
  );
  return {
    ...base,
    status: 'success',
    rows: outcome.inserted,
    durationMs: performance.now() - t0,
    relation: relationName(node),
    action: outcome.action,
    message: `${outcome.inserted} version(s) inserted, ${outcome.closed} closed`,
  };
}

/**
 * Runs one node and returns its results (audits first, then the node). A node error is a result;
 * only a bug rejects. The connection is released as broken after a connection-level error.
 */
async function executeNode(run: NodeRun, node: Runnable): Promise<NodeResult[]> {
  const { signal, logger } = run.options;
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  let client: pg.PoolClient | undefined;
  let broken: Error | undefined;
  const connect = async () => {
    client = await run.pool.connect();
    run.clients.set(node.uniqueId, client);
    return client;
  };
  const out: NodeResult[] = [];
  try {
    if (node.resourceType === 'test') {
      const client = await connect();
      const { renderer } = run.options;
      const compiled = await testForRun(node, client, { renderer, signal, logger });
      const result = await runTest(client, compiled, {
        ...(signal ? { signal } : {}),
        ...(logger ? { logger } : {}),
      });
      out.push({
        uniqueId: node.uniqueId,
        name: node.name,
        resourceType: 'test',
        status: testStatus(result),
        durationMs: performance.now() - t0,
        ...(result.message ? { message: result.message } : {}),
        ...storedRelation(node, result),
        test: result,
        startedAt,
      });
      return out;
    }
    // dbt-postgres fails a relation name over 63 bytes when the node runs (compile only warns).
    if (node.resourceType !== 'unit_test') quoteIdent(node.relation.identifier);
    if (node.resourceType === 'unit_test' || node.resourceType === 'snapshot') {
      out.push(await runOwnNode(run, node, await connect(), startedAt, t0));
      return out;
    }
    let outcome: MaterializeOutcome;
    try {
      outcome = await materializeNode(run, node, connect);
    } catch (error) {
      const ran = (error as { audits?: MaterializeOutcome['audits'] }).audits ?? [];
      const byId = new Map(run.audits.map((a) => [a.uniqueId, a]));
      for (const a of ran) out.push(auditResult(byId.get(a.uniqueId) as TestNode, a.result));
      const ranIds = new Set(ran.map((a) => a.uniqueId));
      out.push(...skippedAudits(run.audits, `${node.name} failed before its audit`, startedAt, ranIds));
      throw error;
    }
    const byId = new Map(run.audits.map((a) => [a.uniqueId, a]));
    for (const a of outcome.audits) out.push(auditResult(byId.get(a.uniqueId) as TestNode, a.result));
    out.push({
      uniqueId: node.uniqueId,
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
    // Only a dead connection is released as broken; after a statement error the client is fine.
    if (
      isConnectionLost(error) ||
      isConnectionLost((error as { cause?: unknown }).cause) ||
      (error as { code?: string }).code === 'CONNECTION_FAILED'
    )
      broken = error as Error;
    logger?.error({ node: node.uniqueId, err: error }, 'node failed');
    out.push({
      uniqueId: node.uniqueId,
      name: node.name,
      resourceType: node.resourceType,
      status: 'error',
      durationMs: performance.now() - t0,
      message: error instanceof Error ? error.message : String(error),
      startedAt,
      ...(hasRelation(node) ? { relation: relationName(node) } : {}),
    });
  } finally {
    run.clients.delete(node.uniqueId);
    (client as pg.PoolClient | undefined)?.release(broken);
  }
  return out;
}

/**
 * Runs the project's `on-run-start` or `on-run-end` statements in order, in one transaction; a
 * failing one is a `HOOK_FAILED` error naming it (the phase's earlier statements roll back).
 */
async function runProjectHooks(
  pool: pg.Pool,
  phase: 'on-run-start' | 'on-run-end',
  statements: string[] | undefined,
  logger?: BuildOptions['logger'],
): Promise<void> {
  if (!statements?.length) return;
  await withClient(pool, (client) =>
    inTransaction(client, async () => {
      for (const [i, sql] of statements.entries()) {
        logger?.debug({ sql }, phase);
        try {
          await client.query(sql);
        } catch (error) {
          throw new ModelingError(
            'HOOK_FAILED',
            `${phase} ${i + 1} failed (${(error as Error).message}): ${sql.trim().slice(0, 200)}`,
            { file: 'dbt_project.yml', cause: error },
          );
        }
      }
    }),
  );
}

/** Cancels the statements of running nodes (best effort: a failed cancel still ends the statement). */
function cancelRunning(pool: pg.Pool, clients: Iterable<pg.PoolClient>): void {
  for (const client of clients) {
    const pid = (client as unknown as { processID?: number }).processID;
    if (typeof pid === 'number') pool.query('select pg_cancel_backend($1)', [pid]).catch(() => undefined);
  }
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
  const { signal, logger } = options;
  // dbt: a failing on-run-start ends the run before any node.
  await runProjectHooks(pool, 'on-run-start', graph.onRunStart, logger);
  // A failing unit test blocks its model like a failing error-severity data test.
  const testSeverity = (id: string) => {
    const node = graph.nodes[id] as TestNode | UnitTestNode;
    return node.resourceType === 'unit_test' ? 'error' : node.severity;
  };
  const queue = createScheduler({
    order: plan.order,
    waitsFor: plan.waitsFor,
    threads: options.threads ?? 4,
    ...(options.failFast ? { failFast: true } : {}),
    blocks: (id, s) => s === 'error' || s === 'skipped' || (s === 'fail' && testSeverity(id) === 'error'),
    nameOf: (id) => graph.nodes[id]?.name ?? graph.failedModels?.[id]?.name ?? id,
    failed: Object.fromEntries(Object.keys(graph.failedModels ?? {}).map((id) => [id, 'failed to compile'])),
  });
  const results: NodeResult[] = [];
  const report = (r: NodeResult) => {
    results.push(r);
    try {
      options.onNodeResult?.(r);
    } catch (error) {
      logger?.warn({ err: error, node: r.uniqueId }, 'onNodeResult callback threw');
    }
  };
  const clients = new Map<string, pg.PoolClient>();
  const ensuredSchemas = new Set<string>();
  const auditsOf = (id: string) => (plan.audits[id] ?? []).map((a) => graph.nodes[a] as TestNode);
  const onAbort = () => {
    queue.stop('build aborted');
    cancelRunning(pool, clients.values());
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });

  let fatal: unknown;
  await new Promise<void>((resolveAll) => {
    const start = (id: string) => {
      const node = graph.nodes[id] as Runnable;
      try {
        options.onNodeStart?.(node);
      } catch (error) {
        logger?.warn({ err: error, node: id }, 'onNodeStart callback threw');
      }
      let status: NodeResult['status'] = 'error';
      executeNode({ pool, options, audits: auditsOf(id), ensuredSchemas, clients }, node)
        .then((rs) => {
          for (const r of rs) report(r);
          status = rs.find((r) => r.uniqueId === id)?.status ?? 'error';
        })
        .catch((error: unknown) => {
          fatal ??= error;
          queue.stop('an unexpected error stopped the build');
        })
        .finally(() => {
          queue.finish(id, status);
          pump();
        });
    };
    // A bug in scheduling must end the build with an error, never leave `build` pending forever.
    const pump = () => {
      try {
        const step = queue.next();
        for (const s of step.skip)
          for (const r of skippedResults(graph.nodes[s.id] as Runnable, auditsOf(s.id), s.message)) report(r);
        for (const id of step.start) start(id);
        if (step.done) resolveAll();
      } catch (error) {
        fatal ??= error;
        queue.stop('an unexpected error stopped the build');
        if (queue.running.size === 0) resolveAll();
      }
    };
    pump();
  });
  signal?.removeEventListener('abort', onAbort);
  if (fatal) throw fatal;
  // dbt runs on-run-end whatever the nodes did.
  const onRunEndError = await runProjectHooks(pool, 'on-run-end', graph.onRunEnd, logger).then(
    () => undefined,
    (error: unknown) => {
      if (!isModelingError(error, 'HOOK_FAILED')) throw error;
      logger?.error({ err: error }, 'on-run-end failed');
      return error.message;
    },
  );
  if (signal?.aborted) throw new ModelingError('ABORTED', 'build aborted', { cause: signal.reason });
  const hasTestFailures = results.some(
    (r) =>
      (r.resourceType === 'test' || r.resourceType === 'unit_test') &&
      r.status === 'fail' &&
      testSeverity(r.uniqueId) === 'error',
  );
  const success =
    onRunEndError === undefined &&
    results.every((r) => r.status === 'success' || r.status === 'pass' || r.status === 'warn');
  return {
    results,
    success,
    hasTestFailures,
    ...(onRunEndError !== undefined ? { onRunEndError } : {}),
    elapsedMs: performance.now() - started,
  };
}
