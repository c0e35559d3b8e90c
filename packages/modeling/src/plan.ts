import {
  type DependentView,
  dropDependentViewsSql,
  MAX_IDENTIFIER_BYTES,
  qualify,
  quoteIdent,
  recreateDependentViewsSql,
  truncateBytes,
} from '@dataflow/pg';
import type { IncrementalStrategy, RelationInfo } from './graph.js';

/** Kind of an existing relation as PostgreSQL reports it. */
export type RelationKind = 'table' | 'view' | 'materialized view';

/** Per-run names next to the final relation; unique per run so concurrent builds never collide. */
export interface WorkNames {
  temp: RelationInfo;
  backup: RelationInfo;
}

/**
 * `<name>__df_tmp_<token>` and `<name>__df_bak_<token>`, cut to 63 bytes (the name part is
 * shortened, never the token, so two runs cannot map to the same name).
 *
 * @example
 * workNames({ schema: 'a', identifier: 'orders', sql: '"a"."orders"' }, 'ab12cd34').temp.sql; // '"a"."orders__df_tmp_ab12cd34"'
 */
export function workNames(relation: RelationInfo, token: string): WorkNames {
  const make = (tag: string): RelationInfo => {
    const suffix = `__df_${tag}_${token}`;
    const identifier =
      truncateBytes(relation.identifier, MAX_IDENTIFIER_BYTES - Buffer.byteLength(suffix)) + suffix;
    return { schema: relation.schema, identifier, sql: qualify(relation.schema, identifier) };
  };
  return { temp: make('tmp'), backup: make('bak') };
}

const trimSql = (text: string) => text.trim().replace(/;+\s*$/, '');

/**
 * Builds the model's new version under its temp name.
 *
 * @example
 * planCreateTemp('table', names.temp, 'select 1 as id');
 * // ['create table "analytics"."orders__df_tmp_abcd1234" as (\nselect 1 as id\n)']
 */
export function planCreateTemp(kind: 'table' | 'view', temp: RelationInfo, selectSql: string): string[] {
  return [`create ${kind} ${temp.sql} as (\n${trimSql(selectSql)}\n)`];
}

/** Drops a temp relation after a failure (idempotent). */
export function planDropTemp(kind: 'table' | 'view', temp: RelationInfo): string[] {
  return [`drop ${kind} if exists ${temp.sql}`];
}

/** One statement taking the per-relation publish lock (held until commit / rollback). */
export function planPublishLock(relation: RelationInfo): { text: string; values: string[] } {
  return { text: 'select pg_advisory_xact_lock(hashtext($1))', values: [`dataflow.publish:${relation.sql}`] };
}

/** Blocks readers and new dependents of the relation being replaced until the publish commits. */
export function planLockRelation(relation: RelationInfo): string {
  return `lock table ${relation.sql} in access exclusive mode`;
}

/**
 * The publish transaction's body for a swap: dependents are dropped (deepest first), the old
 * relation is renamed to the backup name, the new one takes the final name, dependents are
 * recreated from their captured definitions (shallowest first, with their grants and comments),
 * then the backup is dropped.
 * No CASCADE anywhere: if something else depends on the old relation, the drop fails and the
 * transaction rolls back with the previous version live.
 *
 * @example
 * planSwap({ relation, names: workNames(relation, token), newKind: 'table', existing: 'table', dependents: [] });
 * // ['alter table "a"."orders" rename to "orders__df_bak_…"', 'alter table "a"."orders__df_tmp_…" rename to "orders"', 'drop table "a"."orders__df_bak_…"']
 */
export function planSwap(args: {
  relation: RelationInfo;
  names: WorkNames;
  newKind: 'table' | 'view';
  existing: RelationKind | null;
  dependents: DependentView[];
}): string[] {
  const { relation, names, newKind, existing, dependents } = args;
  if (!existing) return [`alter ${newKind} ${names.temp.sql} rename to ${quoteIdent(relation.identifier)}`];
  return [
    ...dropDependentViewsSql(dependents),
    `alter ${existing} ${relation.sql} rename to ${quoteIdent(names.backup.identifier)}`,
    `alter ${newKind} ${names.temp.sql} rename to ${quoteIdent(relation.identifier)}`,
    ...recreateDependentViewsSql(dependents),
    `drop ${existing} ${names.backup.sql}`,
  ];
}

/**
 * A view whose columns are compatible is replaced in place; its dependents stay untouched.
 *
 * @example
 * planReplaceView(relation, names.temp, 'select 1 as id');
 * // ['create or replace view "analytics"."orders" as (\nselect 1 as id\n)', 'drop view "analytics"."orders__df_tmp_abcd1234"']
 */
export function planReplaceView(relation: RelationInfo, temp: RelationInfo, selectSql: string): string[] {
  return [`create or replace view ${relation.sql} as (\n${trimSql(selectSql)}\n)`, `drop view ${temp.sql}`];
}

/** Column list as PostgreSQL describes it. */
export interface ColumnInfo {
  name: string;
  type: string;
}

/**
 * `CREATE OR REPLACE VIEW` accepts the old columns unchanged (name, type, order) plus new ones at the end.
 *
 * @example
 * viewColumnsCompatible([{ name: 'id', type: 'integer' }], [{ name: 'id', type: 'integer' }, { name: 'x', type: 'text' }]); // true
 */
export function viewColumnsCompatible(existing: ColumnInfo[], next: ColumnInfo[]): boolean {
  if (next.length < existing.length) return false;
  return existing.every((c, i) => next[i]?.name === c.name && next[i]?.type === c.type);
}

