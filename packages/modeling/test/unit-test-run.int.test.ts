import { withClient } from '@dataflow/pg';
import { useTestDatabase } from '@dataflow/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, parseFixture, runUnitTest, type UnitTestSpec } from '../src/index.js';

const db = useTestDatabase();

const fixture = (entry: Record<string, unknown>): Fixture => {
  const { fixture, problem } = parseFixture(entry);
  expect(problem).toBeUndefined();
  return fixture as Fixture;
};
const run = (spec: UnitTestSpec) => withClient(db.pool, (client) => runUnitTest(client, spec));
const relations = async () =>
  (
    await db.pool.query<{ relname: string }>(
      `select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 order by 1`,
      [db.schema],
    )
  ).rows.map((r) => r.relname);

const orders = { schema: '', identifier: 'stg_orders', sql: '' };
beforeAll(() => {
  orders.schema = db.schema;
  orders.sql = `"${db.schema}"."stg_orders"`;
});

/** `customer_totals`: the model under test, compiled against its inputs' temp tables. */
function totalsSpec(expect: Fixture, given: Fixture): UnitTestSpec {
  return {
    name: 'sums_per_customer',
    model: { name: 'customer_totals', materialized: 'table', incrementalStrategy: 'merge' },
    inputs: [
      { input: "ref('stg_orders')", tempName: '__df_ut_0_stg_orders', relation: orders, fixture: given },
    ],
    sql: `select customer_id, sum(amount) as total, count(*) as n from pg_temp."__df_ut_0_stg_orders" group by customer_id`,
    expect,
    applyToThis: false,
  };
}

describe('runUnitTest', () => {
  it('passes when the rows match, comparing only the expected columns, with real input tables typed by inference', async () => {
    const result = await run(
      totalsSpec(
        fixture({
          rows: [
            { customer_id: 1, total: 30 },
            { customer_id: 2, total: 5 },
          ],
        }),
        fixture({ format: 'csv', rows: 'order_id,customer_id,amount\n1,1,10\n2,1,20\n3,2,5\n' }),
      ),
    );
    expect(result).toMatchObject({ status: 'pass', model: 'customer_totals' });
    expect(result.diff).toEqual({ columns: ['customer_id', 'total'], missing: [], unexpected: [] });
  });

  it('fails with a row diff like dbt: --- expected only, +++ actual only', async () => {
    const result = await run(
      totalsSpec(
        fixture({ format: 'csv', rows: 'customer_id,total\n1,30\n2,6\n' }),
        fixture({
          rows: [
            { order_id: 1, customer_id: 1, amount: 10 },
            { order_id: 2, customer_id: 1, amount: 20 },
            { order_id: 3, customer_id: 2, amount: 5 },
          ],
        }),
      ),
    );
    expect(result.status).toBe('fail');
    expect(result.message).toBe(
      [
        'actual differs from expected:',
        '@@  | customer_id | total',
        '--- | 2           | 6',
        '+++ | 2           | 5',
      ].join('\n'),
    );
  });

  it('borrows column types from the real relation (missing columns are NULL) and never writes to it', async () => {
    await db.pool.query(
      `create table stg_orders (order_id int not null, customer_id int, amount numeric(10,2), note text)`,
    );
    await db.pool.query(`insert into stg_orders values (99, 9, 1.00, 'real')`);
    const before = await relations();
    const spec = totalsSpec(
      fixture({ format: 'sql', rows: `select 1 as customer_id, 30.00::numeric(10,2) as total` }),
      fixture({
        rows: [
          { customer_id: 1, amount: '10.5' },
          { customer_id: 1, amount: 19.5 },
        ],
      }),
    );
    const result = await run({
      ...spec,
      sql: `select customer_id, sum(amount) as total, count(order_id) as with_id from pg_temp."__df_ut_0_stg_orders" group by customer_id`,
    });
    expect(result).toMatchObject({ status: 'pass' });
    expect(await relations()).toEqual(before);
    expect((await db.pool.query('select order_id from stg_orders')).rows).toEqual([{ order_id: 99 }]);
    const unknownColumn = await run(
      totalsSpec(fixture({ rows: [] }), fixture({ rows: [{ customer_id: 1, discount: 2 }] })),
    );
    expect(unknownColumn).toMatchObject({
      status: 'error',
      message:
        "unit test sums_per_customer (model customer_totals): given ref('stg_orders') has column(s) discount, which are not among order_id, customer_id, amount, note",
    });
  });

  it('expect: { rows: [] } asserts the model returns nothing', async () => {
    const given = fixture({ rows: [{ customer_id: 1, amount: 10 }] });
    const none = await run({
      ...totalsSpec(fixture({ rows: [] }), given),
      sql: 'select 1 as customer_id where false',
    });
    expect(none).toMatchObject({ status: 'pass' });
    const some = await run(totalsSpec(fixture({ rows: [] }), given));
    expect(some.message).toBe(
      [
        'actual differs from expected:',
        '@@  | customer_id | total | n',
        '+++ | 1           | 10.00 | 1',
      ].join('\n'),
    );
  });

  it('reports an expectation column the model does not return, and SQL errors, as error', async () => {
    const spec = totalsSpec(
      fixture({ rows: [{ customer_id: 1, totl: 30 }] }),
      fixture({ rows: [{ customer_id: 1, amount: 30 }] }),
    );
    expect(await run(spec)).toMatchObject({
      status: 'error',
      message:
        'unit test sums_per_customer (model customer_totals): expect has column(s) totl, which are not among customer_id, total, n',
    });
    const broken = await run({ ...spec, sql: 'select nope from pg_temp."__df_ut_0_stg_orders"' });
    expect(broken.status).toBe('error');
    expect(broken.error).toMatchObject({ code: '42703' });
  });
});

