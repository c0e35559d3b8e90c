import { describe, expect, it } from 'vitest';
import { type DependentView, dropDependentViewsSql, recreateDependentViewsSql } from '../src/index.js';

const view = (over: Partial<DependentView>): DependentView => ({
  schema: 'a',
  name: 'v1',
  kind: 'view',
  definition: ' SELECT t.id FROM a.t;',
  options: [],
  depth: 1,
  owner: 'me',
  grants: [],
  comment: null,
  columnComments: [],
  ...over,
});

describe('dependent view SQL', () => {
  const views = [
    view({ name: 'v2', depth: 2, definition: ' SELECT v1.id FROM a.v1;' }),
    view({
      name: 'v1',
      options: ['security_barrier=true'],
      grants: [
        { grantee: 'reporting', privilege: 'SELECT', grantable: false },
        { grantee: 'PUBLIC', privilege: 'SELECT', grantable: true },
      ],
      comment: "orders' view",
      columnComments: [{ column: 'id', comment: 'the key' }],
    }),
  ];

  it('drops deepest first', () => {
    expect(dropDependentViewsSql(views)).toEqual(['drop view "a"."v2"', 'drop view "a"."v1"']);
  });

  it('recreates shallowest first with options, grants and comments', () => {
    expect(recreateDependentViewsSql(views)).toEqual([
      'create view "a"."v1" with (security_barrier=true) as SELECT t.id FROM a.t',
      'grant SELECT on "a"."v1" to "reporting"',
      'grant SELECT on "a"."v1" to public with grant option',
      `comment on view "a"."v1" is 'orders'' view'`,
      `comment on column "a"."v1"."id" is 'the key'`,
      'create view "a"."v2" as SELECT v1.id FROM a.v1',
    ]);
  });

  it('recreates materialized views as materialized views', () => {
    expect(recreateDependentViewsSql([view({ kind: 'materialized view', comment: 'c' })])).toEqual([
      'create materialized view "a"."v1" as SELECT t.id FROM a.t',
      `comment on materialized view "a"."v1" is 'c'`,
    ]);
  });
});
