import { inTransaction, qualify, quoteIdent } from '@dataflow/pg';
import type pg from 'pg';
import { declaredType } from './column-types.js';
import { widenColumns } from './column-widening.js';
import { WarehouseError } from './errors.js';
import type { Logger, PartitionManifest } from './lake.js';
import { buildCreateLoadsTableSql } from './partition-sql.js';
import { pgTypeOf, typeChanges } from './record-types.js';
import {
  advisoryLockKey,
  buildAddColumnsSql,
  buildCreateTableSql,
  buildMetadataDefaultsSql,
  buildUniqueIndexSql,
  type ColumnDef,
  type Disposition,
  derivedName,
  isMetadataColumn,
  LEGACY_METADATA_COLUMNS,
} from './sql.js';

/**
 * How a target table stores its rows. `partitioned`: LIST-partitioned on `_partition`, one
 * partition per interval, replaced by swapping (this version, every disposition but merge).
 * `plain`: an ordinary table with the same metadata columns (merge). `legacy`: a table created
 * by dataflow 0.1 with per-row `_run_id` / `_source_file`, loaded as before.
 */
export type TableLayout = 'partitioned' | 'plain' | 'legacy';

/** The target after creation and schema evolution. */
export interface Target {
  schema: string;
  table: string;
  qualified: string;
  layout: TableLayout;
  /** Types of the manifest columns in the target, in manifest order. */
  columns: ColumnDef[];
  /** Every column of the target, in table order (what a fresh partition must have). */
  tableColumns: ColumnDef[];
}

/** What {@link prepareTarget} needs. */
export interface TargetRequest {
  schema: string;
  table: string;
  /** Whether the caller named the schema (then it is created when missing). */
  createSchema: boolean;
  disposition: Disposition;
  primaryKey?: readonly string[];
  declared: Readonly<Record<string, string>>;
  schemaEvolution: 'evolve' | 'freeze';
}

interface ColumnRow {
  name: string;
  type: string;
  hasDefault: boolean;
}

interface Relation {
  kind: string;
  columns: ColumnRow[];
}

async function readRelation(client: pg.ClientBase, qualified: string): Promise<Relation | undefined> {
  const { rows } = await client.query<{ kind: string | null }>(
    'SELECT (SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)) AS kind',
    [qualified],
  );
  const kind = rows[0]?.kind;
  if (!kind) return undefined;
  const columns = await client.query<ColumnRow>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.atthasdef AS "hasDefault"
       FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [qualified],
  );
  return { kind, columns: columns.rows };
}

/**
 * The schema a load writes to: the given one, else the one `table` resolves to on the
 * search_path, else the current schema.
 *
 * @example
 * await resolveSchema(client, undefined, 'raw_orders'); // 'public'
 */
export async function resolveSchema(
  client: pg.ClientBase,
  schema: string | undefined,
  table: string,
): Promise<string> {
  if (schema !== undefined) return schema;
  const { rows } = await client.query<{ schema: string | null }>(
    `SELECT coalesce((SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE c.oid = to_regclass($1)), current_schema()) AS schema`,
    [quoteIdent(table)],
  );
  const resolved = rows[0]?.schema;
  if (!resolved)
    throw new WarehouseError('INVALID_OPTIONS', 'no schema given and search_path has no usable schema');
  return resolved;
}

/** The layout of an existing table, or a SCHEMA_DRIFT error when it lacks the metadata columns. */
export function layoutOf(relation: Relation, qualified: string, table: string): TableLayout {
  const names = new Set(relation.columns.map((c) => c.name));
  if (names.has('_run_id')) {
    const missing = LEGACY_METADATA_COLUMNS.find((c) => !names.has(c.name));
    if (missing) {
      throw new WarehouseError('SCHEMA_DRIFT', `table ${qualified} lacks the metadata columns`, {
        table,
        column: missing.name,
      });
    }
    return 'legacy';
  }
  for (const column of ['_load_id', '_partition', '_loaded_at']) {
    if (!names.has(column)) {
      throw new WarehouseError('SCHEMA_DRIFT', `table ${qualified} lacks the metadata columns`, {
        table,
        column,
      });
    }
  }
  return relation.kind === 'p' ? 'partitioned' : 'plain';
}

function checkLayoutFits(
  layout: TableLayout,
  disposition: Disposition,
  qualified: string,
  table: string,
): void {
  if (layout === 'partitioned' && disposition === 'merge') {
    throw new WarehouseError(
      'INVALID_OPTIONS',
      `merge needs an unpartitioned table (a unique key must include the partition key) but ${qualified} is partitioned`,
      { table },
    );
  }
  if (layout === 'plain' && (disposition === 'replace' || disposition === 'replace_partition')) {
    throw new WarehouseError(
      'INVALID_OPTIONS',
      `${disposition} swaps partitions but ${qualified} is an unpartitioned (merge) table`,
      { table },
    );
  }
}

async function createTable(
  client: pg.ClientBase,
  qualified: string,
  manifest: PartitionManifest,
  request: TargetRequest,
  typeOf: (name: string) => string,
): Promise<void> {
  const defs: ColumnDef[] = manifest.columns.map((name) => ({ name, type: typeOf(name) }));
  for (const name of Object.keys(request.declared)) {
    if (!manifest.columns.includes(name)) defs.push({ name, type: typeOf(name) });
  }
  await client.query(buildCreateTableSql(qualified, defs, { plain: request.disposition === 'merge' }));
}

