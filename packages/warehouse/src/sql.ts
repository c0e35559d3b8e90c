import { createHash } from 'node:crypto';
import { MAX_IDENTIFIER_BYTES, quoteIdent, truncateBytes } from '@dataflow/pg';
import { WarehouseError } from './errors.js';

/** How a load's rows replace or join what the target already holds. */
export type Disposition = 'append' | 'replace' | 'replace_partition' | 'merge';

/** A statement with bound parameters: identifiers are quoted in `sql`, values only in `parameters`. */
export interface SqlStatement {
  sql: string;
  parameters: unknown[];
}

/** A column with its PostgreSQL type. */
export interface ColumnDef {
  name: string;
  type: string;
}

/**
 * Metadata columns of every table this version creates: which load wrote the row (a key of
 * `<schema>._dataflow_loads`, where run id, source and files are kept once per load), the
 * partition (the interval's start; the partition key of partitioned tables) and the load time.
 * Each is filled from a constant, never by a per-row function call.
 */
export const METADATA_COLUMNS: readonly ColumnDef[] = [
  { name: '_load_id', type: 'integer' },
  { name: '_partition', type: 'date' },
  { name: '_loaded_at', type: 'timestamptz' },
];

/**
 * Per-row metadata columns of tables created by dataflow 0.1; such tables are still loaded as
 * before (DELETE + COPY, values from transaction-local settings).
 */
export const LEGACY_METADATA_COLUMNS: readonly ColumnDef[] = [
  { name: '_run_id', type: 'text' },
  { name: '_partition', type: 'text' },
  { name: '_source_file', type: 'text' },
  { name: '_loaded_at', type: 'timestamptz' },
];

/**
 * Session settings a legacy direct load sets (transaction-local, values bound with
 * `set_config`) so the legacy metadata columns' defaults fill every COPYed row.
 */
export const METADATA_SETTINGS = {
  _run_id: 'dataflow.run_id',
  _partition: 'dataflow.partition',
  _source_file: 'dataflow.source_file',
} as const;

/** Column defaults of the legacy metadata columns: the load's settings and the transaction time. */
export const METADATA_DEFAULTS: Readonly<Record<string, string>> = {
  _run_id: `nullif(current_setting('${METADATA_SETTINGS._run_id}', true), '')`,
  _partition: `nullif(current_setting('${METADATA_SETTINGS._partition}', true), '')`,
  _source_file: `nullif(current_setting('${METADATA_SETTINGS._source_file}', true), '')`,
  _loaded_at: 'now()',
};

/** `ALTER TABLE` giving the legacy metadata columns their defaults (0.1 tables made before direct loads). */
export function buildMetadataDefaultsSql(target: string): string {
  const alters = LEGACY_METADATA_COLUMNS.map(
    (c) => `ALTER COLUMN ${quoteIdent(c.name)} SET DEFAULT ${METADATA_DEFAULTS[c.name]}`,
  );
  return `ALTER TABLE ${target} ${alters.join(', ')}`;
}

const METADATA_NAMES = new Set([...METADATA_COLUMNS, ...LEGACY_METADATA_COLUMNS].map((c) => c.name));

/** True for the warehouse's own metadata column names (current and legacy). */
export function isMetadataColumn(name: string): boolean {
  return METADATA_NAMES.has(name);
}

/**
 * `CREATE TABLE IF NOT EXISTS` with data columns followed by the metadata columns; partitioned
 * by `LIST ("_partition")` (one partition per interval, created by the load) unless `plain`.
 *
 * @example
 * buildCreateTableSql('"analytics"."raw_orders"', [{ name: 'id', type: 'bigint' }]);
 * // CREATE TABLE IF NOT EXISTS "analytics"."raw_orders" ("id" bigint, "_load_id" integer, "_partition" date, "_loaded_at" timestamptz) PARTITION BY LIST ("_partition")
 */
export function buildCreateTableSql(
  target: string,
  columns: readonly ColumnDef[],
  options: { plain?: boolean } = {},
): string {
  const defs = [...columns, ...METADATA_COLUMNS].map((c) => `${quoteIdent(c.name)} ${c.type}`);
  const partitioned = options.plain ? '' : ' PARTITION BY LIST ("_partition")';
  return `CREATE TABLE IF NOT EXISTS ${target} (${defs.join(', ')})${partitioned}`;
}

