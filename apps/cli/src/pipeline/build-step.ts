import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseManifest } from '@dataflow/lineage';
import {
  type BuildResourceType,
  type BuildResult,
  build,
  type CompiledGraph,
  deferRenderer,
  graphChecksums,
  manifestJson,
  type NodeResult,
  type PreviousResults,
  planBuild,
  writeManifest,
} from '@dataflow/modeling';
import type { TestResultInput } from '@dataflow/runlog';
import { compileForBuild } from '../compile-project.js';
import type { DayInterval } from '../interval.js';
import { emitNodeEvents } from '../lineage.js';
import { nodeReport, testSqlPath } from '../output/node-report.js';
import type { Session } from '../session.js';
import { deferGraph, type PriorState, selectionStateFor, targetDirOf } from './prior-state.js';

/** Options `build`, `seed` and `test` share. */
export interface BuildFlags {
  select?: string[] | undefined;
  exclude?: string[] | undefined;
  threads?: number | undefined;
  failFast?: boolean | undefined;
  fullRefresh?: boolean | undefined;
  targetSchema?: string | undefined;
  /** What runs (default: every type, as `dataflow build`). */
  resourceTypes?: BuildResourceType[] | undefined;
  /** `--state DIR`: a previous run's artifacts (`state:` / `result:` selectors, `--defer`). */
  state?: string | undefined;
  defer?: boolean | undefined;
  favorState?: boolean | undefined;
  /** What `result:` selectors compare against when given (`retry`: the run it retries); else read from --state, else target/. */
  previousResults?: PreviousResults | undefined;
}

/** The run log's step of a node: unit tests are tests, snapshots are model-like steps. */
export const jobStep = (t: string): 'test' | 'seed' | 'model' =>
  t === 'test' || t === 'unit_test' ? 'test' : t === 'seed' ? 'seed' : 'model';

/**
 * Builds (and tests) the selected nodes, recording one job_status row per node (keyed by unique
 * id) and every test result; writes `target/manifest.json` (with checksums) first.
 */
export async function buildProject(
  session: Session,
  flags: BuildFlags,
  day: DayInterval | undefined,
  prior: PriorState = { defer: false, favorState: false },
): Promise<BuildResult | undefined> {
  const { graph, renderer } = await compileForBuild(
    session.project,
    session.logger,
    { targetSchema: flags.targetSchema, redact: (s) => session.redactor.add(s) },
    day,
  );
  const { config } = session.project;
  const logger = session.logger.child({ step: 'build' });
  const selection = {
    ...(flags.select?.length ? { select: flags.select } : {}),
    ...(flags.exclude?.length ? { exclude: flags.exclude } : {}),
    ...(flags.resourceTypes ? { resourceTypes: flags.resourceTypes } : {}),
  };
  const checksums = await graphChecksums(graph);
  const state = await selectionStateFor(graph, prior, checksums);
  // The manifest of this run: the next run's `--state`. A read-only project is not a failed build.
  await writeManifest(targetDirOf(session.project), graph, { checksums }).catch((error: unknown) =>
    logger.warn({ err: { message: (error as Error).message } }, 'could not write target/manifest.json'),
  );
  const plan = planBuild(graph, { ...selection, state });
  if (plan.order.length === 0) {
    // As dbt does: a selection that matches nothing is worth a warning, not a failure.
    session.logger.warn(
      { select: flags.select, exclude: flags.exclude },
      'the selection matches no node; nothing to build',
    );
    return undefined;
  }
  const pending: Promise<unknown>[] = [];
  const nodes = plan.order.length + Object.values(plan.audits).flat().length;
  const tracker = session.reporter.buildStarted(`build${day ? ` ${day.start}` : ''}`, nodes);
  const targetPath = config['target-path'] ?? 'target';
  // Lineage reads nodes as target/manifest.json has them (relations, columns, compiled SQL).
  const manifest = session.lineage.enabled ? parseManifest(manifestJson(graph, { checksums })) : undefined;
  const deferral = await deferGraph(session.pool, graph, plan, prior, logger);
  const result = await build(session.pool, deferral.graph, {
    ...selection,
    state,
    threads: flags.threads ?? config.build.threads,
    failFast: flags.failFast ?? config.build.fail_fast,
    fullRefresh: flags.fullRefresh ?? false,
    runId: session.runId,
    renderer: deferRenderer(renderer, deferral.deferred),
    signal: session.invocation.signal,
    logger,
    onNodeStart: (node) => tracker.nodeStarted(node.name),
    onNodeResult: (r) => {
      pending.push(recordNode(session, r, day));
      if (manifest) pending.push(emitNodeEvents(session.lineage, manifest, r, session.database.url));
      const sqlPath = failingTestSql(session, graph, r, targetPath, pending);
      tracker.nodeFinished(nodeReport(r, graph, sqlPath));
    },
  });
  tracker.finished();
  await Promise.all(pending);
  return result;
}