/** Adds the manifest columns the table lacks (`evolve`), or fails SCHEMA_DRIFT (`freeze`). */
async function evolve(
  client: pg.ClientBase,
  qualified: string,
  existing: Relation,
  manifest: PartitionManifest,
  request: TargetRequest,
  typeOf: (name: string) => string,
  log: Logger,
): Promise<boolean> {
  const known = new Set(existing.columns.map((c) => c.name));
  const missing = manifest.columns.filter((c) => !known.has(c));
  if (missing.length === 0) return false;
  if (request.schemaEvolution === 'freeze') {
    throw new WarehouseError(
      'SCHEMA_DRIFT',
      `partition has columns the frozen table ${qualified} lacks: ${missing.map(quoteIdent).join(', ')}`,
      { table: request.table, column: missing[0] as string },
    );
  }
  await client.query(
    buildAddColumnsSql(
      qualified,
      missing.map((name) => ({ name, type: typeOf(name) })),
    ),
  );
  log.info({ table: qualified, added: missing }, 'schema evolved: added columns');
  return true;
}

/**
 * Widens the columns whose type the partition's inferred schema outgrew (`evolve`), or fails
 * SCHEMA_DRIFT naming the first one (`freeze`). Resolves whether anything changed.
 */
async function widen(
  client: pg.ClientBase,
  qualified: string,
  existing: Relation,
  manifest: PartitionManifest,
  request: TargetRequest,
  log: Logger,
): Promise<boolean> {
  if (!manifest.schema) return false;
  const types = new Map(existing.columns.map((c) => [c.name, c.type]));
  const changes = typeChanges(manifest.schema, types, request.declared);
  const first = changes[0];
  if (!first) return false;
  if (request.schemaEvolution === 'freeze') {
    throw new WarehouseError(
      'SCHEMA_DRIFT',
      `column ${quoteIdent(first.column)} of the frozen table ${qualified} is ${first.from} but the partition's records need ${pgTypeOf(first.to)}`,
      { table: request.table, column: first.column },
    );
  }
  await widenColumns(client, qualified, changes, log);
  return true;
}

/**
 * The type a new column is created with: declared (the load's `columns`), else inferred (the
 * manifest's `schema`), else `text`.
 */
function columnTypeResolver(request: TargetRequest, manifest: PartitionManifest): (name: string) => string {
  const inferred = new Map((manifest.schema ?? []).map((c) => [c.name, pgTypeOf(c.type)]));
  return (name) => {
    const declared = request.declared[name];
    if (declared) return declaredType(declared, name);
    return inferred.get(name) ?? 'text';
  };
}

/**
 * Creates the schema, the load table and the target when missing, applies schema evolution
 * and the merge key's unique index, all in one transaction under a transaction-level advisory
 * lock on the table (concurrent loads of other partitions do not race on DDL). A legacy table
 * is reported once per load in the log.
 *
 * @example
 * const target = await prepareTarget(client, request, manifest, log);
 */
export async function prepareTarget(
  client: pg.ClientBase,
  request: TargetRequest,
  manifest: PartitionManifest,
  log: Logger,
): Promise<Target> {
  const qualified = qualify(request.schema, request.table);
  const typeOf = columnTypeResolver(request, manifest);
  return inTransaction(client, async () => {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryLockKey(qualified, '')]);
    // Two loads of different tables into one schema (Airflow's mapped tasks) would race on
    // CREATE SCHEMA / CREATE TABLE IF NOT EXISTS (23505 inside this transaction): a schema-level lock orders them.
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [
      advisoryLockKey(`schema:${request.schema}`, ''),
    ]);
    if (request.createSchema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(request.schema)}`);
    await client.query(buildCreateLoadsTableSql(request.schema));
    let relation = await readRelation(client, qualified);
    if (relation === undefined) {
      await createTable(client, qualified, manifest, request, typeOf);
      relation = (await readRelation(client, qualified)) as Relation;
      log.info(
        { table: qualified, columns: relation.columns.length, partitioned: relation.kind === 'p' },
        'created target table',
      );
    } else {
      const added = await evolve(client, qualified, relation, manifest, request, typeOf, log);
      const widened = await widen(client, qualified, relation, manifest, request, log);
      if (added || widened) relation = (await readRelation(client, qualified)) as Relation;
    }
    const layout = layoutOf(relation, qualified, request.table);
    checkLayoutFits(layout, request.disposition, qualified, request.table);
    if (layout === 'legacy') {
      log.warn(
        { table: qualified },
        'table has the per-row metadata columns of dataflow 0.1 (_run_id, _source_file): loading it as before ' +
          '(DELETE + COPY, dead rows until VACUUM); rename it away and the next load creates the partitioned layout',
      );
      if (relation.columns.some((c) => isMetadataColumn(c.name) && !c.hasDefault)) {
        await client.query(buildMetadataDefaultsSql(qualified));
      }
    }
    if (request.disposition === 'merge') {
      await client.query(
        buildUniqueIndexSql(derivedName(request.table, '__pk'), qualified, request.primaryKey ?? []),
      );
    }
    const types = new Map(relation.columns.map((c) => [c.name, c.type]));
    return {
      schema: request.schema,
      table: request.table,
      qualified,
      layout,
      columns: manifest.columns.map((name) => ({ name, type: types.get(name) ?? 'text' })),
      tableColumns: relation.columns.map((c) => ({ name: c.name, type: c.type })),
    };
  });
}