/** One `ALTER TABLE` adding every new column (schema evolution). */
export function buildAddColumnsSql(target: string, columns: readonly ColumnDef[]): string {
  const adds = columns.map((c) => `ADD COLUMN IF NOT EXISTS ${quoteIdent(c.name)} ${c.type}`);
  return `ALTER TABLE ${target} ${adds.join(', ')}`;
}

/**
 * Staging column holding each row's 1-based data record number in its part file, so merge key
 * errors can name rows without quoting their values. A whole-file COPY fills it from the
 * identity in file order (one COPY per staging table); bisection batches supply it explicitly.
 * Never published. Manifest columns starting with `_dataflow_` are refused in staging mode.
 */
export const STAGING_RECORD_COLUMN = '_dataflow_record';

/** Prefix reserved for the staging tables' own columns. */
export const RESERVED_STAGING_PREFIX = '_dataflow_';

/**
 * Index-less UNLOGGED staging table with the target's types for the loaded columns, plus the
 * record-number identity (cached: one session fills it, so values stay in file order).
 */
export function buildCreateStagingSql(staging: string, columns: readonly ColumnDef[]): string {
  const defs = [
    ...columns.map((c) => `${quoteIdent(c.name)} ${c.type}`),
    `${quoteIdent(STAGING_RECORD_COLUMN)} bigint GENERATED BY DEFAULT AS IDENTITY (CACHE 10000)`,
  ];
  return `CREATE UNLOGGED TABLE ${staging} (${defs.join(', ')})`;
}

/**
 * Staging table that collects rejected rows of one load before they are published; a temp
 * table dropped with the transaction when the load runs in one (direct mode).
 */
export function buildCreateRejectsStagingSql(staging: string, temporary = false): string {
  const columns = '(source_file text, line bigint, raw_row text, error text, sqlstate text)';
  return temporary
    ? `CREATE TEMP TABLE ${staging} ${columns} ON COMMIT DROP`
    : `CREATE UNLOGGED TABLE ${staging} ${columns}`;
}

/** The published rejects table `<table>__rejects`. */
export function buildCreateRejectsTableSql(rejects: string): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${rejects} (run_id text NOT NULL, partition text NOT NULL, source_file text, ` +
    'line bigint, raw_row text, error text, sqlstate text, rejected_at timestamptz NOT NULL DEFAULT now())'
  );
}

/** Options of a COPY FROM STDIN statement. */
export interface CopySqlOptions {
  format?: 'csv' | 'text';
  header?: boolean | 'match';
  delimiter?: string;
  nullString?: string;
  /** Columns whose quoted empty string also reads as NULL (CSV only). */
  forceNull?: readonly string[];
  /**
   * Rows written already frozen: allowed only into a table created (or truncated) in the
   * current subtransaction, and spares every later reader the hint-bit writes and VACUUM the
   * freezing pass.
   */
  freeze?: boolean;
}

/**
 * `COPY <table> (<cols>) FROM STDIN WITH (...)`; option values are escaped string literals.
 *
 * @example
 * buildCopySql('"analytics"."raw_orders"', ['id', 'amount'], { format: 'csv', header: true });
 * // COPY "analytics"."raw_orders" ("id", "amount") FROM STDIN WITH (FORMAT csv, HEADER true)
 */
export function buildCopySql(
  table: string,
  columns: readonly string[] | undefined,
  options: CopySqlOptions = {},
): string {
  const format = options.format ?? 'csv';
  const opts = [`FORMAT ${format}`];
  if (options.freeze) opts.push('FREEZE true');
  if (options.header !== undefined && options.header !== false) {
    opts.push(options.header === 'match' ? 'HEADER MATCH' : 'HEADER true');
  }
  if (options.delimiter !== undefined) opts.push(`DELIMITER ${literal(options.delimiter)}`);
  if (options.nullString !== undefined) opts.push(`NULL ${literal(options.nullString)}`);
  if (options.forceNull && options.forceNull.length > 0)
    opts.push(`FORCE_NULL (${options.forceNull.map(quoteIdent).join(', ')})`);
  const cols = columns && columns.length > 0 ? ` (${columns.map(quoteIdent).join(', ')})` : '';
  return `COPY ${table}${cols} FROM STDIN WITH (${opts.join(', ')})`;
}

/** A standard-conforming string literal (COPY options cannot be bound parameters). */
function literal(value: string): string {
  if (value.includes('\u0000')) throw new WarehouseError('INVALID_OPTIONS', 'COPY option contains NUL');
  return `'${value.replace(/'/g, "''")}'`;
}

