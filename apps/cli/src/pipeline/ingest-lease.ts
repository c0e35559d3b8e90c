import type { PartitionLease } from '@dataflow/ingest';
import type pg from 'pg';

/**
 * A partition lease held as a PostgreSQL session advisory lock in the warehouse, for commits of
 * ingests of one lake partition (issue: two ingests of one partition at once). It excludes on any
 * object store, including those that ignore conditional PUTs; the wait is bounded by the pool's
 * `lock_timeout`, and SIGTERM's server-side cancel ends it. A killed holder's lock goes with its
 * connection.
 *
 * @example
 * await ingestCsv({ ...options, lease: warehouseLease(session.pool, lakeUrl) });
 */
export function warehouseLease(pool: pg.Pool, lakeUrl: string): PartitionLease {
  return async (key) => {
    const name = `dataflow:ingest:${lakeUrl}:${key}`;
    const client = await pool.connect();
    try {
      await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [name]);
    } catch (error) {
      client.release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    return async () => {
      try {
        await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [name]);
        client.release();
      } catch (error) {
        // The connection is gone, and its lock with it.
        client.release(error instanceof Error ? error : new Error(String(error)));
      }
    };
  };
}
