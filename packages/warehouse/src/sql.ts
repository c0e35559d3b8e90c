import { createHash } from 'node:crypto';
import { WarehouseError } from './errors.js';
import { MAX_IDENTIFIER_BYTES, quoteIdent, truncateBytes } from './identifiers.js';

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

/** Metadata columns stamped on every loaded row. */
export const METADATA_COLUMNS: readonly ColumnDef[] = [
  { name: '_run_id', type: 'text' },
  { name: '_partition', type: 'text' },
  { name: '_source_file', type: 'text' },
  { name: '_loaded_at', type: 'timestamptz' },
];

/**
 * Session settings a direct load sets (transaction-local, values bound with `set_config`) so
 * the metadata columns' defaults fill every COPYed row without a byte of it in the data.
 */
export const METADATA_SETTINGS = {
  _run_id: 'dataflow.run_id',
  _partition: 'dataflow.partition',
  _source_file: 'dataflow.source_file',
} as const;

/**
 * Column defaults of the metadata columns: the load's settings (NULL outside a load) and the
 * transaction time.
 */
export const METADATA_DEFAULTS: Readonly<Record<string, string>> = {
  _run_id: `nullif(current_setting('${METADATA_SETTINGS._run_id}', true), '')`,
  _partition: `nullif(current_setting('${METADATA_SETTINGS._partition}', true), '')`,
  _source_file: `nullif(current_setting('${METADATA_SETTINGS._source_file}', true), '')`,
  _loaded_at: 'now()',
};

/** `ALTER TABLE` giving the metadata columns their defaults (tables created before direct loads). */
export function buildMetadataDefaultsSql(target: string): string {
  const alters = METADATA_COLUMNS.map(
    (c) => `ALTER COLUMN ${quoteIdent(c.name)} SET DEFAULT ${METADATA_DEFAULTS[c.name]}`,
  );
  return `ALTER TABLE ${target} ${alters.join(', ')}`;
}

const METADATA_NAMES = new Set(METADATA_COLUMNS.map((c) => c.name));

/** True for the warehouse's own metadata column names. */
export function isMetadataColumn(name: string): boolean {
  return METADATA_NAMES.has(name);
}

/** `CREATE TABLE IF NOT EXISTS` with data columns followed by the metadata columns. */
export function buildCreateTableSql(target: string, columns: readonly ColumnDef[]): string {
  const defs = [
    ...columns.map((c) => `${quoteIdent(c.name)} ${c.type}`),
    ...METADATA_COLUMNS.map((c) => `${quoteIdent(c.name)} ${c.type} DEFAULT ${METADATA_DEFAULTS[c.name]}`),
  ];
  return `CREATE TABLE IF NOT EXISTS ${target} (${defs.join(', ')})`;
}

/** One `ALTER TABLE` adding every new column (schema evolution). */
export function buildAddColumnsSql(target: string, columns: readonly ColumnDef[]): string {
  const adds = columns.map((c) => `ADD COLUMN IF NOT EXISTS ${quoteIdent(c.name)} ${c.type}`);
  return `ALTER TABLE ${target} ${adds.join(', ')}`;
}

/** Index-less UNLOGGED staging table with the target's types for the loaded columns. */
export function buildCreateStagingSql(staging: string, columns: readonly ColumnDef[]): string {
  return `CREATE UNLOGGED TABLE ${staging} (${columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`;
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
}

/** `COPY <table> (<cols>) FROM STDIN WITH (...)`; option values are escaped string literals. */
export function buildCopySql(
  table: string,
  columns: readonly string[] | undefined,
  options: CopySqlOptions = {},
): string {
  const format = options.format ?? 'csv';
  const opts = [`FORMAT ${format}`];
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
  /** Rejected rows to publish into `table`; `clear` deletes older rejects the load supersedes. */
  rejects?: { table: string; staging?: string; clear: boolean };
}

/** SELECT of one staged file with its metadata; parameters start at `$offset`. */
function selectStaged(plan: PublishPlan, file: StagedFile, parameters: unknown[]): string {
  parameters.push(plan.runId, plan.partition, file.sourceFile);
  const n = parameters.length;
  const cols = plan.columns.map(quoteIdent).join(', ');
  return `SELECT ${cols}, $${n - 2}::text, $${n - 1}::text, $${n}::text, now() FROM ${file.staging}`;
}

/** Target column list, data columns then metadata. */
function insertColumns(plan: PublishPlan): string {
  return [...plan.columns, ...METADATA_COLUMNS.map((c) => c.name)].map(quoteIdent).join(', ');
}

/**
 * The statements of the publish transaction (run between BEGIN and COMMIT), by disposition.
 * - append: insert every staged file.
 * - replace: delete every row, insert (readers see the old rows until commit).
 * - replace_partition: delete the partition's rows, insert, so a re-run never duplicates.
 * - merge: one `INSERT … ON CONFLICT (pk) DO UPDATE` over all staged files.
 */
export function buildPublishStatements(plan: PublishPlan): SqlStatement[] {
  return [...buildClearStatements(plan), ...buildInsertStatements(plan), ...buildRejectsStatements(plan)];
}

/** What a disposition removes before the new rows go in (none for append and merge). */
export function buildClearStatements(
  plan: Pick<PublishPlan, 'target' | 'disposition' | 'partition'>,
): SqlStatement[] {
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
      const updates = [...plan.columns.filter((c) => !pk.includes(c)), ...METADATA_COLUMNS.map((c) => c.name)]
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
  const condition = primaryKey.map((c) => `${quoteIdent(c)} IS NULL`).join(' OR ');
  const parameters: unknown[] = [];
  const parts = files.map((f) => {
    parameters.push(f.sourceFile);
    return `SELECT $${parameters.length}::text AS source_file, count(*)::bigint AS rows FROM ${f.staging} WHERE ${condition}`;
  });
  return { sql: parts.join(' UNION ALL '), parameters };
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
 */
export function advisoryLockKey(qualifiedTable: string, partition: string): string {
  return createHash('sha256')
    .update(`${qualifiedTable}\u0000${partition}`)
    .digest()
    .readBigInt64BE(0)
    .toString();
}