/** A staged file: its staging table (qualified) and the lake key recorded in `_source_file`. */
export interface StagedFile {
  staging: string;
  sourceFile: string;
}

/** Everything the publish transaction needs. */
export interface PublishPlan {
  target: string;
  columns: readonly string[];
  files: readonly StagedFile[];
  disposition: Disposition;
  partition: string;
  runId: string;
  primaryKey?: readonly string[];
  /**
   * The load's row in `_dataflow_loads` (tables this version creates): rows get `_load_id`,
   * `_partition` (a date) and `_loaded_at` as constants. Without it, the legacy columns
   * `_run_id`, `_partition` (text), `_source_file`, `_loaded_at` are filled.
   */
  load?: LoadStamp;
  /** Rejected rows to publish into `table`; `clear` deletes older rejects the load supersedes. */
  rejects?: { table: string; staging?: string; clear: boolean };
}

/** The constants one load stamps on its rows (see {@link METADATA_COLUMNS}). */
export interface LoadStamp {
  loadId: number;
  /** `YYYY-MM-DD`. */
  partitionDate: string;
  /** The load's timestamp as PostgreSQL printed it (exact to the microsecond). */
  loadedAt: string;
}

/** SELECT of one staged file with its metadata, appending its values to `parameters`. */
function selectStaged(plan: PublishPlan, file: StagedFile, parameters: unknown[]): string {
  const cols = plan.columns.map(quoteIdent).join(', ');
  if (plan.load) {
    parameters.push(plan.load.loadId, plan.load.partitionDate, plan.load.loadedAt);
    const n = parameters.length;
    return `SELECT ${cols}, $${n - 2}::integer, $${n - 1}::date, $${n}::timestamptz FROM ${file.staging}`;
  }
  parameters.push(plan.runId, plan.partition, file.sourceFile);
  const n = parameters.length;
  return `SELECT ${cols}, $${n - 2}::text, $${n - 1}::text, $${n}::text, now() FROM ${file.staging}`;
}

function metadataOf(plan: PublishPlan): readonly ColumnDef[] {
  return plan.load ? METADATA_COLUMNS : LEGACY_METADATA_COLUMNS;
}

/** Target column list, data columns then metadata. */
function insertColumns(plan: PublishPlan): string {
  return [...plan.columns, ...metadataOf(plan).map((c) => c.name)].map(quoteIdent).join(', ');
}

/**
 * The statements of the publish transaction (run between BEGIN and COMMIT), by disposition.
 * - append: insert every staged file.
 * - replace: delete every row, insert (readers see the old rows until commit).
 * - replace_partition: delete the partition's rows, insert, so a re-run never duplicates.
 * - merge: one `INSERT … ON CONFLICT (pk) DO UPDATE` over all staged files.
 *
 * @example
 * for (const s of buildPublishStatements(plan)) await client.query(s.sql, s.parameters);
 */
export function buildPublishStatements(plan: PublishPlan): SqlStatement[] {
  return [...buildClearStatements(plan), ...buildInsertStatements(plan), ...buildRejectsStatements(plan)];
}

/** What a disposition removes before the new rows go in (none for append and merge). */
export function buildClearStatements(
  plan: Pick<PublishPlan, 'target' | 'disposition' | 'partition' | 'load'>,
): SqlStatement[] {
  // Tables this version creates replace by swapping partitions, never by DELETE.
  if (plan.load) return [];
  if (plan.disposition === 'replace') return [{ sql: `DELETE FROM ${plan.target}`, parameters: [] }];
  if (plan.disposition === 'replace_partition') {
    return [{ sql: `DELETE FROM ${plan.target} WHERE "_partition" = $1`, parameters: [plan.partition] }];
  }
  return [];
}

