import { qualify, quoteIdent } from '@dataflow/pg';
import type { RelationInfo } from '../graph.js';
import type { SnapshotConfig } from './config.js';

/** The transaction-local setting that holds the snapshot time of one run. */
export const SNAPSHOT_TIME_SETTING = 'dataflow.snapshot_time';

/**
 * The snapshot time as SQL: one value for every statement of a run (dbt's `snapshot_get_time()`,
 * `timestamp without time zone` on PostgreSQL), so closes and inserts of one run agree.
 */
export const SNAPSHOT_TIME_SQL = `current_setting('${SNAPSHOT_TIME_SETTING}')::timestamp`;

/** Session-temporary working tables of a snapshot run; dropped at commit or rollback. */
export const SNAPSHOT_WORK = {
  source: tempRelation('__df_snapshot_source'),
  closes: tempRelation('__df_snapshot_closes'),
  inserts: tempRelation('__df_snapshot_inserts'),
} as const;

function tempRelation(identifier: string): RelationInfo {
  return { schema: 'pg_temp', identifier, sql: qualify('pg_temp', identifier) };
}

const trimSql = (text: string) => text.trim().replace(/;+\s*$/, '');
const col = (alias: string, name: string) => `${alias}.${quoteIdent(name)}`;

/**
 * Sets the run's snapshot time (bound, never spliced): `now` when given (tests, backfills),
 * else the transaction's `localtimestamp`.
 *
 * @example
 * planSnapshotTime('2024-01-02T00:00:00Z');
 * // { text: "select set_config('dataflow.snapshot_time', $1, true)", values: ['2024-01-02T00:00:00Z'] }
 */
export function planSnapshotTime(now?: string): { text: string; values: string[] } {
  return now === undefined
    ? { text: `select set_config('${SNAPSHOT_TIME_SETTING}', localtimestamp::text, true)`, values: [] }
    : { text: `select set_config('${SNAPSHOT_TIME_SETTING}', $1, true)`, values: [now] };
}

/** dbt's `snapshot_hash_arguments`: md5 of the arguments as text, `|`-separated, NULL as ''. */
function scdHash(args: string[]): string {
  return `md5(${args.map((a) => `coalesce(cast(${a} as varchar), '')`).join(` || '|' || `)})`;
}

/** The change time of a source row: its `updated_at` column, or the snapshot time (check strategy). */
function updatedAtOf(config: SnapshotConfig, alias: string): string {
  return config.updatedAt ? col(alias, config.updatedAt) : SNAPSHOT_TIME_SQL;
}

/** `dbt_valid_to` of a new current row: NULL (typed like the change time) or `dbt_valid_to_current`. */
function openValidTo(config: SnapshotConfig, alias: string): string {
  const at = updatedAtOf(config, alias);
  return `coalesce(nullif(${at}, ${at}), ${config.validToCurrent ?? 'null'})`;
}

function isCurrent(config: SnapshotConfig, alias: string): string {
  const validTo = col(alias, config.columns.validTo);
  return config.validToCurrent
    ? `(${validTo} = ${config.validToCurrent} or ${validTo} is null)`
    : `${validTo} is null`;
}

function keysMatch(config: SnapshotConfig, left: string, right: string): string {
  return config.uniqueKey.map((k) => `${col(left, k)} = ${col(right, k)}`).join(' and ');
}

/**
 * Whether source row `s` differs from current version `c`. `timestamp`: the row's updated_at is
 * newer than the version's valid_from (not its stored updated_at column, which an earlier
 * `check` strategy may not have filled). `check`: any checked column is distinct (NULL-safe);
 * a source column the table does not have yet counts as a change of every row, as in dbt.
 */
function rowChanged(config: SnapshotConfig, check: { columns: string[]; columnAdded: boolean }): string {
  if (config.strategy === 'timestamp')
    return `${col('c', config.columns.validFrom)} < ${updatedAtOf(config, 's')}`;
  if (check.columnAdded) return 'true';
  if (check.columns.length === 0)
    throw new TypeError('the check strategy needs at least one column to compare');
  return check.columns.map((name) => `${col('c', name)} is distinct from ${col('s', name)}`).join(' or ');
}

const deletedFlag = (config: SnapshotConfig) => `${col('c', config.columns.isDeleted)} = 'True'`;

/**
 * First run: the snapshot table is the source query plus the metadata columns; every row is current.
 *
 * @example
 * planSnapshotCreate({ target, sourceSql: 'select * from raw.customers', config });
 * // 'create table "a"."customers_snapshot" as\nselect s.*, md5(…) as "dbt_scd_id", … from (\nselect * from raw.customers\n) as s'
 */
