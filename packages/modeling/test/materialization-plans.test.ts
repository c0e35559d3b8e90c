import { describe, expect, it } from 'vitest';
import { materializationConfig } from '../src/compile/materialization-config.js';
import type { ModelNode, RelationInfo, SeedNode } from '../src/graph.js';
import { planComments, planGrants, publishConfigsOf } from '../src/publish-configs.js';
import { diffColumns, planSchemaChange } from '../src/schema-change.js';

const relation: RelationInfo = { schema: 'a', identifier: 'orders', sql: '"a"."orders"' };
const target = [
  { name: 'id', type: 'integer' },
  { name: 'name', type: 'character varying(5)' },
  { name: 'old', type: 'text' },
];
const batch = [
  { name: 'id', type: 'integer' },
  { name: 'name', type: 'text' },
  { name: 'new', type: 'bigint' },
];

describe('planSchemaChange (dbt on_schema_change)', () => {
  it('diffs added, removed and retyped columns', () => {
    expect(diffColumns(target, batch)).toEqual({
      added: [{ name: 'new', type: 'bigint' }],
      removed: [{ name: 'old', type: 'text' }],
      retyped: [{ name: 'name', from: 'character varying(5)', to: 'text' }],
    });
  });

  it('ignore inserts the shared columns; fail names every difference', () => {
    expect(planSchemaChange({ mode: 'ignore', relation, modelName: 'orders', target, batch })).toEqual({
      kind: 'apply',
      statements: [],
      touchesViews: false,
      insertColumns: ['id', 'name'],
    });
    const failed = planSchemaChange({ mode: 'fail', relation, modelName: 'orders', target, batch });
    expect(failed).toEqual({
      kind: 'fail',
      message:
        'incremental model orders: its columns differ from "a"."orders" (new columns new (bigint); missing columns old; changed types name character varying(5) → text) and on_schema_change is fail; rebuild it with --full-refresh or set on_schema_change to append_new_columns or sync_all_columns',
    });
    expect(
      planSchemaChange({ mode: 'fail', relation, modelName: 'orders', target, batch: target }).kind,
    ).toBe('apply');
  });

  it('append_new_columns adds; sync_all_columns also drops and retypes (touching dependent views)', () => {
    expect(
      planSchemaChange({ mode: 'append_new_columns', relation, modelName: 'orders', target, batch }),
    ).toEqual({
      kind: 'apply',
      statements: ['alter table "a"."orders" add column "new" bigint'],
      touchesViews: false,
      insertColumns: ['id', 'name', 'new'],
    });
    expect(
      planSchemaChange({ mode: 'sync_all_columns', relation, modelName: 'orders', target, batch }),
    ).toEqual({
      kind: 'apply',
      statements: [
        'alter table "a"."orders" add column "new" bigint',
        'alter table "a"."orders" drop column "old"',
        'alter table "a"."orders" alter column "name" type text using "name"::text',
      ],
      touchesViews: true,
      insertColumns: ['id', 'name', 'new'],
    });
  });
});

describe('planGrants and planComments', () => {
  it('treats each configured privilege as the full set and leaves other privileges alone', () => {
    const current = [
      { grantee: 'old', privilege: 'select' },
      { grantee: 'keep', privilege: 'select' },
      { grantee: 'writer', privilege: 'insert' },
    ];
    expect(planGrants(relation, { select: ['keep', 'new'] }, current)).toEqual([
      'revoke select on "a"."orders" from "old"',
      'grant select on "a"."orders" to "new"',
    ]);
    expect(planGrants(relation, { insert: [] }, current)).toEqual([
      'revoke insert on "a"."orders" from "writer"',
    ]);
    expect(() => planGrants(relation, { 'select; drop table x': ['a'] }, [])).toThrow('not a privilege');
  });

  it('comments the relation and the documented columns it has', () => {
    const node = {
      relation,
      description: "it's here",
      columns: { id: { description: 'the id' }, gone: { description: 'x' }, bare: {} },
      config: { persistDocs: { relation: true, columns: true } },
      resourceType: 'model',
    } as unknown as ModelNode;
    expect(planComments(publishConfigsOf(node), 'view', ['id', 'bare'])).toEqual([
      `comment on view "a"."orders" is 'it''s here'`,
      `comment on column "a"."orders"."id" is 'the id'`,
    ]);
  });

  it("reads a seed's grants / persist_docs from the node and comments its table", () => {
    const seed = {
      resourceType: 'seed',
      relation,
      description: 'raw orders',
      columns: { id: { description: 'the id' } },
      grants: { select: ['reporter'] },
      persistDocs: { relation: true, columns: true },
    } as unknown as SeedNode;
    const configs = publishConfigsOf(seed);
    expect(configs.grants).toEqual({ select: ['reporter'] });
    expect(planComments(configs, 'table', ['id'])).toEqual([
      `comment on table "a"."orders" is 'raw orders'`,
      `comment on column "a"."orders"."id" is 'the id'`,
    ]);
  });

  it('parses the configs, reporting bad values', () => {
    const problems: string[] = [];
    expect(
      materializationConfig(
        { on_schema_change: 'sync_all_columns', grants: { SELECT: 'r' }, persist_docs: { relation: true } },
        (m) => problems.push(m),
      ),
    ).toEqual({
      onSchemaChange: 'sync_all_columns',
      grants: { select: ['r'] },
      persistDocs: { relation: true, columns: false },
    });
    expect(
      materializationConfig({ on_schema_change: 'merge', grants: ['r'] }, (m) => problems.push(m)),
    ).toEqual({});
    expect(problems).toEqual([
      'unknown on_schema_change "merge" (expected ignore, fail, append_new_columns, sync_all_columns)',
      'grants must map privileges to grantees (grants: { select: [reporter] })',
    ]);
  });
});