/** Inserts of the staged files (merge: one upsert over all of them). */
export function buildInsertStatements(plan: PublishPlan): SqlStatement[] {
  const statements: SqlStatement[] = [];
  if (plan.disposition === 'merge') {
    const pk = plan.primaryKey ?? [];
    if (pk.length === 0) throw new WarehouseError('INVALID_OPTIONS', 'merge needs a primaryKey');
    if (plan.files.length > 0) {
      const parameters: unknown[] = [];
      const selects = plan.files.map((f) => selectStaged(plan, f, parameters));
      const updates = [...plan.columns.filter((c) => !pk.includes(c)), ...metadataOf(plan).map((c) => c.name)]
        .map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`)
        .join(', ');
      statements.push({
        sql:
          `INSERT INTO ${plan.target} (${insertColumns(plan)}) ${selects.join(' UNION ALL ')} ` +
          `ON CONFLICT (${pk.map(quoteIdent).join(', ')}) DO UPDATE SET ${updates}`,
        parameters,
      });
    }
    return statements;
  }
  for (const file of plan.files) {
    const parameters: unknown[] = [];
    const select = selectStaged(plan, file, parameters);
    statements.push({ sql: `INSERT INTO ${plan.target} (${insertColumns(plan)}) ${select}`, parameters });
  }
  return statements;
}

/** Clears the rejects a load supersedes and publishes the new ones. */
export function buildRejectsStatements(
  plan: Pick<PublishPlan, 'disposition' | 'partition' | 'runId' | 'rejects'>,
): SqlStatement[] {
  const statements: SqlStatement[] = [];
  if (!plan.rejects) return statements;
  if (plan.rejects.clear) {
    statements.push(
      plan.disposition === 'replace'
        ? { sql: `DELETE FROM ${plan.rejects.table}`, parameters: [] }
        : { sql: `DELETE FROM ${plan.rejects.table} WHERE partition = $1`, parameters: [plan.partition] },
    );
  }
  if (plan.rejects.staging) {
    statements.push({
      sql:
        `INSERT INTO ${plan.rejects.table} (run_id, partition, source_file, line, raw_row, error, sqlstate, rejected_at) ` +
        `SELECT $1::text, $2::text, source_file, line, raw_row, error, sqlstate, now() FROM ${plan.rejects.staging}`,
      parameters: [plan.runId, plan.partition],
    });
  }
  return statements;
}

/**
 * Per staged file, rows whose key has a NULL part. Merge refuses to publish them: an upsert on
 * a NULL key silently inserts duplicates.
 */
export function buildNullKeyCheck(files: readonly StagedFile[], primaryKey: readonly string[]): SqlStatement {
  const condition = nullKeyCondition(primaryKey);
  const parameters: unknown[] = [];
  const parts = files.map((f) => {
    parameters.push(f.sourceFile);
    return `SELECT $${parameters.length}::text AS source_file, count(*)::bigint AS rows FROM ${f.staging} WHERE ${condition}`;
  });
  return { sql: parts.join(' UNION ALL '), parameters };
}

function nullKeyCondition(primaryKey: readonly string[]): string {
  return primaryKey.map((c) => `${quoteIdent(c)} IS NULL`).join(' OR ');
}

/**
 * Only once {@link buildNullKeyCheck} found some: the first `limit` record numbers with a NULL
 * key part in each of `files`, as `(file, record)` where `file` is the index in `files`. Row
 * values stay in the database.
 */
export function buildNullKeyRowsQuery(
  files: readonly StagedFile[],
  primaryKey: readonly string[],
  limit: number,
): SqlStatement {
  const record = quoteIdent(STAGING_RECORD_COLUMN);
  const condition = nullKeyCondition(primaryKey);
  const parts = files.map(
    (f, i) =>
      `(SELECT ${i} AS file, ${record} AS record FROM ${f.staging} WHERE ${condition} ORDER BY ${record} LIMIT ${positiveInteger(limit)})`,
  );
  return {
    sql: `SELECT file, record FROM (${parts.join(' UNION ALL ')}) r ORDER BY file, record`,
    parameters: [],
  };
}

/** Number of key values occurring more than once across all staged files, and the rows involved. */
export function buildDuplicateKeyCheck(
  files: readonly StagedFile[],
  primaryKey: readonly string[],
): SqlStatement {
  const cols = primaryKey.map(quoteIdent).join(', ');
  const union = files.map((f) => `SELECT ${cols} FROM ${f.staging}`).join(' UNION ALL ');
  return {
    sql: `SELECT count(*)::bigint AS keys, coalesce(sum(n), 0)::bigint AS rows FROM (SELECT count(*) AS n FROM (${union}) s GROUP BY ${cols} HAVING count(*) > 1) d`,
    parameters: [],
  };
}

/**
 * Only once {@link buildDuplicateKeyCheck} found some: the rows of the first `keys` repeated key
 * values (ordered by their first occurrence), at most `rowsPerKey` each, as `(key, file,
 * record, rows)`: `key` numbers the repeated values 1.., `file` indexes `files`, `rows` is how
 * many rows share that value. Row values stay in the database.
 */
export function buildDuplicateKeyRowsQuery(
  files: readonly StagedFile[],
  primaryKey: readonly string[],
  keys: number,
  rowsPerKey: number,
): SqlStatement {
  const cols = primaryKey.map(quoteIdent).join(', ');
  const file = quoteIdent(`${RESERVED_STAGING_PREFIX}file`);
  const key = quoteIdent(`${RESERVED_STAGING_PREFIX}key`);
  const rows = quoteIdent(`${RESERVED_STAGING_PREFIX}rows`);
  const record = quoteIdent(STAGING_RECORD_COLUMN);
  const union = files
    .map((f, i) => `SELECT ${i} AS ${file}, ${record}, ${cols} FROM ${f.staging}`)
    .join(' UNION ALL ');
  return {
    sql:
      `WITH s AS (${union}), ` +
      `k AS (SELECT ${cols}, count(*) AS ${rows}, row_number() OVER (ORDER BY min(ARRAY[${file}::bigint, ${record}])) AS ${key} ` +
      `FROM s GROUP BY ${cols} HAVING count(*) > 1 ORDER BY ${key} LIMIT ${positiveInteger(keys)}) ` +
      `SELECT key, file, record, rows FROM (SELECT k.${key} AS key, s.${file} AS file, s.${record} AS record, k.${rows} AS rows, ` +
      `row_number() OVER (PARTITION BY k.${key} ORDER BY s.${file}, s.${record}) AS n FROM k JOIN s USING (${cols})) r ` +
      `WHERE n <= ${positiveInteger(rowsPerKey)} ORDER BY key, file, record`,
    parameters: [],
  };
}

function positiveInteger(n: number): number {
  if (!Number.isInteger(n) || n < 1)
    throw new WarehouseError('INVALID_OPTIONS', 'limit must be a positive integer');
  return n;
}

/**
 * Name of the unique index merge relies on: `<table>__pk`, or a hashed name when that would
 * exceed PostgreSQL's identifier limit (never truncated silently).
 */
export function derivedName(table: string, suffix: string): string {
  const name = `${table}${suffix}`;
  if (Buffer.byteLength(name, 'utf8') <= MAX_IDENTIFIER_BYTES) return name;
  const hash = createHash('sha256').update(table).digest('hex').slice(0, 8);
  return `${truncateBytes(table, MAX_IDENTIFIER_BYTES - suffix.length - 9)}_${hash}${suffix}`;
}

/** `CREATE UNIQUE INDEX IF NOT EXISTS` on the merge key. */
export function buildUniqueIndexSql(index: string, target: string, primaryKey: readonly string[]): string {
  return `CREATE UNIQUE INDEX IF NOT EXISTS ${quoteIdent(index)} ON ${target} (${primaryKey.map(quoteIdent).join(', ')})`;
}

/**
 * 64-bit advisory lock key for (table, partition): the first 8 bytes of SHA-256, signed, as a
 * decimal string (bound as `$1::bigint`). Stable across processes and versions.
 *
 * @example
 * await client.query('SELECT pg_advisory_lock($1::bigint)', [advisoryLockKey('analytics.raw_orders', '2026-05-01')]);
 */
export function advisoryLockKey(qualifiedTable: string, partition: string): string {
  return createHash('sha256')
    .update(`${qualifiedTable}\u0000${partition}`)
    .digest()
    .readBigInt64BE(0)
    .toString();
}
