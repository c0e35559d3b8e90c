import type { ColumnType, CsvIncrementalOptions, CsvIngestOptions, OpenLakeOptions } from '@dataflow/ingest';
import type { LoadPartitionOptions } from '@dataflow/warehouse';
import { tableOf } from './checks.js';
import type { CsvSourceConfig, ProjectConfig, SourceConfig } from './schema.js';

// The functions here translate the snake_case YAML shape into each library's camelCase options.
// Pure: what is known only at run time (store, interval, run id, signal, logger) is the caller's.

/** S3 settings shared by the lake and `s3://` CSV locations: the lake's endpoint and credentials. */
export function s3Options(config: ProjectConfig): OpenLakeOptions {
  const lake = config.lake;
  return {
    ...(lake.endpoint ? { endpoint: lake.endpoint } : {}),
    ...(lake.region ? { region: lake.region } : {}),
    ...(lake.access_key_id && lake.secret_access_key
      ? { credentials: { accessKeyId: lake.access_key_id, secretAccessKey: lake.secret_access_key } }
      : {}),
    ...(lake.checksum ? { checksum: lake.checksum } : {}),
  };
}

/**
 * Where the lake is and how to open it: `lake.url`, else `file://<project>/.dataflow/lake/raw`.
 *
 * @example
 * const { url, options } = lakeOptions(config, '/srv/shop', process.env); // url 'file:///srv/shop/.dataflow/lake/raw'
 */
export function lakeOptions(
  config: ProjectConfig,
  dir: string,
  env: Record<string, string | undefined>,
): { url: string; options: OpenLakeOptions } {
  return {
    url: config.lake.url ?? `file://${dir}/.dataflow/lake/raw`,
    options: { cwd: dir, env: env as NodeJS.ProcessEnv, ...s3Options(config) },
  };
}

/** Whether the lake is on S3 (the only case that needs the AWS SDK). */
export const isS3Url = (url: string): boolean => /^s3:\/\//i.test(url);

/** `ingestCsv`'s `options` for a CSV source. */
export function csvIngestOptions(source: CsvSourceConfig, config: ProjectConfig): CsvIngestOptions {
  return {
    ...(source.gzip !== undefined ? { gzip: source.gzip } : {}),
    ...(source.part_bytes ? { partBytes: source.part_bytes } : {}),
    ...(source.delimiter ? { delimiter: source.delimiter } : {}),
    ...(source.on_bad_row ? { onBadRow: source.on_bad_row } : {}),
    ...(source.max_rejects !== undefined ? { maxRejects: source.max_rejects } : {}),
    ...(source.columns ? { columns: source.columns } : {}),
    ...(source.headers ? { headers: source.headers } : {}),
    ...(source.timeout_ms ? { timeoutMs: source.timeout_ms } : {}),
    ...(isS3Url(source.location) ? { s3: s3Options(config) } : {}),
  };
}

/**
 * A CSV source's `incremental:` as ingest's option, when it has one.
 *
 * @example
 * csvIncremental(source)?.cursorColumn; // 'id'
 */
export function csvIncremental(source: CsvSourceConfig): CsvIncrementalOptions | undefined {
  return source.incremental ? csvIncrementalOptions(source.incremental, source.primary_key) : undefined;
}

/** Declared types whose name is not a PostgreSQL type name. */
const PG_TYPE: Partial<Record<ColumnType, string>> = { double: 'double precision' };

/**
 * Declared column types as PostgreSQL types (`double` → `double precision`).
 *
 * @example
 * warehouseColumns({ price: 'double', id: 'integer' }); // { price: 'double precision', id: 'integer' }
 */
export function warehouseColumns(columns: Record<string, ColumnType>): Record<string, string> {
  return Object.fromEntries(Object.entries(columns).map(([name, type]) => [name, PG_TYPE[type] ?? type]));
}

/** The run-independent part of `loadPartition`'s options for a source. */
export function loadOptions(
  name: string,
  source: SourceConfig,
  config: ProjectConfig,
): Omit<LoadPartitionOptions, 'store' | 'interval' | 'runId' | 'signal' | 'logger'> {
  return {
    source: name,
    table: tableOf(name, source),
    schema: config.warehouse.schema,
    disposition: source.disposition,
    ...(source.primary_key ? { primaryKey: source.primary_key } : {}),
    ...(source.columns ? { columns: warehouseColumns(source.columns) } : {}),
    ...(source.schema_evolution ? { schemaEvolution: source.schema_evolution } : {}),
    ...(source.max_rejects !== undefined ? { maxRejects: source.max_rejects } : {}),
  };
}

/**
 * Sources and raw tables the models can reference: `source('raw', name)` and `ref('raw_<name>')`.
 *
 * @example
 * modelingRelations(config, 'public'); // { sources: { raw: { orders: { schema: 'public', identifier: 'raw_orders' } } }, externalRelations: [...] }
 */
export function modelingRelations(config: ProjectConfig, schema: string) {
  const raw: Record<
    string,
    { schema: string; identifier: string; freshness?: Record<string, unknown>; loadedAtField?: string }
  > = {};
  const externalRelations: Array<{ name: string; schema: string; identifier: string }> = [];
  for (const [name, source] of Object.entries(config.sources)) {
    const identifier = tableOf(name, source);
    raw[name] = {
      schema,
      identifier,
      ...(source.freshness ? { freshness: source.freshness } : {}),
      // The raw layer stamps every loaded row with `_loaded_at`.
      loadedAtField: source.loaded_at_field ?? '_loaded_at',
    };
    externalRelations.push({ name: identifier, schema, identifier });
  }
  return { sources: { raw }, externalRelations };
}

/**
 * A CSV source's `incremental:` as ingest's option; the source's `primary_key` is the boundary key
 * unless the block names one.
 *
 * @example
 * csvIncrementalOptions({ cursor_column: 'id', initial_value: 0 }, undefined); // { cursorColumn: 'id', initialValue: 0 }
 */
export function csvIncrementalOptions(
  y: NonNullable<CsvSourceConfig['incremental']>,
  sourceKey: readonly string[] | undefined,
): CsvIncrementalOptions {
  const primaryKey = y.primary_key ?? sourceKey;
  return {
    cursorColumn: y.cursor_column,
    initialValue: y.initial_value,
    ...(y.end_value !== undefined ? { endValue: y.end_value } : {}),
    ...(y.lag !== undefined ? { lag: y.lag } : {}),
    ...(y.on_cursor_value_missing ? { onCursorValueMissing: y.on_cursor_value_missing } : {}),
    ...(y.row_order ? { rowOrder: y.row_order } : {}),
    ...(primaryKey?.length ? { primaryKey: [...primaryKey] } : {}),
  };
}
