import type pg from 'pg';
import { ensureStateTable } from './cursor-state.js';
import { isWarehouseError, toWarehouseError, WarehouseError } from './errors.js';
import { acquirePartitionLock } from './partition-lock.js';
import { advisoryLockKey } from './sql.js';

/** A held cursor lease; `release` is safe to call on a broken connection, and more than once. */
export interface CursorLease {
  release(): Promise<void>;
}

/** Options of {@link acquireCursorLease}. */
export interface CursorLeaseOptions {
  /** The warehouse schema holding `_dataflow_state`. */
  schema: string;
  source: string;
  /** Longest wait for another cursor run of the source; default 10 minutes. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Excludes two cursor runs of one source: read state → ingest a window → load and advance the
 * state must not interleave, or both runs would read from the same state. A session advisory lock
 * on a connection of its own, polled so the wait is bounded by `timeoutMs` (LOCK_TIMEOUT,
 * retryable) and ends on `signal`; a killed holder's lease goes with its connection. Also
 * creates the state table when missing.
 *
 * @example
 * const lease = await acquireCursorLease(pool, { schema: 'raw', source: 'rates' });
 * try { … read state, ingest, load with onPublish … } finally { await lease.release(); }
 */
export async function acquireCursorLease(pool: pg.Pool, options: CursorLeaseOptions): Promise<CursorLease> {
  const what = `the cursor lease of ${options.source}`;
  let client: pg.PoolClient;
  try {
    await ensureStateTable(pool, options.schema);
    client = await pool.connect();
  } catch (error) {
    throw toWarehouseError(error, 'QUERY_FAILED', `taking ${what}`);
  }
  const key = advisoryLockKey(`cursor:${options.schema}`, options.source);
  let held: { release(): Promise<void> };
  try {
    held = await acquirePartitionLock(
      client,
      key,
      options.timeoutMs ?? 600_000,
      options.signal,
      `source ${options.source} (cursor)`,
    );
  } catch (error) {
    client.release(error instanceof Error ? error : undefined);
    if (isWarehouseError(error, 'LOCK_TIMEOUT')) {
      throw new WarehouseError(
        'LOCK_TIMEOUT',
        `another cursor run of source ${options.source} held its lease for ${options.timeoutMs ?? 600_000} ms`,
        { retryable: true, cause: error },
      );
    }
    throw toWarehouseError(error, 'QUERY_FAILED', `taking ${what}`);
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      try {
        await held.release();
        client.release();
      } catch (error) {
        // The connection broke, and its session lock went with it.
        client.release(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };
}
