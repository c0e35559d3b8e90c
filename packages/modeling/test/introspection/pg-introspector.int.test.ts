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
});
