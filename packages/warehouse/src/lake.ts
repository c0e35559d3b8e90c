import { type ObjectStore, type PartitionManifest, readManifest } from '@dataflow/ingest';
import { WarehouseError } from './errors.js';

/** A half-open date interval `[start, end)` (`YYYY-MM-DD`); the partition is `dt=<start>`. */
export interface Interval {
  start: string;
  end: string;
}

/** The lake's object store (`@dataflow/ingest`'s `ObjectStore`: filesystem or S3). */
export type LakeStore = ObjectStore;

/** Structural logger with pino's `(obj, msg)` signature. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => undefined;
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** The committed description of one lake partition (written by `@dataflow/ingest`). */
export type { PartitionManifest } from '@dataflow/ingest';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `dt=<start>` after validating the interval's shape. */
export function partitionOf(interval: Interval): string {
  if (!interval || !DATE.test(interval.start) || !DATE.test(interval.end) || interval.start >= interval.end) {
    throw new WarehouseError(
      'INVALID_OPTIONS',
      'interval must be { start, end } YYYY-MM-DD with start < end',
    );
  }
  return `dt=${interval.start}`;
}

/**
 * Reads the partition's commit point through ingest's manifest reader. Resolves undefined when
 * the partition is not committed; a malformed manifest is BAD_MANIFEST.
 */
export async function readPartitionManifest(
  store: ObjectStore,
  source: string,
  interval: Interval,
): Promise<PartitionManifest | undefined> {
  try {
    return await readManifest(store, source, interval);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new WarehouseError(
      code === 'BAD_MANIFEST' ? 'BAD_MANIFEST' : 'QUERY_FAILED',
      `could not read the manifest of ${source}/${partitionOf(interval)}`,
      { retryable: (error as { retryable?: boolean }).retryable === true, cause: error },
    );
  }
}
