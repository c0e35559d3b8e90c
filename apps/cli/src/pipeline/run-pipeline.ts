import type { BuildResult, NodeResult } from '@dataflow/modeling';
import { CliError } from '../errors.js';
import type { DayInterval } from '../interval.js';
import { type Session, throwIfAborted } from '../session.js';
import type { BuildFlags } from './build-step.js';
import { ingestCursorSource, isCursorSource, loadCursorSource } from './cursor-steps.js';
import type { PriorState } from './prior-state.js';
import { daysOutcome, latestResults, runRecordArgs } from './run-record.js';
import { selectSources } from './select-sources.js';
import { ingestSource, loadSource, openLakeStore } from './source-steps.js';
import { targetDirOf } from './target-dir.js';

/** Which steps a pipeline command runs, in this order per day. */
export type Step = 'ingest' | 'load' | 'build';

/** What distinguishes `run`, `ingest`, `load`, `build`, `seed` and `test`. */
export interface PipelineSpec {
  name: string;
  steps: readonly Step[];
  needsInterval: boolean;
  resourceTypes?: BuildFlags['resourceTypes'];
}

/** A pipeline command's arguments, typed by its schema. */
export interface PipelineArgs {
  days: DayInterval[];
  /** `--source` names; empty = every source. */
  sources: string[];
  build: BuildFlags;
}

/**
 * Runs a pipeline command's steps for each day in order (ingest every selected source, load them,
 * then build), stopping at the first failure. Throws CliError TESTS_FAILED (3) / BUILD_FAILED (1)
 * from a build, NOTHING_TO_DO (99) when a load found nothing committed.
 */
export async function runPipeline(session: Session, spec: PipelineSpec, args: PipelineArgs): Promise<void> {
  const { config } = session.project;
  const { signal } = session.invocation;
  const has = (step: Step) => spec.steps.includes(step);
  const wantsSources = has('ingest') || has('load');
  const sources = wantsSources ? selectSources(config, args.sources) : [];
  if (wantsSources && sources.length === 0 && !has('build')) {
    throw new CliError('NOTHING_TO_DO', 'the project defines no sources');
  }
  // Read before this run overwrites target/ (`--state target`, `result:` against the last run).
  // Modeling, quality and lineage are imported only by the commands that build: `load` and
  // `ingest` start without them (issue 13).
  const building = has('build') ? await import('./build-step.js') : undefined;
  const prior: PriorState = building
    ? await (await import('./prior-state.js')).loadPriorState(
        session.project,
        session.invocation.cwd,
        args.build,
      )
    : { defer: false, favorState: false };
  // Checked before anything runs: a cursor source this ingest cannot read is a config error.
  const cursorSources = new Set(sources.filter(([, source]) => isCursorSource(source)).map(([n]) => n));
  const store = sources.length > 0 ? openLakeStore(session) : undefined;
  const days = args.days.length > 0 ? args.days : [undefined];
  const sourceSteps = (has('ingest') ? sources.length : 0) + (has('load') ? sources.length : 0);
  session.reporter.planSources(store ? args.days.length * sourceSteps : 0);
  const completed: string[] = [];
  const results: NodeResult[][] = [];
  let finished = false;
  try {
    for (const day of days) {
      for (const step of ['ingest', 'load'] as const) {
        if (!day || !store || !has(step)) continue;
        for (const [name, source] of sources) {
          throwIfAborted(signal);
          const cursor = cursorSources.has(name);
          if (step === 'ingest') {
            await (cursor ? ingestCursorSource : ingestSource)(session, store, name, source, day);
          } else {
            await (cursor ? loadCursorSource : loadSource)(session, store, name, source, day);
          }
        }
      }
      if (building) {
        throwIfAborted(signal);
        const result = await building.buildProject(session, args.build, day, prior);
        if (result) {
          results.push(result.results);
          // Text output lists each failed unit test's diff in its failure block at the end.
          const diffs = session.terminal.mode.format === 'json' ? unitTestDiffs(result) : '';
          if (diffs) session.invocation.io.stderr.write(session.redactor.redact(diffs));
          assertBuildSucceeded(result);
        }
      }
      if (day) completed.push(day.start);
    }
    finished = true;
  } finally {
    await recordRun(session, spec, args, { completed, results, failed: !finished });
  }
  throwIfAborted(signal);
  assertResultsRecorded(session);
  // Loading only: every selected partition was missing -> nothing to do (Airflow skip).
  if (has('load') && !has('ingest') && session.totals.ranSources === 0) {
    throw new CliError('NOTHING_TO_DO', 'no committed partition to load for the selected sources and dates');
  }
}

/**
 * After every pipeline command, failed or not: the days' outcome in the summary, and
 * `target/run_results.json` (node results and the invocation, which `dataflow retry` reads).
 * A failed write is a warning: the run log holds the same results.
 */
async function recordRun(
  session: Session,
  spec: PipelineSpec,
  args: PipelineArgs,
  run: { completed: string[]; results: NodeResult[][]; failed: boolean },
): Promise<void> {
  const dayNames = args.days.map((d) => d.start);
  if (dayNames.length > 0) session.totals.days = daysOutcome(dayNames, run.completed, run.failed);
  try {
    const { writeRunResults } = await import('@dataflow/modeling/artifacts');
    await writeRunResults(targetDirOf(session.project), {
      runId: session.runId,
      results: latestResults(run.results),
      elapsedMs: performance.now() - session.startedAt,
      args: runRecordArgs(spec.name, args, run.completed),
    });
  } catch (error) {
    session.logger.warn(
      { err: { message: (error as Error).message } },
      'could not write target/run_results.json',
    );
  }
}

/** A node result the run log could not record fails the run (exit 1): its history would be incomplete. */
function assertResultsRecorded(session: Session): void {
  const n = session.totals.unrecordedResults;
  if (n > 0)
    throw new CliError(
      'RUNLOG_INCOMPLETE',
      `${n} node result(s) could not be recorded in the run log (logged as warnings, kept in target/run_results.json)`,
    );
}

const isTest = (r: NodeResult) => r.resourceType === 'test' || r.resourceType === 'unit_test';
const failedTest = (r: NodeResult) => isTest(r) && (r.status === 'fail' || r.status === 'error');

/**
 * Turns a build result into the command's outcome: failed data or unit tests are exit 3, a failed
 * node is exit 1, each naming the first few.
 */
export function assertBuildSucceeded(result: BuildResult): void {
  if (result.hasTestFailures) {
    const failed = result.results.filter(failedTest);
    const names = failed
      .map((r) => r.name)
      .slice(0, 5)
      .join(', ');
    throw new CliError('TESTS_FAILED', `${failed.length} test(s) failed: ${names}`);
  }
  if (!result.success) {
    const bad = result.results.filter((r) => r.status === 'error');
    if (bad.length === 0 && result.onRunEndError !== undefined)
      throw new CliError('BUILD_FAILED', result.onRunEndError.split('\n')[0] as string);
    const first = bad[0];
    const detail = first ? `; first: ${first.name}: ${(first.message ?? '').split('\n')[0]}` : '';
    throw new CliError('BUILD_FAILED', `${bad.length} node(s) failed${detail}`);
  }
}

/**
 * What to print for the failed unit tests of a build, as dbt does: each test's name and its row
 * diff (expected vs actual) or error; '' when none failed.
 */
export function unitTestDiffs(result: BuildResult): string {
  return result.results
    .filter((r) => r.resourceType === 'unit_test' && failedTest(r))
    .map((r) => `unit test ${r.name} ${r.status === 'fail' ? 'failed' : 'errored'}:\n${r.message ?? ''}\n`)
    .join('');
}
