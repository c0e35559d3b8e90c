import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { inTransaction, qualify, quoteIdent } from '@dataflow/pg';
import { parse } from 'csv-parse';
import type pg from 'pg';
import { checkTypeName } from './column-types.js';
import { copyErrorLine, copyStream, withClient } from './copy-into.js';
import { toWarehouseError, WarehouseError } from './errors.js';
import { ColumnTypeInferrer } from './infer.js';
import { buildCopySql, type ColumnDef } from './sql.js';

/** Options of {@link loadSeed}. */
export interface LoadSeedOptions {
  /** Local path of the seed CSV (header row first). */
  file: string;
  table: string;
  schema?: string;
  /** Column types that win over inference (dbt `column_types`). Unknown columns are ignored. */
  columnTypes?: Record<string, string>;
  /** Field delimiter; default `,`. */
  delimiter?: string;
  /**
   * dbt's `quote_columns`: `false` folds the header's names to lower case, as PostgreSQL folds
   * unquoted identifiers; otherwise (default) the names are used exactly as written.
   */
  quoteColumns?: boolean;
  signal?: AbortSignal;
}

/** What {@link loadSeed} loaded. */
export interface SeedResult {
  table: string;
  rows: number;
  columns: ColumnDef[];
}

/** First pass: header and inferred type per column, streaming, constant memory per column. */
async function inferSeedColumns(file: string, delimiter: string, signal?: AbortSignal): Promise<ColumnDef[]> {
  let header: string[] | undefined;
  let inferrers: ColumnTypeInferrer[] = [];
  await pipeline(
    createReadStream(file),
    parse({ delimiter, bom: true, relax_column_count: true }),
    async (records: AsyncIterable<string[]>) => {
      for await (const record of records) {
        if (header === undefined) {
          header = record;
          inferrers = record.map(() => new ColumnTypeInferrer());
          continue;
        }
        record.forEach((value, i) => {
          inferrers[i]?.add(value);
        });
      }
    },
    signal ? { signal } : {},
  );
  if (header === undefined || header.length === 0) {
    throw new WarehouseError('BAD_FILE', `seed ${file} has no header row`, { file });
  }
  const names = header;
  const seen = new Set<string>();
  for (const name of names) {
    quoteIdent(name);
    if (seen.has(name))
      throw new WarehouseError('BAD_FILE', `seed ${file} repeats a column`, { file, column: name });
    seen.add(name);
  }
  return names.map((name, i) => ({ name, type: (inferrers[i] as ColumnTypeInferrer).type }));
}

/**
 * Loads a seed CSV into a table named by the caller (dbt seeds, by COPY). The file is streamed
 * twice: once to infer each column's type (integer, bigint, numeric, boolean, date, timestamp,
 * else text; empty = NULL), once into COPY. `columnTypes` override inference. The table is
 * replaced atomically: in one transaction it is truncated (same columns and types) or dropped
 * and recreated, then filled; readers see the old or the new seed, never a mix.
 *
 * @example
 * const seed = await loadSeed(pool, { file: 'seeds/raw_orders.csv', table: 'raw_orders', schema: 'analytics' });
 * // seed.columns => [{ name: 'id', type: 'integer' }, { name: 'order_date', type: 'date' }, ...]
 */
export async function loadSeed(pool: pg.Pool, options: LoadSeedOptions): Promise<SeedResult> {
  const target = qualify(options.schema, options.table);
  const delimiter = options.delimiter ?? ',';
  for (const [name, type] of Object.entries(options.columnTypes ?? {})) checkTypeName(type, name);
  let inferred: ColumnDef[];
  try {
    inferred = await inferSeedColumns(options.file, delimiter, options.signal);
  } catch (error) {
    if (error instanceof WarehouseError) throw error;
    throw new WarehouseError(
      (error as { name?: string }).name === 'AbortError' ? 'ABORTED' : 'BAD_FILE',
      `could not read seed ${options.file}`,
      { file: options.file, table: options.table, cause: error },
    );
  }
  const columns = inferred.map((c) => {
    const name = options.quoteColumns === false ? c.name.toLowerCase() : c.name;
    const override = options.columnTypes?.[name] ?? options.columnTypes?.[c.name];
    return { name, type: override ? checkTypeName(override, name) : c.type };
  });
  const names = columns.map((c) => c.name);
  const copySql = buildCopySql(target, names, { format: 'csv', header: true, delimiter, forceNull: names });
  try {
    const rows = await withClient(pool, (client) =>
      inTransaction(client, async () => {
        const existing = await client.query<{ name: string; type: string; wanted: string | null }>(
          `SELECT a.attname AS name, format_type(a.atttypid, NULL) AS type, NULL::text AS wanted
             FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum`,
          [target],
        );
        const wanted = await client.query<{ type: string | null }>(
          'SELECT format_type(to_regtype(t), NULL) AS type FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i) ORDER BY i',
          [columns.map((c) => c.type)],
        );
        const same =
          existing.rows.length === columns.length &&
          existing.rows.every((r, i) => r.name === columns[i]?.name && r.type === wanted.rows[i]?.type);
        if (same) {
          await client.query(`TRUNCATE ${target}`);
        } else {
          await client.query(`DROP TABLE IF EXISTS ${target}`);
          await client.query(
            `CREATE TABLE ${target} (${columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`,
          );
        }
        const copied = await copyStream(client, copySql, createReadStream(options.file), {
          signal: options.signal,
        });
        return copied;
      }),
    );
    return { table: options.schema ? `${options.schema}.${options.table}` : options.table, rows, columns };
  } catch (error) {
    const line = copyErrorLine(error);
    throw toWarehouseError(error, 'COPY_FAILED', `loading seed into ${target}`, {
      table: options.table,
      file: options.file,
      ...(line !== undefined ? { line } : {}),
    });
  }
}
