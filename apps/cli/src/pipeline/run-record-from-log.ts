import type { PreviousResults } from '@dataflow/modeling';
import type { JobRecord, RunDetail } from '@dataflow/runlog';
import type { PipelineArgs } from './run-pipeline.js';
import { type RunRecordArgs, runRecordArgs } from './run-record.js';

/** A node's job row status as a run_results status (a failed test is `fail`, another failed node `error`). */
function resultStatus(job: JobRecord): string {
  switch (job.status) {
    case 'success':
    case 'warn':
    case 'skipped':
      return job.status;
    case 'failed':
      return job.step === 'test' ? 'fail' : 'error';
    default:
      // running / aborted / abandoned: the node did not finish.
      return 'error';
  }
}

/**
 * What `dataflow retry` needs, rebuilt from the run log when `target/run_results.json` is gone (an
 * Airflow worker's disk is not kept between attempts): the run's arguments (`args`, parsed by the
 * caller from its stored argv), the days completed (days run in order, so every day before the
 * last one with a job finished; the last one too when the run succeeded) and the statuses of the
 * last day's nodes, by unique id. Pure.
 *
 * @example
 * const { record, results } = runRecordFromLog(await runLog.getRun(runId), parsedArgs);
 */
export function runRecordFromLog(
  detail: RunDetail,
  args: PipelineArgs,
): { record: RunRecordArgs; results: PreviousResults } {
  const days = args.days.map((d) => d.start);
  const ran = detail.jobs.map((j) => j.partition).filter((p): p is string => p !== null && days.includes(p));
  // YYYY-MM-DD sorts as text.
  const last = [...ran].sort().at(-1);
  const completed =
    detail.status === 'success' ? days : last === undefined ? [] : days.filter((d) => d < last);
  const results: PreviousResults = {};
  for (const job of detail.jobs) {
    if (!job.uniqueId || (last !== undefined && job.partition !== last)) continue;
    results[job.uniqueId] = resultStatus(job);
  }
  return { record: runRecordArgs(detail.command, args, completed), results };
}
