import type pg from 'pg';
import { qualify, quoteIdent, quoteLiteral } from './identifiers.js';

/** A privilege granted on a view, as `aclexplode` reports it. */
export interface ViewGrant {
  /** A role name, or `PUBLIC`. */
  grantee: string;
  /** `SELECT`, `INSERT`, … */
  privilege: string;
  grantable: boolean;
}

/** A view (or materialized view) that reads from a relation about to be replaced or altered. */
export interface DependentView {
  schema: string;
  name: string;
  kind: 'view' | 'materialized view';
  /** `pg_get_viewdef` captured with an empty search_path, so every name in it is schema-qualified. */
  definition: string;
  /** `reloptions` such as `security_barrier=true`. */
  options: string[];
  /** Depth in the dependency tree (1 = reads the relation directly); recreate in ascending order. */
  depth: number;
  owner: string;
  grants: ViewGrant[];
  comment: string | null;
  columnComments: Array<{ column: string; comment: string }>;
}

/** Every view depending on relation `$1`, transitively through pg_depend → pg_rewrite, with its depth. */
const DEPENDENTS_CTE = `with recursive deps(oid, depth) as (
  select distinct r.ev_class, 1
  from pg_catalog.pg_depend d join pg_catalog.pg_rewrite r on r.oid = d.objid
  where d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
    and d.refobjid = $1::pg_catalog.regclass and r.ev_class <> $1::pg_catalog.regclass
  union all
  select distinct r.ev_class, deps.depth + 1
  from deps join pg_catalog.pg_depend d on d.refobjid = deps.oid
  join pg_catalog.pg_rewrite r on r.oid = d.objid
  where d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
    and r.ev_class <> deps.oid and deps.depth < 100
)`;

/**
 * Names and depths of the views depending on relation `$1`: no `pg_get_viewdef`, so it never
 * blocks on a view another transaction is recreating (what a lock-ordering step needs).
 */
export const DEPENDENT_VIEW_NAMES_SQL = `${DEPENDENTS_CTE}
select n.nspname as schema, c.relname as name, max(deps.depth)::int as depth
from deps join pg_catalog.pg_class c on c.oid = deps.oid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
group by n.nspname, c.relname
order by max(deps.depth), n.nspname, c.relname`;

/**
 * Every view depending on the relation, transitively, through pg_depend → pg_rewrite, with its
 * depth, definition, grants and comments. Owner privileges are implicit and not listed.
 */
export const DEPENDENT_VIEWS_SQL = `${DEPENDENTS_CTE}
select n.nspname as schema, c.relname as name, c.relkind as kind, max(deps.depth)::int as depth,
  pg_catalog.pg_get_viewdef(c.oid) as definition, coalesce(c.reloptions, '{}') as options,
  pg_catalog.pg_get_userbyid(c.relowner) as owner,
  coalesce((select json_agg(json_build_object(
      'grantee', case when a.grantee = 0 then 'PUBLIC' else pg_catalog.pg_get_userbyid(a.grantee) end,
      'privilege', a.privilege_type, 'grantable', a.is_grantable) order by a.grantee, a.privilege_type)
    from pg_catalog.aclexplode(c.relacl) a where a.grantee <> c.relowner), '[]') as grants,
  pg_catalog.obj_description(c.oid, 'pg_class') as comment,
  coalesce((select json_agg(json_build_object('column', at.attname, 'comment', ds.description) order by at.attnum)
    from pg_catalog.pg_description ds join pg_catalog.pg_attribute at on at.attrelid = ds.objoid and at.attnum = ds.objsubid
    where ds.objoid = c.oid and ds.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass and ds.objsubid > 0), '[]') as column_comments
from deps join pg_catalog.pg_class c on c.oid = deps.oid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
group by n.nspname, c.relname, c.relkind, c.oid, c.reloptions, c.relowner, c.relacl
order by max(deps.depth), n.nspname, c.relname`;

interface DependentViewRow {
  schema: string;
  name: string;
  kind: string;
  depth: number;
  definition: string;
  options: string[];
  owner: string;
  grants: ViewGrant[];
  comment: string | null;
  column_comments: Array<{ column: string; comment: string }>;
}

/**
 * Captures every view that depends on `relationSql` (a quoted, qualified name), deepest last.
 * Call it inside the transaction that will drop and recreate them, after taking the lock that
 * keeps new dependents from appearing: it sets `search_path` to empty for the rest of that
 * transaction so the captured definitions are fully qualified.
 *
 * @example
 * await inTransaction(client, async () => {
 *   const views = await captureDependentViews(client, '"raw"."orders"');
 *   for (const sql of dropDependentViewsSql(views)) await client.query(sql);
 *   // … replace raw.orders …
 *   for (const sql of recreateDependentViewsSql(views)) await client.query(sql);
 * });
 */
export async function captureDependentViews(
  client: pg.ClientBase,
  relationSql: string,
): Promise<DependentView[]> {
  await client.query(`set local search_path = ''`);
  const result = await client.query<DependentViewRow>(DEPENDENT_VIEWS_SQL, [relationSql]);
  return result.rows.map((row) => ({
    schema: row.schema,
    name: row.name,
    kind: row.kind === 'm' ? 'materialized view' : 'view',
    definition: row.definition,
    options: row.options,
    depth: row.depth,
    owner: row.owner,
    grants: row.grants,
    comment: row.comment,
    columnComments: row.column_comments,
  }));
}

/**
 * DROP statements for captured views, deepest first.
 *
 * @example
 * dropDependentViewsSql(views); // ['drop view "a"."v2"', 'drop view "a"."v1"']
 */
export function dropDependentViewsSql(views: readonly DependentView[]): string[] {
  return [...views]
    .sort((a, b) => b.depth - a.depth)
    .map((v) => `drop ${v.kind} ${qualify(v.schema, v.name)}`);
}

const granteeSql = (grantee: string) => (grantee === 'PUBLIC' ? 'public' : quoteIdent(grantee));
const OPTION = /^[a-z_]+=[a-z0-9_]+$/i;

/**
 * CREATE statements recreating captured views shallowest first, each followed by its grants and
 * comments, so consumers keep their access across a swap.
 *
 * @example
 * recreateDependentViewsSql(views);
 * // ['create view "a"."v1" as select …', 'grant SELECT on "a"."v1" to "reporting"', …]
 */
export function recreateDependentViewsSql(views: readonly DependentView[]): string[] {
  const out: string[] = [];
  for (const v of [...views].sort((a, b) => a.depth - b.depth)) {
    const target = qualify(v.schema, v.name);
    const options = v.options.filter((o) => OPTION.test(o));
    const withClause = options.length > 0 ? ` with (${options.join(', ')})` : '';
    const body = v.definition.trim().replace(/;+\s*$/, '');
    out.push(`create ${v.kind} ${target}${withClause} as ${body}`);
    for (const g of v.grants) {
      out.push(
        `grant ${g.privilege} on ${target} to ${granteeSql(g.grantee)}${g.grantable ? ' with grant option' : ''}`,
      );
    }
    const onWhat = v.kind === 'view' ? 'view' : 'materialized view';
    if (v.comment !== null) out.push(`comment on ${onWhat} ${target} is ${quoteLiteral(v.comment)}`);
    for (const c of v.columnComments) {
      out.push(`comment on column ${target}.${quoteIdent(c.column)} is ${quoteLiteral(c.comment)}`);
    }
  }
  return out;
}
