import type { NodeResult } from '@dataflow/modeling';
import type { DaysOutcome } from '../summary.js';
import type { PipelineArgs } from './run-pipeline.js';

/**
 * The `args` block of `run_results.json` (dbt keeps the invocation there too): what ran, so that
 * `dataflow retry` can run the rest. `days` are the interval's days (`YYYY-MM-DD`),
 * `completed_days` those whose every step succeeded. `run-record-read.ts` validates a stored one.
 */
// A type, not an interface: it is written into `run_results.json` as a `Record<string, unknown>`.
export type RunRecordArgs = {
  which: string;
  select: string[];
  exclude: string[];
  sources: string[];
  threads?: number | undefined;
  fail_fast?: boolean | undefined;
  full_refresh: boolean;
  target_schema?: string | undefined;
  state?: string | undefined;
  defer: boolean;
  favor_state: boolean;
  days: string[];
  completed_days: string[];
};

/**
 * The `args` block for a pipeline command's run. Pure.
 *
 * @example
 * runRecordArgs('run', args, ['2026-05-01']).completed_days; // ['2026-05-01']
 */
export function runRecordArgs(command: string, args: PipelineArgs, completedDays: string[]): RunRecordArgs {
  const b = args.build;
  return {
    which: command,
    select: b.select ?? [],
    exclude: b.exclude ?? [],
    sources: args.sources,
    ...(b.threads !== undefined ? { threads: b.threads } : {}),
    ...(b.failFast !== undefined ? { fail_fast: b.failFast } : {}),
    full_refresh: b.fullRefresh === true,
    ...(b.targetSchema !== undefined ? { target_schema: b.targetSchema } : {}),
    ...(b.state !== undefined ? { state: b.state } : {}),
    defer: b.defer === true,
    favor_state: b.favorState === true,
    days: args.days.map((d) => d.start),
    completed_days: completedDays,
  };
}

/**
 * Days by outcome: those completed, the first one not completed when the run failed, the rest
 * not run. Pure.
 *
 * @example
 * daysOutcome(['a', 'b', 'c'], ['a'], true); // { succeeded: ['a'], failed: ['b'], notRun: ['c'] }
 */
export function daysOutcome(days: string[], completed: string[], failed: boolean): DaysOutcome {
  const done = new Set(completed);
  const rest = days.filter((d) => !done.has(d));
  return {
    succeeded: days.filter((d) => done.has(d)),
    failed: failed && rest.length > 0 ? rest.slice(0, 1) : [],
    notRun: failed ? rest.slice(1) : rest,
  };
}

/**
 * The node results to keep for `run_results.json`: one per unique id, a later day's result
 * replacing an earlier one. Pure.
 *
 * @example
 * latestResults([[day1Results], [day2Results]]);
 */
export function latestResults(perDay: NodeResult[][]): NodeResult[] {
  const byId = new Map<string, NodeResult>();
  for (const results of perDay) for (const r of results) byId.set(r.uniqueId, r);
  return [...byId.values()];
}
