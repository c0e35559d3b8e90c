import { describe, expect, it } from 'vitest';
import {
  planSnapshotApply,
  planSnapshotCloses,
  planSnapshotCreate,
  planSnapshotInserts,
  planSnapshotTime,
  resolveSnapshotConfig,
  type SnapshotConfig,
} from '../src/index.js';

const target = { schema: 'snap', identifier: 'customers', sql: '"snap"."customers"' };
const NOW = `current_setting('dataflow.snapshot_time')::timestamp`;

function resolved(raw: Record<string, unknown>): SnapshotConfig {
  const { config, problems } = resolveSnapshotConfig(raw);
  expect(problems).toEqual([]);
  return config as SnapshotConfig;
}

describe('resolveSnapshotConfig', () => {
  it('reads the dbt keys, with the older invalidate_hard_deletes and renamed metadata columns', () => {
    expect(
      resolved({
        strategy: 'timestamp',
        unique_key: 'id',
        updated_at: 'updated_at',
        invalidate_hard_deletes: true,
        snapshot_meta_column_names: { dbt_valid_to: 'end_at' },
      }),
    ).toEqual({
      strategy: 'timestamp',
      uniqueKey: ['id'],
      updatedAt: 'updated_at',
      hardDeletes: 'invalidate',
      columns: {
        validFrom: 'dbt_valid_from',
        validTo: 'end_at',
        scdId: 'dbt_scd_id',
        updatedAt: 'dbt_updated_at',
        isDeleted: 'dbt_is_deleted',
      },
    });
  });

  it('collects every problem', () => {
    expect(resolveSnapshotConfig({ strategy: 'timestamp' }).problems).toEqual([
      'unique_key is required: a column name or a list of column names',
      'the timestamp strategy needs updated_at',
    ]);
    expect(
      resolveSnapshotConfig({
        strategy: 'check',
        unique_key: ['id'],
        check_cols: 5,
        hard_deletes: 'invalidate',
        invalidate_hard_deletes: true,
        snapshot_meta_column_names: { dbt_valid_from: 'x', dbt_valid_to: 'x', nope: 'y' },
      }).problems,
    ).toEqual([
      'check_cols must be "all" or a list of column names, got 5',
      'set either hard_deletes or the older invalidate_hard_deletes, not both',
      'snapshot_meta_column_names: unknown key nope (expected dbt_valid_from, dbt_valid_to, dbt_scd_id, dbt_updated_at, dbt_is_deleted)',
      'snapshot_meta_column_names gives two metadata columns the same name',
    ]);
    expect(
      resolveSnapshotConfig({ strategy: 'merge', unique_key: 'id', hard_deletes: 'drop' }).problems,
    ).toEqual([
      'strategy must be timestamp or check, got "merge"',
      'hard_deletes must be ignore, invalidate or new_record, got "drop"',
    ]);
  });
});

describe('golden SQL: timestamp strategy, invalidate', () => {
  const config = resolved({
    strategy: 'timestamp',
    unique_key: 'id',
    updated_at: 'updated_at',
    hard_deletes: 'invalidate',
  });
  const inputs = { target, config, sourceColumns: ['id', 'name', 'updated_at'] };
  const scd = `md5(coalesce(cast(s."id" as varchar), '') || '|' || coalesce(cast(s."updated_at" as varchar), ''))`;

  it('binds the snapshot time', () => {
    expect(planSnapshotTime('2024-02-01T00:00:00Z')).toEqual({
      text: `select set_config('dataflow.snapshot_time', $1, true)`,
      values: ['2024-02-01T00:00:00Z'],
    });
    expect(planSnapshotTime().values).toEqual([]);
  });

  it('first run', () => {
    expect(planSnapshotCreate({ target, sourceSql: 'select * from raw.customers;', config })).toBe(
      `create table "snap"."customers" as
select s.*,
  ${scd} as "dbt_scd_id",
  s."updated_at" as "dbt_updated_at",
  s."updated_at" as "dbt_valid_from",
  coalesce(nullif(s."updated_at", s."updated_at"), null) as "dbt_valid_to"
from (
select * from raw.customers
) as s`,
    );
  });

  it('closes changed rows at their updated_at and deleted keys at the snapshot time', () => {
    expect(planSnapshotCloses(inputs)).toBe(
      `create temp table "__df_snapshot_closes" on commit drop as
select c."dbt_scd_id" as scd_id, s."updated_at" as close_at
from "pg_temp"."__df_snapshot_source" as s
join "snap"."customers" as c on c."id" = s."id"
where c."dbt_valid_to" is null and (c."dbt_valid_from" < s."updated_at")
union all
select c."dbt_scd_id", ${NOW}
from "snap"."customers" as c
where c."dbt_valid_to" is null
  and not exists (select from "pg_temp"."__df_snapshot_source" as s where c."id" = s."id")`,
    );
  });

  it('inserts new keys and changed rows; applies closes then inserts', () => {
    expect(planSnapshotInserts(inputs)).toBe(
      `create temp table "__df_snapshot_inserts" on commit drop as
select s."id", s."name", s."updated_at", ${scd} as "dbt_scd_id", s."updated_at" as "dbt_updated_at", s."updated_at" as "dbt_valid_from", coalesce(nullif(s."updated_at", s."updated_at"), null) as "dbt_valid_to"
from "pg_temp"."__df_snapshot_source" as s
left join (select * from "snap"."customers" as c where c."dbt_valid_to" is null) as c on c."id" = s."id"
where c."id" is null or (c."dbt_valid_from" < s."updated_at")`,
    );
    expect(planSnapshotApply(inputs)).toEqual({
      close: `update "snap"."customers" as t set "dbt_valid_to" = k.close_at
from "pg_temp"."__df_snapshot_closes" as k
where t."dbt_scd_id" = k.scd_id and t."dbt_valid_to" is null`,
      insert: `insert into "snap"."customers" ("id", "name", "updated_at", "dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")
select * from "pg_temp"."__df_snapshot_inserts"`,
    });
  });

  it('ignore: no delete branch', () => {
    const ignore = { ...inputs, config: { ...config, hardDeletes: 'ignore' as const } };
    expect(planSnapshotCloses(ignore)).not.toContain('not exists');
  });
});

