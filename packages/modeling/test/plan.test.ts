import { describe, expect, it } from 'vitest';
import {
  planCreateTemp,
  planDuplicateKeyCheck,
  planIncremental,
  planNullKeyCheck,
  planReplaceView,
  planSwap,
  viewColumnsCompatible,
  workNames,
} from '../src/index.js';
import { planDependentViewLocks, planPublishLock } from '../src/plan.js';

const relation = { schema: 'analytics', identifier: 'orders', sql: '"analytics"."orders"' };
const names = workNames(relation, 'ab12cd34');

describe('workNames', () => {
  it('derives per-run temp and backup names next to the relation', () => {
    expect(names.temp).toEqual({
      schema: 'analytics',
      identifier: 'orders__df_tmp_ab12cd34',
      sql: '"analytics"."orders__df_tmp_ab12cd34"',
    });
    expect(names.backup.sql).toBe('"analytics"."orders__df_bak_ab12cd34"');
  });
  it('shortens long names to 63 bytes but keeps the run token', () => {
    const long = { schema: 's', identifier: 'é'.repeat(31), sql: '' };
    const n = workNames(long, 'ffffffff');
    expect(Buffer.byteLength(n.temp.identifier)).toBeLessThanOrEqual(63);
    expect(n.temp.identifier.endsWith('__df_tmp_ffffffff')).toBe(true);
    expect(n.temp.identifier.startsWith('é'.repeat(23))).toBe(true);
  });
});

