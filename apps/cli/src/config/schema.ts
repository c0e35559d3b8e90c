import { apiSourceShape, COLUMN_TYPES, type ColumnType } from '@dataflow/ingest';
// The leaf module, not the package: config loading must not import the lineage emitters.
import { lineageConfigSchema } from '@dataflow/lineage/config';
import { z } from 'zod';
import { warehouseTimeoutFields } from '../connection-options.js';
import { csvIncrementalSchema } from './incremental-schema.js';

export const DISPOSITIONS = ['append', 'replace', 'replace_partition', 'merge'] as const;
const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a plain identifier ([A-Za-z_][A-Za-z0-9_]*)');
const stringList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));
/**
 * Declared column types by header name: validated at ingest, PostgreSQL types at load. An unknown
 * type is a config error here, not a failed load (exit 1) at the first run.
 */
const columnsSchema = z.record(z.string(), z.enum(COLUMN_TYPES as [ColumnType, ...ColumnType[]]));

const freshnessWindow = z.strictObject({
  count: z.number().int().positive(),
  period: z.enum(['minute', 'hour', 'day']),
});
/** dbt's source freshness rule, checked by `dataflow freshness` against the raw table. */
const freshnessSchema = z.strictObject({
  warn_after: freshnessWindow.optional(),
  error_after: freshnessWindow.optional(),
  /** SQL condition limiting the rows whose load time counts. */
  filter: z.string().min(1).optional(),
});

/** Loading options shared by every source type (what `@dataflow/warehouse` needs). */
const loadFields = {
  freshness: freshnessSchema.optional(),
  /** The column holding the load time (default: the raw layer's `_loaded_at`). */
  loaded_at_field: z.string().min(1).optional(),
  table: identifier.optional(),
  primary_key: stringList.optional(),
  disposition: z.enum(DISPOSITIONS).default('replace_partition'),
  schema_evolution: z.enum(['evolve', 'freeze']).optional(),
  max_rejects: z.number().int().nonnegative().optional(),
  columns: columnsSchema.optional(),
};

const csvSource = z.strictObject({
  type: z.literal('csv'),
  location: z.string().min(1),
  gzip: z.boolean().optional(),
  part_bytes: z.number().int().positive().optional(),
  delimiter: z.string().length(1).optional(),
  on_bad_row: z.enum(['fail', 'reject']).optional(),
  timeout_ms: z.number().int().positive().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** An append-only feed read past a remembered cursor column (issue 16). */
  incremental: csvIncrementalSchema.optional(),
  ...loadFields,
});

// Ingest owns the API source's YAML shape (snake_case); the CLI adds what loading needs, with its
// own checked column types (`columns` maps names to ingest's declared types).
const apiSource = apiSourceShape.extend(loadFields);

/** The `dataflow.yml` schema. dbt-style keys (`model-paths`, `vars`, `models`, …) are read by modeling. */
export const configSchema = z.strictObject({
  name: z.string().min(1),
  version: z.union([z.string(), z.number()]).optional(),
  profile: z.string().optional(),
  'config-version': z.number().optional(),
  warehouse: z
    .strictObject({
      url: z.string().min(1).optional(),
      schema: identifier.default('public'),
      pool_size: z.number().int().positive().default(8),
      ...warehouseTimeoutFields,
    })
    .default({ schema: 'public', pool_size: 8 }),
  metadata: z
    .strictObject({
      url: z.string().min(1).optional(),
      schema: identifier.default('dataflow'),
    })
    .default({ schema: 'dataflow' }),
  lake: z
    .strictObject({
      url: z.string().min(1).optional(),
      endpoint: z.string().min(1).optional(),
      region: z.string().optional(),
      access_key_id: z.string().optional(),
      secret_access_key: z.string().optional(),
      checksum: z.enum(['when_required', 'when_supported']).optional(),
    })
    .default({}),
  sources: z.record(identifier, z.discriminatedUnion('type', [csvSource, apiSource])).default({}),
  /** OpenLineage: transport, url, api_key, namespace… (the OPENLINEAGE_* env fills what is not set). */
  lineage: lineageConfigSchema.optional(),
  build: z
    .strictObject({
      threads: z.number().int().positive().default(4),
      fail_fast: z.boolean().default(false),
    })
    .default({ threads: 4, fail_fast: false }),
  'model-paths': stringList.optional(),
  'seed-paths': stringList.optional(),
  'test-paths': stringList.optional(),
  'macro-paths': stringList.optional(),
  'analysis-paths': stringList.optional(),
  'snapshot-paths': stringList.optional(),
  'target-path': z.string().optional(),
  'clean-targets': stringList.optional(),
  vars: z.record(z.string(), z.unknown()).optional(),
  models: z.record(z.string(), z.unknown()).optional(),
  seeds: z.record(z.string(), z.unknown()).optional(),
  tests: z.record(z.string(), z.unknown()).optional(),
  data_tests: z.record(z.string(), z.unknown()).optional(),
});

/** A validated project configuration. */
export type ProjectConfig = z.infer<typeof configSchema>;
/** One entry of `sources:` in `dataflow.yml`, validated (CSV or API). */
export type SourceConfig = ProjectConfig['sources'][string];
/** A validated CSV source (`type: csv`). */
export type CsvSourceConfig = z.infer<typeof csvSource>;
/** A validated REST API source (`type: api`). */
export type ApiSourceConfig = z.infer<typeof apiSource>;
