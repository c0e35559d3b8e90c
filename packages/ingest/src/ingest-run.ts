import type { IngestError } from './errors.js';
import type { Interval } from './interval.js';
import type { Logger } from './logger.js';
import type { PartitionManifest } from './manifest.js';
import type { ObjectStore } from './object-store.js';
import { type PartitionLease, storeLease } from './partition-lock.js';
import { type CommitFields, PartitionAttempt } from './partition-writer.js';

/** What both `ingestCsv` and `ingestApi` take about where and how the partition is written. */
export interface PartitionTarget {
  store: ObjectStore;
  source: string;
  interval: Interval;
  runId?: string;
  signal?: AbortSignal;
  logger: Logger;
  /** Serialises commits of the partition; default: a lock object in the store ({@link storeLease}). */
  lease?: PartitionLease;
  /** Other attempts' files younger than this are never deleted. Default 1 h. */
  graceMs?: number;
  /** The window (`w=<id>`, see `windowPartition`) of an incremental run; default `dt=<interval start>`. */
  partition?: string;
}

/** How one source lands its parts. */
export interface AttemptPlan {
  format: 'csv' | 'ndjson';
  gzip: boolean;
  gzipLevel?: number;
  /** Writes the parts through `attempt`; returns the manifest fields. */
  write(attempt: PartitionAttempt): Promise<CommitFields>;
  /** Turns any failure (an abort included) into the IngestError to report. */
  failure(error: unknown): IngestError;
}

/**
 * The lifecycle every ingest shares: attempt record → parts → commit under the lease; on any
 * failure (abort included) this attempt's files are removed, the previous commit stays, and the
 * error is logged once and thrown.
 *
 * @example
 * const manifest = await runAttempt(target, { format: 'csv', gzip: true, write, failure });
 */
export async function runAttempt(target: PartitionTarget, plan: AttemptPlan): Promise<PartitionManifest> {
  const { store, source, signal, logger } = target;
  const attempt = new PartitionAttempt({
    store,
    source,
    interval: target.interval,
    format: plan.format,
    gzip: plan.gzip,
    logger,
    lease: target.lease ?? storeLease(store, { logger }),
    ...(plan.gzipLevel !== undefined ? { gzipLevel: plan.gzipLevel } : {}),
    ...(target.runId !== undefined ? { runId: target.runId } : {}),
    ...(target.graceMs !== undefined ? { graceMs: target.graceMs } : {}),
    ...(target.partition !== undefined ? { partition: target.partition } : {}),
    ...(signal ? { signal } : {}),
  });
  try {
    await attempt.begin();
    return await attempt.commit(await plan.write(attempt));
  } catch (error) {
    const failure = plan.failure(error);
    await attempt.discard(failure);
    logger.error({ source, code: failure.code, line: failure.line, page: failure.page }, 'ingest: failed');
    throw failure;
  }
}
