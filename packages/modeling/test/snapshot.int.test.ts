import { createHash } from 'node:crypto';
import { withClient } from '@dataflow/pg';
import { useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import {
  ModelingError,
  resolveSnapshotConfig,
  runSnapshot,
  type SnapshotConfig,
  type SnapshotOutcome,
} from '../src/index.js';

const db = useTestDatabase();
const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const rows = async (sql: string) => (await db.pool.query(sql)).rows;

function config(raw: Record<string, unknown>): SnapshotConfig {
  const { config, problems } = resolveSnapshotConfig(raw);
  expect(problems).toEqual([]);
  return config as SnapshotConfig;
}

/** A source table `<name>_src` and a function that snapshots it into `<name>` at a given time. */
async function scenario(name: string, columns: string, snapshotConfig: SnapshotConfig) {
  await db.pool.query(`create table ${name}_src (${columns})`);
  const relation = { schema: db.schema, identifier: name, sql: `"${db.schema}"."${name}"` };
  return {
    load: async (values: string) => {
      await db.pool.query(`truncate ${name}_src`);
      if (values) await db.pool.query(`insert into ${name}_src values ${values}`);
    },
    run: (now: string): Promise<SnapshotOutcome> =>
      withClient(db.pool, (client) =>
        runSnapshot(
          client,
          { name, relation, sql: `select * from ${name}_src`, config: snapshotConfig },
          { now },
        ),
      ),
  };
}

describe('timestamp strategy over three batches (insert, update, hard delete)', () => {
  const scd = (id: number, at: string) => md5(`${id}|${at}`);
  const select = (table: string) =>
    rows(
      `select id, name, updated_at::text as u, dbt_valid_from::text as vf, dbt_valid_to::text as vt, dbt_scd_id as scd, dbt_updated_at::text as du from ${table} order by id, dbt_valid_from`,
    );

  for (const hardDeletes of ['ignore', 'invalidate'] as const) {
    it(`hard_deletes: ${hardDeletes}`, async () => {
      const table = `ts_${hardDeletes}`;
      const s = await scenario(
        table,
        'id int, name text, updated_at timestamp',
        config({
          strategy: 'timestamp',
          unique_key: 'id',
          updated_at: 'updated_at',
          hard_deletes: hardDeletes,
        }),
      );
      await s.load(`(1, 'alice', '2024-01-01'), (2, 'bob', '2024-01-01')`);
      expect(await s.run('2024-02-01T00:00:00Z')).toEqual({ action: 'created', inserted: 2, closed: 0 });
      await s.load(`(1, 'alicia', '2024-01-15'), (2, 'bob', '2024-01-01'), (3, 'carol', '2024-01-20')`);
      expect(await s.run('2024-02-02T00:00:00Z')).toEqual({ action: 'snapshotted', inserted: 2, closed: 1 });
      await s.load(`(1, 'alicia', '2024-01-15'), (3, 'carol', '2024-01-20')`);
      const third = await s.run('2024-02-03T00:00:00Z');
      expect(third).toEqual({ action: 'snapshotted', inserted: 0, closed: hardDeletes === 'ignore' ? 0 : 1 });
      const jan1 = '2024-01-01 00:00:00';
      const jan15 = '2024-01-15 00:00:00';
      const jan20 = '2024-01-20 00:00:00';
      expect(await select(table)).toEqual([
        { id: 1, name: 'alice', u: jan1, vf: jan1, vt: jan15, scd: scd(1, jan1), du: jan1 },
        { id: 1, name: 'alicia', u: jan15, vf: jan15, vt: null, scd: scd(1, jan15), du: jan15 },
        {
          id: 2,
          name: 'bob',
          u: jan1,
          vf: jan1,
          vt: hardDeletes === 'ignore' ? null : '2024-02-03 00:00:00',
          scd: scd(2, jan1),
          du: jan1,
        },
        { id: 3, name: 'carol', u: jan20, vf: jan20, vt: null, scd: scd(3, jan20), du: jan20 },
      ]);
      // A run without changes changes nothing.
      expect(await s.run('2024-02-04T00:00:00Z')).toEqual({ action: 'snapshotted', inserted: 0, closed: 0 });
    });
  }

  it('hard_deletes: new_record adds a deletion record and a new version when the key comes back', async () => {
    const s = await scenario(
      'ts_new_record',
      'id int, name text, updated_at timestamp',
      config({
        strategy: 'timestamp',
        unique_key: 'id',
        updated_at: 'updated_at',
        hard_deletes: 'new_record',
      }),
    );
    await s.load(`(1, 'alice', '2024-01-01'), (2, 'bob', '2024-01-01')`);
    await s.run('2024-02-01T00:00:00Z');
    await s.load(`(1, 'alicia', '2024-01-15'), (2, 'bob', '2024-01-01'), (3, 'carol', '2024-01-20')`);
    await s.run('2024-02-02T00:00:00Z');
    await s.load(`(1, 'alicia', '2024-01-15'), (3, 'carol', '2024-01-20')`);
    expect(await s.run('2024-02-03T00:00:00Z')).toEqual({ action: 'snapshotted', inserted: 1, closed: 1 });
    // Deleted again: the deletion record is current already, nothing happens.
    expect(await s.run('2024-02-04T00:00:00Z')).toEqual({ action: 'snapshotted', inserted: 0, closed: 0 });
    await s.load(`(1, 'alicia', '2024-01-15'), (2, 'bobby', '2024-02-05'), (3, 'carol', '2024-01-20')`);
    expect(await s.run('2024-02-06T00:00:00Z')).toEqual({ action: 'snapshotted', inserted: 1, closed: 1 });
    const jan1 = '2024-01-01 00:00:00';
    const feb3 = '2024-02-03 00:00:00';
    const feb5 = '2024-02-05 00:00:00';
    expect(
      await rows(
        `select id, name, dbt_valid_from::text as vf, dbt_valid_to::text as vt, dbt_is_deleted as del, dbt_scd_id as scd
         from ts_new_record where id = 2 order by dbt_valid_from`,
      ),
    ).toEqual([
      { id: 2, name: 'bob', vf: jan1, vt: feb3, del: 'False', scd: md5(`2|${jan1}`) },
      { id: 2, name: 'bob', vf: feb3, vt: feb5, del: 'True', scd: md5(`${md5(`2|${jan1}`)}|${feb3}`) },
      { id: 2, name: 'bobby', vf: feb5, vt: null, del: 'False', scd: md5(`2|${feb5}`) },
    ]);
    expect(await rows(`select count(*)::int as n from ts_new_record where dbt_valid_to is null`)).toEqual([
      { n: 3 },
    ]);
  });
});

describe('check strategy with a composite key', () => {
  it('check_cols all, new_record, dbt_valid_to_current and renamed metadata columns', async () => {
    const s = await scenario(
      'chk_all',
      'id int, region text, name text',
      config({
        strategy: 'check',
        unique_key: ['id', 'region'],
        check_cols: 'all',
        hard_deletes: 'new_record',
        dbt_valid_to_current: `'9999-12-31'::timestamp`,
        snapshot_meta_column_names: {
          dbt_valid_from: 'start_at',
          dbt_valid_to: 'end_at',
          dbt_is_deleted: 'gone',
        },
      }),
    );
    const t1 = '2024-02-01 00:00:00';
    const t2 = '2024-02-02 00:00:00';
    const t3 = '2024-02-03 00:00:00';
    const forever = '9999-12-31 00:00:00';
    await s.load(`(1, 'eu', 'alice'), (2, 'us', 'bob')`);
    expect(await s.run('2024-02-01T00:00:00Z')).toEqual({ action: 'created', inserted: 2, closed: 0 });
    // Same id in another region is another key; (1, eu) changes its name.
    await s.load(`(1, 'eu', 'alicia'), (2, 'us', 'bob'), (1, 'us', 'carol')`);
    expect(await s.run('2024-02-02T00:00:00Z')).toEqual({ action: 'snapshotted', inserted: 2, closed: 1 });
    await s.load(`(1, 'eu', 'alicia'), (1, 'us', 'carol')`);
    expect(await s.run('2024-02-03T00:00:00Z')).toEqual({ action: 'snapshotted', inserted: 1, closed: 1 });
    expect(
      await rows(
        `select id, region, name, start_at::text as vf, end_at::text as vt, gone, dbt_updated_at::text as du, dbt_scd_id as scd
         from chk_all order by id, region, start_at`,
      ),
    ).toEqual([
      { id: 1, region: 'eu', name: 'alice', vf: t1, vt: t2, gone: 'False', du: t1, scd: md5(`1|eu|${t1}`) },
      {
        id: 1,
        region: 'eu',
        name: 'alicia',
        vf: t2,
        vt: forever,
        gone: 'False',
        du: t2,
        scd: md5(`1|eu|${t2}`),
      },
      {
        id: 1,
        region: 'us',
        name: 'carol',
        vf: t2,
        vt: forever,
        gone: 'False',
        du: t2,
        scd: md5(`1|us|${t2}`),
      },
      { id: 2, region: 'us', name: 'bob', vf: t1, vt: t3, gone: 'False', du: t1, scd: md5(`2|us|${t1}`) },
      {
        id: 2,
        region: 'us',
        name: 'bob',
        vf: t3,
        vt: forever,
        gone: 'True',
        du: t3,
        scd: md5(`${md5(`2|us|${t1}`)}|${t3}`),
      },
    ]);
  });

  it('check_cols as a list ignores other columns; a new source column is added and versions every row', async () => {
    const s = await scenario(
      'chk_list',
      'id int, name text, visits int',
      config({ strategy: 'check', unique_key: 'id', check_cols: ['name'], hard_deletes: 'invalidate' }),
    );
    await s.load(`(1, 'alice', 1), (2, 'bob', null)`);
    await s.run('2024-02-01T00:00:00Z');
    await s.load(`(1, 'alice', 2), (2, 'bobby', null)`);
    expect(await s.run('2024-02-02T00:00:00Z')).toEqual({ action: 'snapshotted', inserted: 1, closed: 1 });
    expect(
      await rows(`select id, name, visits from chk_list where dbt_valid_to is null order by id`),
    ).toEqual([
      { id: 1, name: 'alice', visits: 1 },
      { id: 2, name: 'bobby', visits: null },
    ]);
    // A NULL that becomes a value is a change (NULL-safe comparison).
    await db.pool.query(`alter table chk_list_src add column tier text`);
    await s.load(`(1, 'alice', 2, 'gold'), (2, 'bobby', null, null)`);
    const withColumn = await withClient(db.pool, (client) =>
      runSnapshot(
        client,
        {
          name: 'chk_list',
          relation: { schema: db.schema, identifier: 'chk_list', sql: `"${db.schema}"."chk_list"` },
          sql: 'select * from chk_list_src',
          config: config({ strategy: 'check', unique_key: 'id', check_cols: ['name', 'tier'] }),
        },
        { now: '2024-02-03T00:00:00Z' },
      ),
    );
    expect(withColumn).toEqual({ action: 'snapshotted', inserted: 2, closed: 2 });
    expect(await rows(`select id, tier from chk_list where dbt_valid_to is null order by id`)).toEqual([
      { id: 1, tier: 'gold' },
      { id: 2, tier: null },
    ]);
  });
});

describe('bad source keys', () => {
  it('NULL and duplicate keys fail naming the keys, and nothing is written', async () => {
    const s = await scenario(
      'bad_keys',
      'id int, region text, name text, updated_at timestamp',
      config({ strategy: 'timestamp', unique_key: ['id', 'region'], updated_at: 'updated_at' }),
    );
    await s.load(`(1, 'eu', 'a', '2024-01-01')`);
    await s.run('2024-02-01T00:00:00Z');
    await s.load(`(1, 'eu', 'a', '2024-01-02'), (2, null, 'b', '2024-01-02')`);
    const nullKey = await s.run('2024-02-02T00:00:00Z').catch((e: unknown) => e);
    expect(nullKey).toBeInstanceOf(ModelingError);
    expect(nullKey).toMatchObject({ code: 'NULL_UNIQUE_KEY' });
    expect((nullKey as Error).message).toBe(
      'bad_keys: 1 source row(s) have a NULL in unique_key (id, region); offending keys: {"id":2,"region":null}; nothing was written',
    );
    await s.load(`(1, 'eu', 'a', '2024-01-02'), (1, 'eu', 'b', '2024-01-03'), (3, 'us', 'c', '2024-01-02')`);
    const duplicate = await s.run('2024-02-03T00:00:00Z').catch((e: unknown) => e);
    expect(duplicate).toMatchObject({ code: 'DUPLICATE_UNIQUE_KEY' });
    expect((duplicate as Error).message).toBe(
      'bad_keys: the source rows repeat unique_key values (id, region): {"id":1,"region":"eu"}; nothing was written',
    );
    expect(await rows(`select id, name, dbt_valid_to from bad_keys`)).toEqual([
      { id: 1, name: 'a', dbt_valid_to: null },
    ]);
  });

  it('refuses a source that uses a metadata column name, and a target that is not a snapshot table', async () => {
    await db.pool.query(`create table plain_table (id int, name text)`);
    const run = (sql: string, identifier: string) =>
      withClient(db.pool, (client) =>
        runSnapshot(client, {
          name: identifier,
          relation: { schema: db.schema, identifier, sql: `"${db.schema}"."${identifier}"` },
          sql,
          config: config({ strategy: 'check', unique_key: 'id', check_cols: 'all' }),
        }),
      ).catch((e: unknown) => e);
    expect(await run(`select 1 as id, now() as dbt_valid_to`, 'clash')).toMatchObject({
      code: 'SNAPSHOT_INVALID',
      message: 'clash: the source query has column(s) dbt_valid_to, which the snapshot table keeps itself',
    });
    expect(await run(`select 1 as id, 'x'::text as name`, 'plain_table')).toMatchObject({
      code: 'SNAPSHOT_INVALID',
      message: `plain_table: "${db.schema}"."plain_table" is not a snapshot table with these metadata columns: no dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to`,
    });
  });
});