describe('golden SQL: check strategy, composite key, new_record, dbt_valid_to_current', () => {
  const config = resolved({
    strategy: 'check',
    unique_key: ['id', 'region'],
    check_cols: ['name'],
    hard_deletes: 'new_record',
    dbt_valid_to_current: `'9999-12-31'::timestamp`,
  });
  const inputs = {
    target,
    config,
    sourceColumns: ['id', 'region', 'name'],
    checkColumns: ['name'],
    columnAdded: false,
  };
  const current = `(c."dbt_valid_to" = '9999-12-31'::timestamp or c."dbt_valid_to" is null)`;
  const keys = `c."id" = s."id" and c."region" = s."region"`;

  it('closes changed rows and reopened deletion records at the snapshot time, deleted keys once', () => {
    expect(planSnapshotCloses(inputs)).toBe(
      `create temp table "__df_snapshot_closes" on commit drop as
select c."dbt_scd_id" as scd_id, ${NOW} as close_at
from "pg_temp"."__df_snapshot_source" as s
join "snap"."customers" as c on ${keys}
where ${current} and (c."name" is distinct from s."name" or c."dbt_is_deleted" = 'True')
union all
select c."dbt_scd_id", ${NOW}
from "snap"."customers" as c
where ${current} and c."dbt_is_deleted" is distinct from 'True'
  and not exists (select from "pg_temp"."__df_snapshot_source" as s where ${keys})`,
    );
  });

  it('inserts new versions and deletion records', () => {
    const scd = `md5(coalesce(cast(s."id" as varchar), '') || '|' || coalesce(cast(s."region" as varchar), '') || '|' || coalesce(cast(${NOW} as varchar), ''))`;
    expect(planSnapshotInserts(inputs)).toBe(
      `create temp table "__df_snapshot_inserts" on commit drop as
select s."id", s."region", s."name", ${scd} as "dbt_scd_id", ${NOW} as "dbt_updated_at", ${NOW} as "dbt_valid_from", coalesce(nullif(${NOW}, ${NOW}), '9999-12-31'::timestamp) as "dbt_valid_to", 'False'::text as "dbt_is_deleted"
from "pg_temp"."__df_snapshot_source" as s
left join (select * from "snap"."customers" as c where ${current}) as c on ${keys}
where c."id" is null or (c."name" is distinct from s."name" or c."dbt_is_deleted" = 'True')
union all
select c."id", c."region", c."name", md5(coalesce(cast(c."dbt_scd_id" as varchar), '') || '|' || coalesce(cast(${NOW} as varchar), '')), ${NOW}, ${NOW}, c."dbt_valid_to", 'True'::text
from "snap"."customers" as c
where ${current} and c."dbt_is_deleted" is distinct from 'True'
  and not exists (select from "pg_temp"."__df_snapshot_source" as s where ${keys})`,
    );
  });

  it('a column new to the table changes every row', () => {
    expect(planSnapshotCloses({ ...inputs, columnAdded: true })).toContain(
      `where ${current} and (true or c."dbt_is_deleted" = 'True')`,
    );
  });
});