describe('incremental model with a given this', () => {
  const incremental = (
    strategy: 'merge' | 'delete+insert' | 'append',
    expectRows: unknown[],
  ): UnitTestSpec => ({
    name: `applies_${strategy}`,
    model: {
      name: 'fct_events',
      materialized: 'incremental',
      incrementalStrategy: strategy,
      uniqueKey: ['id'],
    },
    inputs: [
      {
        input: "source('raw', 'events')",
        tempName: '__df_ut_0_events',
        relation: { schema: 'raw_absent', identifier: 'events', sql: '"raw_absent"."events"' },
        fixture: fixture({
          rows: [
            { id: 2, amount: 25, day: '2024-01-02' },
            { id: 3, amount: 30, day: '2024-01-03' },
          ],
        }),
      },
      {
        input: 'this',
        tempName: '__df_ut_this',
        fixture: fixture({
          rows: [
            { id: 1, amount: 10, day: '2024-01-01' },
            { id: 2, amount: 20, day: '2024-01-02' },
          ],
        }),
      },
    ],
    sql: `select id, amount, day from pg_temp."__df_ut_0_events" where day > (select max(day) from pg_temp."__df_ut_this") - 1`,
    shapeSql: `select id, amount, day from pg_temp."__df_ut_0_events"`,
    expect: fixture({ rows: expectRows }),
    applyToThis: true,
  });

  it('merge: asserts the table after the merge, not the SELECT', async () => {
    const result = await run(
      incremental('merge', [
        { id: 1, amount: 10 },
        { id: 2, amount: 25 },
        { id: 3, amount: 30 },
      ]),
    );
    expect(result).toMatchObject({ status: 'pass' });
  });

  it('delete+insert and append, and a failing expectation shows the table rows', async () => {
    expect(await run(incremental('delete+insert', [{ id: 1 }, { id: 2 }, { id: 3 }]))).toMatchObject({
      status: 'pass',
    });
    const appended = await run(
      incremental('append', [
        { id: 1, amount: 10 },
        { id: 2, amount: 25 },
        { id: 3, amount: 30 },
      ]),
    );
    expect(appended.status).toBe('fail');
    expect(appended.message).toBe(
      ['actual differs from expected:', '@@  | id | amount', '+++ | 2  | 20'].join('\n'),
    );
  });

  it('a batch that repeats its unique key is an error naming the key', async () => {
    const spec = incremental('merge', [{ id: 1 }]);
    const dup = {
      ...spec,
      sql: `select 2 as id, 1 as amount, date '2024-01-02' as day union all select 2, 2, date '2024-01-02'`,
    };
    expect(await run(dup)).toMatchObject({
      status: 'error',
      message: 'fct_events: the new rows repeat unique_key values (id): {"id":2}; nothing was written',
    });
  });
});
