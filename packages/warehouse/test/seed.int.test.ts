import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeed, type WarehouseError } from '../src/index.js';

const db = useTestDatabase();
const jaffle = '/work/shared/fixtures/jaffle_shop';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warehouse-seed-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function columnTypes(table: string): Promise<string[]> {
  const { rows } = await db.pool.query(
    'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
    [db.schema, table],
  );
  return rows.map((r) => `${r.column_name}:${r.data_type}`);
}

describe('loadSeed', () => {
  it('infers jaffle_shop seed types: ids and amount integer, order_date date, the rest text', async () => {
    const customers = await loadSeed(db.pool, {
      file: join(jaffle, 'raw_customers.csv'),
      table: 'raw_customers',
      schema: db.schema,
    });
    const orders = await loadSeed(db.pool, {
      file: join(jaffle, 'raw_orders.csv'),
      table: 'raw_orders',
      schema: db.schema,
    });
    const payments = await loadSeed(db.pool, {
      file: join(jaffle, 'raw_payments.csv'),
      table: 'raw_payments',
      schema: db.schema,
    });
    expect([customers.rows, orders.rows, payments.rows]).toEqual([100, 99, 113]);
    expect(orders).toEqual({
      table: `${db.schema}.raw_orders`,
      rows: 99,
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'user_id', type: 'integer' },
        { name: 'order_date', type: 'date' },
        { name: 'status', type: 'text' },
      ],
    });
    expect(await columnTypes('raw_customers')).toEqual(['id:integer', 'first_name:text', 'last_name:text']);
    expect(await columnTypes('raw_payments')).toEqual([
      'id:integer',
      'order_id:integer',
      'payment_method:text',
      'amount:integer',
    ]);
    // dbt SQL doing arithmetic on seed columns runs unchanged.
    const { rows } = await db.pool.query(
      'SELECT sum(amount) / 100 AS dollars, min(order_date) + 1 AS next_day FROM raw_payments p JOIN raw_orders o ON o.id = p.order_id',
    );
    expect(rows[0].dollars).toBe('1672');
    expect(rows[0].next_day.toISOString().slice(0, 10)).toBe('2018-01-02');
  });

  it('re-seeding replaces the contents atomically; overrides win; changed columns recreate the table', async () => {
    const file = join(dir, 'countries.csv');
    await writeFile(
      file,
      'code,name,founded,active,ratio\nFR,France,1792-09-22,true,1.5\nDE,Germany,,false,\n',
    );
    const first = await loadSeed(db.pool, { file, table: 'countries', columnTypes: { code: 'char(2)' } });
    expect(first.columns).toEqual([
      { name: 'code', type: 'char(2)' },
      { name: 'name', type: 'text' },
      { name: 'founded', type: 'date' },
      { name: 'active', type: 'boolean' },
      { name: 'ratio', type: 'numeric' },
    ]);
    const oid = async () => (await db.pool.query("SELECT 'countries'::regclass::oid AS oid")).rows[0].oid;
    const firstOid = await oid();
    // Same columns and types: the table is kept (truncate + COPY in one transaction).
    await writeFile(file, 'code,name,founded,active,ratio\nIT,Italy,1861-03-17,true,2.5\n');
    expect(
      (await loadSeed(db.pool, { file, table: 'countries', columnTypes: { code: 'char(2)' } })).rows,
    ).toBe(1);
    expect((await db.pool.query('SELECT code, name, active, ratio FROM countries')).rows).toEqual([
      { code: 'IT', name: 'Italy', active: true, ratio: '2.5' },
    ]);
    expect(await oid()).toBe(firstOid);
    await writeFile(file, 'code;population\nIT;59000000000\n');
    const changed = await loadSeed(db.pool, { file, table: 'countries', delimiter: ';' });
    expect(changed.columns).toEqual([
      { name: 'code', type: 'text' },
      { name: 'population', type: 'bigint' },
    ]);
    expect((await db.pool.query('SELECT code, population FROM countries')).rows).toEqual([
      { code: 'IT', population: '59000000000' },
    ]);
    expect(await oid()).not.toBe(firstOid);
  });

  it('a failing seed load leaves the previous seed in place', async () => {
    const file = join(dir, 'bad.csv');
    await writeFile(file, 'id,label\n1,one\n2,two\n');
    await loadSeed(db.pool, { file, table: 'bad_seed' });
    await writeFile(file, 'id,label\n3,three\n4,four\n');
    // Forcing a type the data does not fit makes the COPY fail after the table was swapped in the transaction.
    const error = (await loadSeed(db.pool, {
      file,
      table: 'bad_seed',
      columnTypes: { label: 'integer' },
    }).catch((e) => e)) as WarehouseError;
    expect(error).toMatchObject({ code: 'COPY_FAILED', sqlState: '22P02', line: 2 });
    expect((await db.pool.query('SELECT id, label FROM bad_seed ORDER BY id')).rows).toEqual([
      { id: 1, label: 'one' },
      { id: 2, label: 'two' },
    ]);
    expect(await columnTypes('bad_seed')).toEqual(['id:integer', 'label:text']);
  });

  it('rejects bad override types and long names before any SQL', async () => {
    await expect(
      loadSeed(db.pool, {
        file: join(jaffle, 'raw_orders.csv'),
        table: 'x',
        columnTypes: { id: 'int; drop table x' },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(
      loadSeed(db.pool, { file: join(jaffle, 'raw_orders.csv'), table: 'y'.repeat(64) }),
    ).rejects.toMatchObject({
      code: 'IDENTIFIER_TOO_LONG',
    });
  });
});
