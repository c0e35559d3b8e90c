import { useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { warehouseLease } from '../src/pipeline/ingest-lease.js';

const db = useTestDatabase();

const KEY = 'dataflow:ingest:s3://lake/raw:orders/dt=2026-05-01/';
// Waiters on this test's own lock only (other test files share the server).
const waitingAdvisoryLocks = async () =>
  Number(
    (
      await db.pool.query<{ n: string }>(
        `select count(*) as n from pg_locks
          where locktype = 'advisory' and not granted and objsubid = 1
            and ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`,
        [KEY],
      )
    ).rows[0]?.n ?? 0,
  );

// Two ingests of one partition (an Airflow zombie and its retry) commit one after the other when a
// warehouse is configured, on any object store, including those that ignore conditional PUTs.
describe('the warehouse partition lease of concurrent ingests', () => {
  it('a second holder of one partition waits until the first releases; another partition does not', async () => {
    const lease = warehouseLease(db.pool, 's3://lake/raw');
    const releaseFirst = await lease('orders/dt=2026-05-01/', {});
    const order: string[] = [];
    const second = lease('orders/dt=2026-05-01/', {}).then((release) => {
      order.push('second acquired');
      return release;
    });
    // The other partition is not blocked.
    const other = await lease('orders/dt=2026-05-02/', {});
    await other();
    for (let i = 0; i < 200 && (await waitingAdvisoryLocks()) === 0; i += 1) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(await waitingAdvisoryLocks()).toBe(1);
    expect(order).toEqual([]);
    order.push('first released');
    await releaseFirst();
    const releaseSecond = await second;
    expect(order).toEqual(['first released', 'second acquired']);
    await releaseSecond();
    expect(await waitingAdvisoryLocks()).toBe(0);
  });

  it('a lease of another lake does not exclude this one', async () => {
    const a = await warehouseLease(db.pool, 'file:///lake-a')('orders/dt=2026-05-01/', {});
    const b = await warehouseLease(db.pool, 'file:///lake-b')('orders/dt=2026-05-01/', {});
    await a();
    await b();
  });
});