/**
 * A failing or warning data test's compiled SQL, written where dbt keeps it
 * (`target/compiled/…`) so the failure can point at it; the path relative to the project, or
 * undefined. The write joins `pending`; a read-only project only loses the path.
 */
function failingTestSql(
  session: Session,
  graph: CompiledGraph,
  r: NodeResult,
  targetPath: string,
  pending: Promise<unknown>[],
): string | undefined {
  const status = r.test?.status;
  if (r.resourceType !== 'test' || (status !== 'fail' && status !== 'warn' && status !== 'error')) return;
  const node = graph.nodes[r.uniqueId];
  const rel = testSqlPath(graph, node, targetPath);
  if (!rel || node?.resourceType !== 'test') return;
  const file = join(session.project.dir, rel);
  const tmp = `${file}.${process.pid}.tmp`;
  pending.push(
    mkdir(dirname(file), { recursive: true })
      .then(() => writeFile(tmp, `${node.compiled.sql.trimEnd()}\n`))
      .then(() => rename(tmp, file))
      .catch((error: unknown) =>
        session.logger.debug({ file: rel, err: error }, 'could not write the compiled SQL of a failing test'),
      ),
  );
  return rel;
}

async function recordNode(session: Session, r: NodeResult, day: DayInterval | undefined): Promise<void> {
  const { totals } = session;
  const step = jobStep(r.resourceType);
  const status = jobStatusOf(r.status, r.test?.status);
  if (step === 'test') {
    totals.tests[testOutcome(r)] += 1;
  } else if (step === 'model' || step === 'seed') {
    totals.models[status === 'success' ? 'success' : status === 'skipped' ? 'skipped' : 'error'] +=
      step === 'model' ? 1 : 0;
  }
  const failureMessage = status === 'failed' ? (r.message ?? r.test?.message ?? `${r.status}`) : undefined;
  try {
    await session.runLog.recordJob({
      runId: session.runId,
      step,
      target: r.name,
      uniqueId: r.uniqueId,
      partition: day?.start,
      status,
      durationMs: Math.round(r.durationMs),
      startedAt: r.startedAt,
      ...(r.rows !== undefined ? { rowsOut: r.rows } : {}),
      ...(failureMessage ? { error: { name: 'NodeFailure', message: failureMessage } } : {}),
    });
    if (r.rows !== undefined && step !== 'test') {
      await session.runLog.recordRowCount({
        runId: session.runId,
        dataset: r.name,
        partition: day?.start,
        stage: 'built',
        rows: r.rows,
      });
    }
    if (step === 'test') await session.runLog.recordTestResults(session.runId, [testResultOf(r)]);
  } catch (error) {
    // Never dropped silently: the result goes to the log in full, and the run exits 1 (run-pipeline).
    totals.unrecordedResults += 1;
    session.logger.warn(
      {
        node: r.uniqueId,
        status: r.status,
        partition: day?.start,
        duration_ms: Math.round(r.durationMs),
        ...(r.message ? { message: r.message.split('\n')[0] } : {}),
        err: { message: (error as Error).message },
      },
      'could not record a node result in the run log',
    );
  }
}

function jobStatusOf(
  status: string,
  testStatus: string | undefined,
): 'success' | 'failed' | 'skipped' | 'warn' {
  const s = testStatus ?? status;
  if (s === 'success' || s === 'pass') return 'success';
  if (s === 'warn') return 'warn';
  if (s === 'skipped' || s === 'skip') return 'skipped';
  return 'failed';
}

/** A test's outcome as the run log counts it; a unit test's own status is `pass` / `fail` / `error`. */
export function testOutcome(r: NodeResult): 'pass' | 'warn' | 'fail' | 'error' | 'skipped' {
  if (r.test) return r.test.status;
  if (r.status === 'success') return 'pass';
  if (r.status === 'pass' || r.status === 'warn' || r.status === 'fail' || r.status === 'skipped')
    return r.status;
  return 'error';
}

/** The run log's test row of a data test or unit test result (a unit test's diff is its message). */
export function testResultOf(r: NodeResult): TestResultInput {
  const t = r.test;
  const diff = r.unitTest?.diff;
  return {
    uniqueId: r.uniqueId,
    name: t?.name ?? r.name,
    status: testOutcome(r),
    severity: t?.severity ?? (r.resourceType === 'unit_test' ? 'error' : undefined),
    failures: t?.failures ?? (diff ? diff.missing.length + diff.unexpected.length : 0),
    sql: t?.sql,
    sample: t?.sample ?? [],
    message: t?.message ?? r.message,
    durationMs: Math.round(t?.durationMs ?? r.durationMs),
  };
}
