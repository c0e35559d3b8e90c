import type { PreviousResults } from '@dataflow/modeling';
import { CliError } from '../errors.js';
import { type DayInterval, resolveDays } from '../interval.js';
import type { PipelineArgs, PipelineSpec } from './run-pipeline.js';
import type { RunRecordArgs } from './run-record.js';
import { isPipelineCommand, PIPELINE_SPECS } from './specs.js';

/** Statuses `dataflow retry` runs again (dbt's: errors, failed tests, and what they skipped). */
export const RETRY_STATUSES = ['error', 'fail', 'skipped'] as const;

/** What `dataflow retry` runs: the previous command again, on the days or nodes that did not finish. */
export type RetryPlan =
  | { kind: 'days'; spec: PipelineSpec; args: PipelineArgs; days: string[] }
  | { kind: 'nodes'; spec: PipelineSpec; args: PipelineArgs; nodes: string[] }
  | { kind: 'nothing'; reason: string };

const dayOf = (start: string): DayInterval => {
  const [day] = resolveDays({ date: start });
  return day as DayInterval;
};

/**
 * Plans a retry from a previous run's `run_results.json` (its `args` and results). Pure.
 * - A range (`--start/--end`, more than one day) with days not finished: the same command, same
 *   selection, on those days (the failed day and every later one).
 * - Otherwise, nodes that errored, failed or were skipped: the build step again for them only
 *   (`result:error result:fail result:skipped` against those results), on the run's day if any.
 * - A run that failed before building anything (a failed ingest or load of its one day): that
 *   day again.
 * Throws CliError USAGE when the previous command cannot be retried.
 *
 * @example
 * planRetry({ which: 'run', days: ['2026-05-01', '2026-05-02'], completed_days: ['2026-05-01'], ... }, {});
 * // { kind: 'days', days: ['2026-05-02'], ... }
 */
export function planRetry(record: RunRecordArgs, results: PreviousResults): RetryPlan {
  if (!isPipelineCommand(record.which))
    throw new CliError(
      'USAGE',
      `cannot retry "${record.which}": only run, ingest, load, build, seed, test, snapshot`,
    );
  const spec = PIPELINE_SPECS[record.which];
  const done = new Set(record.completed_days);
  const unfinished = record.days.filter((d) => !done.has(d));
  const build = {
    select: record.select,
    exclude: record.exclude,
    threads: record.threads,
    failFast: record.fail_fast,
    fullRefresh: record.full_refresh,
    targetSchema: record.target_schema,
    resourceTypes: spec.resourceTypes,
    ...(record.state !== undefined ? { state: record.state } : {}),
    defer: record.defer,
    favorState: record.favor_state,
  };
  const nodes = Object.entries(results)
    .filter(([, status]) => (RETRY_STATUSES as readonly string[]).includes(status))
    .map(([id]) => id)
    .sort();
  if (record.days.length > 1 && unfinished.length > 0)
    return {
      kind: 'days',
      spec,
      days: unfinished,
      args: { days: unfinished.map(dayOf), sources: record.sources, build },
    };
  if (nodes.length > 0 && spec.steps.includes('build'))
    return {
      kind: 'nodes',
      spec: { ...spec, steps: ['build'] },
      nodes,
      args: {
        days: unfinished.map(dayOf),
        sources: record.sources,
        build: {
          ...build,
          select: RETRY_STATUSES.map((s) => `result:${s}`),
          exclude: [],
          previousResults: results,
        },
      },
    };
  if (unfinished.length > 0)
    return {
      kind: 'days',
      spec,
      days: unfinished,
      args: { days: unfinished.map(dayOf), sources: record.sources, build },
    };
  return { kind: 'nothing', reason: `the last ${record.which} finished: nothing failed or was skipped` };
}