/**
 * Counts rows of the new batch whose unique key has a NULL part, and samples their keys.
 *
 * @example
 * planNullKeyCheck(names.temp, ['id']).count;
 * // 'select count(*)::bigint as n from "analytics"."orders__df_tmp_abcd1234" where "id" is null'
 */
export function planNullKeyCheck(
  temp: RelationInfo,
  uniqueKey: string[],
  sample = 5,
): { count: string; sample: string } {
  const anyNull = uniqueKey.map((k) => `${quoteIdent(k)} is null`).join(' or ');
  const keys = uniqueKey.map(quoteIdent).join(', ');
  return {
    count: `select count(*)::bigint as n from ${temp.sql} where ${anyNull}`,
    sample: `select ${keys} from ${temp.sql} where ${anyNull} limit ${sample}`,
  };
}

/**
 * Keys that occur more than once in the new batch (they would turn into duplicates or a MERGE error).
 *
 * @example
 * planDuplicateKeyCheck(names.temp, ['id']);
 * // 'select "id", count(*)::bigint as n from "analytics"."orders__df_tmp_abcd1234" group by "id" having count(*) > 1 limit 5'
 */
export function planDuplicateKeyCheck(temp: RelationInfo, uniqueKey: string[], sample = 5): string {
  const keys = uniqueKey.map(quoteIdent).join(', ');
  return `select ${keys}, count(*)::bigint as n from ${temp.sql} group by ${keys} having count(*) > 1 limit ${sample}`;
}

/**
 * Applies an incremental batch (`temp`) to the target inside the publish transaction.
 * `columns` are the batch columns that also exist in the target (dbt's `on_schema_change: ignore`).
 *
 * @example
 * planIncremental({ strategy: 'merge', relation, temp, columns: ['id', 'amount'], uniqueKey: ['id'] });
 * // ['merge into "a"."orders" as t using "a"."orders__df_tmp_…" as s on t."id" = s."id" when matched ...', 'drop table …']
 */
export function planIncremental(args: {
  strategy: IncrementalStrategy;
  relation: RelationInfo;
  temp: RelationInfo;
  columns: string[];
  uniqueKey?: string[];
}): string[] {
  const { strategy, relation, temp, columns, uniqueKey } = args;
  const cols = columns.map(quoteIdent).join(', ');
  const insert = `insert into ${relation.sql} (${cols})\nselect ${cols} from ${temp.sql}`;
  if (strategy === 'append') return [insert, `drop table ${temp.sql}`];
  if (!uniqueKey || uniqueKey.length === 0)
    throw new TypeError(`incremental strategy ${strategy} needs a unique key`);
  const on = uniqueKey.map((k) => `t.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(' and ');
  if (strategy === 'delete+insert') {
    return [
      `delete from ${relation.sql} as t\nusing ${temp.sql} as s\nwhere ${on}`,
      insert,
      `drop table ${temp.sql}`,
    ];
  }
  const updatable = columns.filter((c) => !uniqueKey.includes(c));
  const matched =
    updatable.length > 0
      ? `\nwhen matched then update set ${updatable.map((c) => `${quoteIdent(c)} = s.${quoteIdent(c)}`).join(', ')}`
      : '';
  return [
    `merge into ${relation.sql} as t\nusing ${temp.sql} as s\non ${on}${matched}\nwhen not matched then insert (${cols}) values (${columns.map((c) => `s.${quoteIdent(c)}`).join(', ')})`,
    `drop table ${temp.sql}`,
  ];
}

/** Catalog query: kind of a relation by schema + name (`r`/`p` table, `v` view, `m` materialized view). */
export const RELATION_KIND_SQL = `select c.relkind from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and c.relname = $2`;

/** Catalog query: columns of a relation, in order, with their formatted types. */
export const COLUMNS_SQL = `select a.attname as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type
from pg_catalog.pg_attribute a
join pg_catalog.pg_class c on c.oid = a.attrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and c.relname = $2 and a.attnum > 0 and not a.attisdropped order by a.attnum`;

/**
 * Publish lock of every view depending (transitively) on a relation, taken before the relation's
 * table lock, in a fixed order: two publishes whose relations share a dependent view (a view over
 * two seeds) queue on that view instead of both capturing, dropping and recreating it, which
 * deadlocked or failed with "could not open relation with OID". Names only: no `pg_get_viewdef`,
 * which would block on (and then miss) a view another publish is recreating.
 */
export { DEPENDENT_VIEW_NAMES_SQL } from '@dataflow/pg';

/**
 * The publish locks to take for dependent views (shallowest first, then by name: an order every
 * publish shares), skipping those already `held`.
 *
 * @example
 * planDependentViewLocks([{ schema: 'a', name: 'v', depth: 1 }], new Set());
 * // [{ key: '"a"."v"', text: 'select pg_advisory_xact_lock(hashtext($1))', values: ['dataflow.publish:"a"."v"'] }]
 */
export function planDependentViewLocks(
  views: ReadonlyArray<{ schema: string; name: string; depth: number }>,
  held: ReadonlySet<string>,
): Array<{ key: string; text: string; values: string[] }> {
  return [...views]
    .sort((x, y) => x.depth - y.depth || x.schema.localeCompare(y.schema) || x.name.localeCompare(y.name))
    .map((v) => qualify(v.schema, v.name))
    .filter((key, i, all) => !held.has(key) && all.indexOf(key) === i)
    .map((key) => ({ key, ...planPublishLock({ schema: '', identifier: '', sql: key }) }));
}
