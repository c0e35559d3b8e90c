import { useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { createPgIntrospector } from '../../src/introspection/pg-introspector.js';

const db = useTestDatabase();

describe('createPgIntrospector', () => {
  it('answers queries with typed columns, columns of a relation in order, and relation existence and type', async () => {
    await db.pool.query(`create table ${db.schema}.orders (id int, code varchar(8), amount numeric(10,2))`);
    await db.pool.query(`create view ${db.schema}.v_orders as select id from ${db.schema}.orders`);
    await db.pool.query(`insert into ${db.schema}.orders values (1, 'a', 1.50), (2, 'b', null)`);
    const introspect = createPgIntrospector(db.pool);
    const [query, columns, table, view, missing] = await introspect([
      { kind: 'query', sql: `select id, code from ${db.schema}.orders order by id` },
      { kind: 'columns', schema: db.schema, identifier: 'orders' },
      { kind: 'relation', schema: db.schema, identifier: 'orders' },
      { kind: 'relation', schema: db.schema, identifier: 'v_orders' },
      { kind: 'relation', schema: db.schema, identifier: 'nope' },
    ]);
    expect(query).toEqual({
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'code', type: 'character varying' },
      ],
      rows: [
        [1, 'a'],
        [2, 'b'],
      ],
      command: 'SELECT',
      rowCount: 2,
    });
    expect(columns).toEqual([
      { name: 'id', dataType: 'integer', charMaxLength: null, numericPrecision: 32, numericScale: 0 },
      {
        name: 'code',
        dataType: 'character varying',
        charMaxLength: 8,
        numericPrecision: null,
        numericScale: null,
      },
      { name: 'amount', dataType: 'numeric', charMaxLength: null, numericPrecision: 10, numericScale: 2 },
    ]);
    expect(table).toEqual({ schema: db.schema, identifier: 'orders', type: 'table' });
    expect(view).toEqual({ schema: db.schema, identifier: 'v_orders', type: 'view' });
    expect(missing).toBeNull();
  });

  it('gives values as plain data for the agate table (bigint as a number when exact; numeric and dates as their text) and lists a schema', async () => {
    await db.pool.query(`create table ${db.schema}.t1 (id int)`);
    await db.pool.query(`create view ${db.schema}.v1 as select id from ${db.schema}.t1`);
    const [values, relations] = await createPgIntrospector(db.pool)([
      {
        kind: 'query',
        sql: "select 3::bigint as n, 2.50::numeric(4,2) as exact, 0.1::numeric as tenth, 12345678901234567890::numeric as big, date '2024-01-31' as d, timestamp '2024-01-31 10:00:00' as ts",
      },
      { kind: 'relations', schema: db.schema },
    ]);
    expect((values as { rows: unknown[][] }).rows).toEqual([
      [3, '2.50', '0.1', '12345678901234567890', '2024-01-31', '2024-01-31 10:00:00'],
    ]);
    // The schema is the test file's: the first test's relations are there too.
    expect((relations as Array<{ identifier: string }>).filter((r) => /^[tv]1$/.test(r.identifier))).toEqual([
      { schema: db.schema, identifier: 't1', type: 'table' },
      { schema: db.schema, identifier: 'v1', type: 'view' },
    ]);
  });
});
