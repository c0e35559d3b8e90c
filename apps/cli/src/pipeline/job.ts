import { performance } from 'node:perf_hooks';
import type { JobLineage } from '@dataflow/lineage';
import type { SourceTracker } from '../output/reporter.js';
import type { Session } from '../session.js';

/** What a step reports back to {@link job}: its value and its row counts. */
export interface JobOutcome<T> {
  value: T;
  rowsIn?: number;
  rowsOut?: number;
  rowsRejected?: number;
  status?: 'skipped';
}

/**
 * Runs one step as a job_status row: started, then finished with its counts, or failed with its
 * error (recorded, then rethrown). Every ingest and load goes through it. `lineage` (what the
 * job reads and writes, given its value once done) also sends the job's OpenLineage START and
 * COMPLETE / FAIL / ABORT events. `tracker` (the step's result line) is told of a failure.
 */
export async function job<T>(
  session: Session,
  {
    lineage,
    tracker,
    ...spec
  }: {
    step: 'ingest' | 'load';
    target: string;
    partition: string;
    lineage?: (value?: T) => JobLineage | Promise<JobLineage>;
    tracker?: SourceTracker;
  },
  fn: () => Promise<JobOutcome<T>>,
): Promise<T> {
  const jobId = await session.runLog.startJob({ runId: session.runId, ...spec });
  const emit = session.lineage.enabled ? lineage : undefined;
  if (emit) await session.lineage.job('START', await emit());
  const log = session.logger.child({ step: spec.step, source: spec.target, partition: spec.partition });
  const started = performance.now();
  log.info({}, `${spec.step} ${spec.target} ${spec.partition} started`);
  try {
    const out = await fn();
    await session.runLog.finishJob(jobId, {
      status: out.status ?? 'success',
      rowsIn: out.rowsIn,
      rowsOut: out.rowsOut,
      rowsRejected: out.rowsRejected,
    });
    log.info(
      {
        rowsIn: out.rowsIn,
        rowsOut: out.rowsOut,
        rowsRejected: out.rowsRejected,
        durationMs: Math.round(performance.now() - started),
      },
      `${spec.step} ${spec.target} ${spec.partition} ${out.status ?? 'done'}`,
    );
    if (emit) await session.lineage.job('COMPLETE', await emit(out.value));
    return out.value;
  } catch (error) {
    tracker?.failed(error);
    const aborted = session.invocation.signal.aborted;
    // The step's error is the one to propagate; a run-log write failing on top of it is logged.
    await session.runLog
      .finishJob(jobId, { status: aborted ? 'aborted' : 'failed', error })
      .catch((recordError: unknown) => {
        log.warn({ err: { message: (recordError as Error).message } }, 'could not record the failed job');
      });
    const { code, message } =
      error instanceof Error
        ? (error as Error & { code?: unknown })
        : { code: undefined, message: String(error) };
    log.error(
      { err: { code: typeof code === 'string' ? code : undefined, message } },
      `${spec.step} ${spec.target} failed`,
    );
    if (emit) await session.lineage.job(aborted ? 'ABORT' : 'FAIL', await emit(), { error });
    throw error;
  }
}
