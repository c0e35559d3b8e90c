import {
  type Interval,
  type Logger,
  type ManifestFile,
  type ObjectStore,
  type OnProgress,
  type PartitionManifest,
  partitionName,
  readManifest,
  silentLogger,
} from '@dataflow/ingest/lake';
import { WarehouseError } from './errors.js';

export { createProgressCounter, type ProgressCounter } from '@dataflow/ingest/lake';
// The interval (`[start, end)`, partition `dt=<start>`) and the structural pino-style logger are
// ingest's: one definition for the whole flow.
export type { Interval, Logger, ManifestFile, OnProgress };

/** The lake's object store (`@dataflow/ingest`'s `ObjectStore`: filesystem or S3). */
export type LakeStore = ObjectStore;

/** The committed description of one lake partition (written by `@dataflow/ingest`). */
export type { PartitionManifest } from '@dataflow/ingest/lake';
export { silentLogger };

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * `dt=<start>` after validating the interval's shape, or the given window partition (`w=<id>`,
 * an incremental run's) after validating its name.
 */
export function partitionOf(interval: Interval, partition?: string): string {
  if (!interval || !DATE.test(interval.start) || !DATE.test(interval.end) || interval.start >= interval.end) {
    throw new WarehouseError(
      'INVALID_OPTIONS',
      'interval must be { start, end } YYYY-MM-DD with start < end',
    );
  }
  try {
    return partitionName(interval, partition);
  } catch (cause) {
    throw new WarehouseError('INVALID_OPTIONS', (cause as Error).message, { cause });
  }
}

/**
 * Reads the partition's commit point through ingest's manifest reader. Resolves undefined when
 * the partition is not committed; a malformed manifest is BAD_MANIFEST.
 */
export async function readPartitionManifest(
  store: ObjectStore,
  source: string,
  interval: Interval,
  partition?: string,
): Promise<PartitionManifest | undefined> {
  try {
    return await readManifest(store, source, interval, partition);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new WarehouseError(
      code === 'BAD_MANIFEST' ? 'BAD_MANIFEST' : 'QUERY_FAILED',
      `could not read the manifest of ${source}/${partitionOf(interval, partition)}`,
      { retryable: (error as { retryable?: boolean }).retryable === true, cause: error },
    );
  }
}
