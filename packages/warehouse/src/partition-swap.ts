import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { inSavepoint, qualify, quoteIdent, sqlStateOf } from '@dataflow/pg';
import type pg from 'pg';
import { throwIfAborted } from './abort.js';
import { WarehouseError } from './errors.js';
import type { Logger } from './lake.js';
import {
  buildAttachPartitionSql,
  buildListPartitionsQuery,
  partitionBound,
  partitionTableName,
} from './partition-sql.js';
import { retiredPartitionName } from './retired-partitions.js';
import type { LoadStamp } from './sql.js';
import type { Target } from './target-table.js';

/** How long a swap may wait for its table locks. */
export interface SwapTiming {
  /** `lock_timeout` of one attempt. */
  attemptMs: number;
  /** Give up (LOCK_TIMEOUT) after this long in total. */
  totalMs: number;
  signal?: AbortSignal | undefined;
  log: Logger;
}

/** 55P03 lock_not_available (our lock_timeout), 40P01 deadlock_detected. */
const LOCK_STATES = new Set(['55P03', '40P01']);

/**
 * Runs `fn` inside the caller's transaction under a savepoint with a short `lock_timeout`; when
 * it cannot get its locks in time it is rolled back to the savepoint and retried with backoff,
 * so a long reader delays the swap but never queues other readers behind it for long.
 *
 * @example
 * await withLockRetry(client, { attemptMs: 1000, totalMs: 600_000, log }, 'raw.orders', () => swap());
 */
export async function withLockRetry<T>(
  client: pg.ClientBase,
  timing: SwapTiming,
  table: string,
  fn: () => Promise<T>,
): Promise<T> {
  const deadline = performance.now() + timing.totalMs;
  let delay = 50;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await inSavepoint(client, 'wh_swap', async () => {
        await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(timing.attemptMs))}`);
        return fn();
      });
      await client.query('SET LOCAL lock_timeout = DEFAULT');
      return result;
    } catch (error) {
      // inSavepoint rolled back to the savepoint: the transaction (and the fresh table) live on.
      if (!LOCK_STATES.has(sqlStateOf(error) ?? '')) throw error;
      throwIfAborted(timing.signal, `swapping a partition of ${table}`);
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new WarehouseError(
          'LOCK_TIMEOUT',
          `could not lock ${table} for the partition swap in ${timing.totalMs} ms`,
          {
            table,
            retryable: true,
            cause: error,
          },
        );
      }
      timing.log.info(
        { table, attempt, sqlState: sqlStateOf(error) },
        'table busy; retrying the partition swap',
      );
      await sleep(Math.min(delay * (0.5 + Math.random()), left));
      delay = Math.min(delay * 2, 2000);
    }
  }
}

/** What {@link swapInPartition} replaces: the interval's partition, or every partition (`replace`). */
export type SwapScope = 'partition' | 'table';

/**
 * Inside the caller's transaction: locks the parent, detaches the partition(s) the load
 * replaces, renames each to its retired name ({@link retiredPartitionName}) and attaches `fresh`
 * for the load's interval. The fresh table carries a CHECK equal to the bound, so ATTACH scans
 * nothing; DETACH and ATTACH commit together, so readers see the old day or the new one, never
 * none. The old day is not dropped here: unlinking its files (~0.1 s per 100 MB) would happen
 * at COMMIT while the parent is still locked ACCESS EXCLUSIVE, so the caller drops the returned
 * tables after its commit ({@link dropRetiredPartitions}). Returns their qualified names.
 *
 * @example
 * await withLockRetry(client, timing, target.qualified, () => swapInPartition(client, target, fresh, stamp, 'partition', runId));
 */
export async function swapInPartition(
  client: pg.ClientBase,
  target: Pick<Target, 'qualified' | 'schema' | 'table'>,
  fresh: string,
  stamp: Pick<LoadStamp, 'partitionDate' | 'loadId'>,
  scope: SwapScope,
  runId: string,
): Promise<string[]> {
  // ACCESS EXCLUSIVE up front (DETACH needs it anyway): the partition list read next cannot change.
  await client.query(`LOCK TABLE ${target.qualified} IN ACCESS EXCLUSIVE MODE`);
  const list = buildListPartitionsQuery(target.qualified);
  const { rows } = await client.query<{ name: string; bound: string }>(list.sql, list.parameters);
  const bound = partitionBound(stamp.partitionDate);
  const old = rows.filter((r) => scope === 'table' || r.bound === bound).map((r) => r.name);
  const retired: string[] = [];
  for (const [index, name] of old.entries()) {
    const retiredName = retiredPartitionName(target.table, runId, stamp.loadId, index);
    await client.query(`ALTER TABLE ${target.qualified} DETACH PARTITION ${name}`);
    await client.query(`ALTER TABLE ${name} RENAME TO ${quoteIdent(retiredName)}`);
    retired.push(qualify(target.schema, retiredName));
  }
  await client.query(buildAttachPartitionSql(target.qualified, fresh, stamp.partitionDate));
  return retired;
}

/**
 * Inside the caller's transaction: creates the interval's partition (empty) when the table has
 * none yet, for loads that insert into the parent (append). Returns whether it created one.
 *
 * @example
 * await withLockRetry(client, timing, target.qualified, () => ensurePartition(client, target, stamp));
 */
export async function ensurePartition(
  client: pg.ClientBase,
  target: Pick<Target, 'qualified' | 'schema' | 'table'>,
  stamp: LoadStamp,
): Promise<boolean> {
  const list = buildListPartitionsQuery(target.qualified);
  const { rows } = await client.query<{ bound: string }>(list.sql, list.parameters);
  if (rows.some((r) => r.bound === partitionBound(stamp.partitionDate))) return false;
  const name = qualify(target.schema, partitionTableName(target.table, stamp.partitionDate, stamp.loadId));
  await client.query(
    `CREATE TABLE ${name} PARTITION OF ${target.qualified} FOR VALUES IN ('${stamp.partitionDate}')`,
  );
  return true;
}