export function planSnapshotCreate(args: {
  target: RelationInfo;
  sourceSql: string;
  config: SnapshotConfig;
}): string {
  const { target, sourceSql, config } = args;
  const names = config.columns;
  const at = updatedAtOf(config, 's');
  const meta = [
    `${scdHash([...config.uniqueKey.map((k) => col('s', k)), at])} as ${quoteIdent(names.scdId)}`,
    `${at} as ${quoteIdent(names.updatedAt)}`,
    `${at} as ${quoteIdent(names.validFrom)}`,
    `${openValidTo(config, 's')} as ${quoteIdent(names.validTo)}`,
    ...(config.hardDeletes === 'new_record' ? [`'False'::text as ${quoteIdent(names.isDeleted)}`] : []),
  ];
  return `create table ${target.sql} as\nselect s.*,\n  ${meta.join(',\n  ')}\nfrom (\n${trimSql(sourceSql)}\n) as s`;
}

/** Copies the source query into a session-temp table, so every later statement reads one result. */
export function planSnapshotSource(sourceSql: string): string {
  return `create temp table ${quoteIdent(SNAPSHOT_WORK.source.identifier)} on commit drop as (\n${trimSql(sourceSql)}\n)`;
}

/** What the change queries compare: resolved against the catalog by the run. */
export interface SnapshotChangeInputs {
  target: RelationInfo;
  config: SnapshotConfig;
  /** Columns of the source query, in order (all present in the target by the time this runs). */
  sourceColumns: string[];
  /** `check` only: the columns to compare (check_cols that the target already has). */
  checkColumns?: string[];
  /** `check` only: the source has a column the target did not have before this run. */
  columnAdded?: boolean;
}

/**
 * The versions to close: `(scd_id, valid_to)` for each current version whose row changed (closed
 * at the new row's change time) and, unless hard deletes are ignored, each current version whose
 * key left the source (closed at the snapshot time; `new_record` skips keys whose current version
 * is already a deletion record).
 *
 * @example
 * planSnapshotCloses({ target, config, sourceSql: 'select …', sourceColumns: ['id', 'name', 'updated_at'] });
 * // 'create temp table "__df_snapshot_closes" on commit drop as\nselect c."dbt_scd_id" as scd_id, s."updated_at" as close_at …'
 */
export function planSnapshotCloses(inputs: SnapshotChangeInputs): string {
  const { target, config } = inputs;
  const names = config.columns;
  const changed = rowChanged(config, {
    columns: inputs.checkColumns ?? [],
    columnAdded: inputs.columnAdded ?? false,
  });
  const reopened = config.hardDeletes === 'new_record' ? ` or ${deletedFlag(config)}` : '';
  const parts = [
    `select ${col('c', names.scdId)} as scd_id, ${updatedAtOf(config, 's')} as close_at\nfrom ${SNAPSHOT_WORK.source.sql} as s\njoin ${target.sql} as c on ${keysMatch(config, 'c', 's')}\nwhere ${isCurrent(config, 'c')} and (${changed}${reopened})`,
  ];
  if (config.hardDeletes !== 'ignore') {
    const notYetDeleted =
      config.hardDeletes === 'new_record' ? ` and ${col('c', names.isDeleted)} is distinct from 'True'` : '';
    parts.push(
      `select ${col('c', names.scdId)}, ${SNAPSHOT_TIME_SQL}\nfrom ${target.sql} as c\nwhere ${isCurrent(config, 'c')}${notYetDeleted}\n  and not exists (select from ${SNAPSHOT_WORK.source.sql} as s where ${keysMatch(config, 'c', 's')})`,
    );
  }
  return `create temp table ${quoteIdent(SNAPSHOT_WORK.closes.identifier)} on commit drop as\n${parts.join('\nunion all\n')}`;
}

/** Columns an insert into the snapshot table lists, in the order {@link planSnapshotInserts} selects them. */
export function snapshotInsertColumns(
  inputs: Pick<SnapshotChangeInputs, 'config' | 'sourceColumns'>,
): string[] {
  const names = inputs.config.columns;
  return [
    ...inputs.sourceColumns,
    names.scdId,
    names.updatedAt,
    names.validFrom,
    names.validTo,
    ...(inputs.config.hardDeletes === 'new_record' ? [names.isDeleted] : []),
  ];
}