describe('golden SQL per materialization', () => {
  it('table: CTAS into the temp name, then swap with dependents recreated (grants and comments kept) and no CASCADE', () => {
    expect(planCreateTemp('table', names.temp, 'select 1 as id;\n')).toEqual([
      'create table "analytics"."orders__df_tmp_ab12cd34" as (\nselect 1 as id\n)',
    ]);
    const swap = planSwap({
      relation,
      names,
      newKind: 'table',
      existing: 'table',
      dependents: [
        {
          schema: 'analytics',
          name: 'v1',
          kind: 'view',
          definition: ' SELECT id FROM analytics.orders;',
          options: [],
          depth: 1,
          owner: 'etl',
          grants: [{ grantee: 'reporting', privilege: 'SELECT', grantable: false }],
          comment: 'orders by id',
          columnComments: [],
        },
        {
          schema: 'reporting',
          name: 'v2',
          kind: 'view',
          definition: ' SELECT id FROM analytics.v1;',
          options: ['security_barrier=true'],
          depth: 2,
          owner: 'etl',
          grants: [],
          comment: null,
          columnComments: [],
        },
      ],
    });
    expect(swap).toEqual([
      'drop view "reporting"."v2"',
      'drop view "analytics"."v1"',
      'alter table "analytics"."orders" rename to "orders__df_bak_ab12cd34"',
      'alter table "analytics"."orders__df_tmp_ab12cd34" rename to "orders"',
      'create view "analytics"."v1" as SELECT id FROM analytics.orders',
      'grant SELECT on "analytics"."v1" to "reporting"',
      `comment on view "analytics"."v1" is 'orders by id'`,
      'create view "reporting"."v2" with (security_barrier=true) as SELECT id FROM analytics.v1',
      'drop table "analytics"."orders__df_bak_ab12cd34"',
    ]);
    expect(swap.join('\n')).not.toMatch(/cascade/i);
  });

  it('table, first build: the temp relation is renamed into place', () => {
    expect(planSwap({ relation, names, newKind: 'table', existing: null, dependents: [] })).toEqual([
      'alter table "analytics"."orders__df_tmp_ab12cd34" rename to "orders"',
    ]);
  });

  it('view: temp view, then CREATE OR REPLACE when compatible, or a swap across kinds', () => {
    expect(planCreateTemp('view', names.temp, 'select 1 as id')).toEqual([
      'create view "analytics"."orders__df_tmp_ab12cd34" as (\nselect 1 as id\n)',
    ]);
    expect(planReplaceView(relation, names.temp, 'select 1 as id')).toEqual([
      'create or replace view "analytics"."orders" as (\nselect 1 as id\n)',
      'drop view "analytics"."orders__df_tmp_ab12cd34"',
    ]);
    expect(planSwap({ relation, names, newKind: 'view', existing: 'table', dependents: [] })).toEqual([
      'alter table "analytics"."orders" rename to "orders__df_bak_ab12cd34"',
      'alter view "analytics"."orders__df_tmp_ab12cd34" rename to "orders"',
      'drop table "analytics"."orders__df_bak_ab12cd34"',
    ]);
  });

  it('view column compatibility follows CREATE OR REPLACE VIEW rules', () => {
    const a = [{ name: 'id', type: 'integer' }];
    expect(viewColumnsCompatible(a, [...a, { name: 'x', type: 'text' }])).toBe(true);
    expect(viewColumnsCompatible(a, [{ name: 'id', type: 'bigint' }])).toBe(false);
    expect(viewColumnsCompatible([...a, { name: 'x', type: 'text' }], a)).toBe(false);
    expect(viewColumnsCompatible(a, [{ name: 'x', type: 'text' }, ...a])).toBe(false);
  });

  it('incremental append', () => {
    expect(
      planIncremental({ strategy: 'append', relation, temp: names.temp, columns: ['id', 'amount'] }),
    ).toEqual([
      'insert into "analytics"."orders" ("id", "amount")\nselect "id", "amount" from "analytics"."orders__df_tmp_ab12cd34"',
      'drop table "analytics"."orders__df_tmp_ab12cd34"',
    ]);
  });

  it('incremental delete+insert on a composite key', () => {
    expect(
      planIncremental({
        strategy: 'delete+insert',
        relation,
        temp: names.temp,
        columns: ['id', 'day', 'amount'],
        uniqueKey: ['id', 'day'],
      }),
    ).toEqual([
      'delete from "analytics"."orders" as t\nusing "analytics"."orders__df_tmp_ab12cd34" as s\nwhere t."id" = s."id" and t."day" = s."day"',
      'insert into "analytics"."orders" ("id", "day", "amount")\nselect "id", "day", "amount" from "analytics"."orders__df_tmp_ab12cd34"',
      'drop table "analytics"."orders__df_tmp_ab12cd34"',
    ]);
  });

  it('incremental merge', () => {
    expect(
      planIncremental({
        strategy: 'merge',
        relation,
        temp: names.temp,
        columns: ['id', 'amount'],
        uniqueKey: ['id'],
      }),
    ).toEqual([
      'merge into "analytics"."orders" as t\nusing "analytics"."orders__df_tmp_ab12cd34" as s\non t."id" = s."id"\nwhen matched then update set "amount" = s."amount"\nwhen not matched then insert ("id", "amount") values (s."id", s."amount")',
      'drop table "analytics"."orders__df_tmp_ab12cd34"',
    ]);
    expect(() => planIncremental({ strategy: 'merge', relation, temp: names.temp, columns: ['id'] })).toThrow(
      /unique key/,
    );
  });

  it('null and duplicate key checks select only key columns', () => {
    expect(planNullKeyCheck(names.temp, ['id', 'day'])).toEqual({
      count:
        'select count(*)::bigint as n from "analytics"."orders__df_tmp_ab12cd34" where "id" is null or "day" is null',
      sample:
        'select "id", "day" from "analytics"."orders__df_tmp_ab12cd34" where "id" is null or "day" is null limit 5',
    });
    expect(planDuplicateKeyCheck(names.temp, ['id'])).toBe(
      'select "id", count(*)::bigint as n from "analytics"."orders__df_tmp_ab12cd34" group by "id" having count(*) > 1 limit 5',
    );
  });
});

describe('planDependentViewLocks', () => {
  it('locks shared dependent views shallowest first, then by name, once each, skipping those held', () => {
    const locks = planDependentViewLocks(
      [
        { schema: 'b', name: 'top', depth: 2 },
        { schema: 'a', name: 'wide', depth: 1 },
        { schema: 'a', name: 'narrow', depth: 1 },
        { schema: 'a', name: 'wide', depth: 1 },
      ],
      new Set(['"a"."narrow"']),
    );
    expect(locks.map((l) => l.key)).toEqual(['"a"."wide"', '"b"."top"']);
    // The same key a publish of that view takes for itself (planPublishLock).
    expect(locks[0]).toEqual({
      key: '"a"."wide"',
      ...planPublishLock({ schema: 'a', identifier: 'wide', sql: '"a"."wide"' }),
    });
  });
});
