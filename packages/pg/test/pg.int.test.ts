import { useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import {
  captureDependentViews,
  classifyPgError,
  dropDependentViewsSql,
  inSavepoint,
  inTransaction,
  recreateDependentViewsSql,
  withClient,
} from '../src/index.js';

const db = useTestDatabase();

describe('transactions against PostgreSQL', () => {
  it('inTransaction commits on success and rolls back on failure, keeping the original error', async () => {
    await db.pool.query('create table tx (id int primary key)');
    await withClient(db.pool, (client) =>
      inTransaction(client, () => client.query('insert into tx values (1)')),
    );
    const failure = await withClient(db.pool, (client) =>
      inTransaction(client, async () => {
        await client.query('insert into tx values (2)');
        await client.query('insert into tx values (1)');
      }),
    ).catch((error: unknown) => error);
    expect(classifyPgError(failure)).toMatchObject({ family: 'data', sqlState: '23505' });
    expect((await db.pool.query('select id from tx order by id')).rows).toEqual([{ id: 1 }]);
  });

  it('inSavepoint rolls back only its own work and leaves the transaction usable', async () => {
    await db.pool.query('create table sp (id int primary key)');
    await withClient(db.pool, (client) =>
      inTransaction(client, async () => {
        await client.query('insert into sp values (1)');
        const error = await inSavepoint(client, 'file_2', async () => {
          await client.query('insert into sp values (2)');
          await client.query('insert into sp values (1)');
        }).catch((e: unknown) => e);
        expect(classifyPgError(error).sqlState).toBe('23505');
        await client.query('insert into sp values (3)');
      }),
    );
    expect((await db.pool.query('select id from sp order by id')).rows).toEqual([{ id: 1 }, { id: 3 }]);
  });

  it('a real server-side cancel (57014) and lock timeout (55P03) classify as retryable', async () => {
    const cancel = await db.pool
      .query("set statement_timeout = '50ms'; select pg_sleep(5)")
      .catch((e: unknown) => e);
    expect(classifyPgError(cancel)).toMatchObject({ family: 'canceled', retryable: true, sqlState: '57014' });
    await db.pool.query('create table locked (id int)');
    await withClient(db.pool, async (holder) =>
      inTransaction(holder, async () => {
        await holder.query('lock table locked in access exclusive mode');
        const error = await db.pool
          .query("set lock_timeout = '50ms'; select * from locked")
          .catch((e: unknown) => e);
        expect(classifyPgError(error)).toMatchObject({ family: 'lock', retryable: true, sqlState: '55P03' });
      }),
    );
  });
});

describe('dependent views', () => {
  it('captures views on a table with grants and comments and recreates them after a swap', async () => {
    const s = db.schema;
    await db.pool.query(`
      create table "${s}".base (id int, amount numeric);
      insert into "${s}".base values (1, 10), (2, 20);
      create view "${s}".v1 with (security_barrier=true) as select id, amount from "${s}".base;
      create view "${s}".v2 as select sum(amount) as total from "${s}".v1;
      comment on view "${s}".v1 is 'orders, cleaned';
      comment on column "${s}".v1.amount is 'in EUR';
      grant select on "${s}".v1 to public;
    `);
    await withClient(db.pool, (client) =>
      inTransaction(client, async () => {
        const views = await captureDependentViews(client, `"${s}"."base"`);
        expect(views.map((v) => [v.name, v.depth])).toEqual([
          ['v1', 1],
          ['v2', 2],
        ]);
        expect(views[0]?.grants).toEqual([{ grantee: 'PUBLIC', privilege: 'SELECT', grantable: false }]);
        expect(views[0]?.comment).toBe('orders, cleaned');
        expect(views[0]?.columnComments).toEqual([{ column: 'amount', comment: 'in EUR' }]);
        for (const sql of dropDependentViewsSql(views)) await client.query(sql);
        await client.query(`drop table "${s}".base`);
        await client.query(`create table "${s}".base as select 3 as id, 30::numeric as amount`);
        for (const sql of recreateDependentViewsSql(views)) await client.query(sql);
      }),
    );
    expect((await db.pool.query(`select total from "${s}".v2`)).rows).toEqual([{ total: '30' }]);
    const meta = await db.pool.query(
      `select obj_description('"${s}".v1'::regclass, 'pg_class') as comment,
              has_table_privilege('public', '"${s}".v1', 'select') as public_select,
              (select reloptions from pg_class where oid = '"${s}".v1'::regclass) as options`,
    );
    expect(meta.rows[0]).toEqual({
      comment: 'orders, cleaned',
      public_select: true,
      options: ['security_barrier=true'],
    });
  });
});