/**
 * The versions to insert: new keys and changed rows as new current versions and, with
 * `new_record`, one deletion record per key that left the source (its last values, valid from the
 * snapshot time, `dbt_is_deleted = 'True'`). Columns as {@link snapshotInsertColumns}.
 *
 * @example
 * planSnapshotInserts({ target, config, sourceColumns: ['id', 'name', 'updated_at'] });
 * // 'create temp table "__df_snapshot_inserts" on commit drop as\nselect s."id", s."name", … from pg_temp."__df_snapshot_source" as s left join …'
 */
export function planSnapshotInserts(inputs: SnapshotChangeInputs): string {
  const { target, config, sourceColumns } = inputs;
  const names = config.columns;
  const newRecord = config.hardDeletes === 'new_record';
  const changed = rowChanged(config, {
    columns: inputs.checkColumns ?? [],
    columnAdded: inputs.columnAdded ?? false,
  });
  const at = updatedAtOf(config, 's');
  const versions = [
    ...sourceColumns.map((name) => col('s', name)),
    `${scdHash([...config.uniqueKey.map((k) => col('s', k)), at])} as ${quoteIdent(names.scdId)}`,
    `${at} as ${quoteIdent(names.updatedAt)}`,
    `${at} as ${quoteIdent(names.validFrom)}`,
    `${openValidTo(config, 's')} as ${quoteIdent(names.validTo)}`,
    ...(newRecord ? [`'False'::text as ${quoteIdent(names.isDeleted)}`] : []),
  ];
  const firstKey = config.uniqueKey[0] as string;
  const parts = [
    `select ${versions.join(', ')}\nfrom ${SNAPSHOT_WORK.source.sql} as s\nleft join (select * from ${target.sql} as c where ${isCurrent(config, 'c')}) as c on ${keysMatch(config, 'c', 's')}\nwhere ${col('c', firstKey)} is null or (${changed}${newRecord ? ` or ${deletedFlag(config)}` : ''})`,
  ];
  if (newRecord) {
    const deletion = [
      ...sourceColumns.map((name) => col('c', name)),
      scdHash([col('c', names.scdId), SNAPSHOT_TIME_SQL]),
      SNAPSHOT_TIME_SQL,
      SNAPSHOT_TIME_SQL,
      col('c', names.validTo),
      `'True'::text`,
    ];
    parts.push(
      `select ${deletion.join(', ')}\nfrom ${target.sql} as c\nwhere ${isCurrent(config, 'c')} and ${col('c', names.isDeleted)} is distinct from 'True'\n  and not exists (select from ${SNAPSHOT_WORK.source.sql} as s where ${keysMatch(config, 'c', 's')})`,
    );
  }
  return `create temp table ${quoteIdent(SNAPSHOT_WORK.inserts.identifier)} on commit drop as\n${parts.join('\nunion all\n')}`;
}

/**
 * Applies the staged changes: close the versions in the closes table (only while still current,
 * so a concurrent run that won the lock first is not closed twice), then insert the new versions.
 *
 * @example
 * planSnapshotApply({ target, config, sourceColumns: ['id', 'name'] });
 * // ['update "a"."s" as t set "dbt_valid_to" = k.close_at from pg_temp."__df_snapshot_closes" as k where …', 'insert into "a"."s" (…) select … from pg_temp."__df_snapshot_inserts"']
 */
export function planSnapshotApply(
  inputs: Pick<SnapshotChangeInputs, 'target' | 'config' | 'sourceColumns'>,
): {
  close: string;
  insert: string;
} {
  const { target, config } = inputs;
  const names = config.columns;
  const columns = snapshotInsertColumns(inputs).map(quoteIdent).join(', ');
  return {
    close: `update ${target.sql} as t set ${quoteIdent(names.validTo)} = k.close_at\nfrom ${SNAPSHOT_WORK.closes.sql} as k\nwhere ${col('t', names.scdId)} = k.scd_id and ${isCurrent(config, 't')}`,
    insert: `insert into ${target.sql} (${columns})\nselect * from ${SNAPSHOT_WORK.inserts.sql}`,
  };
}

/**
 * Adds source columns the snapshot table does not have yet (dbt's `create_columns`); old versions
 * read NULL in them.
 *
 * @example
 * planSnapshotAddColumns(target, [{ name: 'tier', type: 'text' }]);
 * // ['alter table "a"."customers_snapshot" add column "tier" text']
 */
export function planSnapshotAddColumns(
  target: RelationInfo,
  columns: Array<{ name: string; type: string }>,
): string[] {
  return columns.map((c) => `alter table ${target.sql} add column ${quoteIdent(c.name)} ${c.type}`);
}
