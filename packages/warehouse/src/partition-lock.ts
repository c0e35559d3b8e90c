import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { throwIfAborted } from './abort.js';
import { WarehouseError } from './errors.js';

/** A held partition lock; `release` is safe to call on a broken connection. */
export interface PartitionLock {
  release(): Promise<void>;
}

/**
 * Waits for the session-level advisory lock `key` (see `advisoryLockKey`), polling so that the
 * wait is bounded by `timeoutMs` and interruptible by `signal`. Session-level because the lock
 * must span staging (several connections) and the publish transaction.
 *
 * @example
 * const lock = await acquirePartitionLock(client, key, 600_000, signal, 'raw.orders');
 * try { … } finally { await lock.release(); }
 */
export async function acquirePartitionLock(
  client: pg.ClientBase,
  key: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  table: string,
): Promise<PartitionLock> {
  const deadline = performance.now() + timeoutMs;
  let delay = 25;
  for (;;) {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [
      key,
    ]);
    if (rows[0]?.ok) {
      return {
        release: async () => {
          await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
        },
      };
    }
    throwIfAborted(signal, `waiting for the lock on ${table}`);
    const left = deadline - performance.now();
    if (left <= 0) {
      throw new WarehouseError(
        'LOCK_TIMEOUT',
        `another load of ${table} held the partition lock for ${timeoutMs} ms`,
        {
          table,
          retryable: true,
        },
      );
    }
    await sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, 500);
  }
}
