export {
  type ApiAuthYaml,
  type ApiSourceYaml,
  apiAuthSchema,
  apiIncrementalSchema,
  apiNestedSchema,
  apiPaginateSchema,
  apiSourceOptions,
  apiSourceSchema,
  apiSourceShape,
} from './api-source-schema.js';
export { type CsvField, csvLine, QUOTED_EMPTY } from './csv-format.js';
export type { CsvIncrementalOptions } from './csv-incremental.js';
export { boundaryKey, CursorWindow, type CursorWindowOptions, windowStart } from './cursor-window.js';
export { FLATTEN_SEPARATOR, flattenRecord, type NestedMode } from './flatten.js';
export {
  type ApiAuth,
  type ApiPaginate,
  type ApiRequest,
  type ApiSourceOptions,
  type IncrementalOptions,
  type IngestApiOptions,
  ingestApi,
} from './ingest-api.js';
export { type CsvIngestOptions, type IngestCsvOptions, ingestCsv } from './ingest-csv.js';
export { type CompiledPath, compilePath, readPath, selectRecords } from './json-path.js';
// Everything `@dataflow/ingest/lake` exports: the reading side of the lake (see lake-entry.ts).
export * from './lake-entry.js';
export type { OAuth2ClientCredentials } from './oauth2.js';
export { getPath, nextPage, type PageState, type Paginator, parsePaginate } from './pagination.js';
export {
  type PartitionLease,
  type ReleaseLease,
  type StoreLeaseOptions,
  storeLease,
} from './partition-lock.js';
export { declaredRecordType, RecordSchemaInferrer, valueType, widenType } from './record-schema.js';
export { parseRetryAfter, type RetryOptions, retryDelay, retryPolicy } from './retry.js';
export { DEFAULT_GRACE_MS, type SweepOptions, type SweepResult, sweepPartition } from './sweep.js';
