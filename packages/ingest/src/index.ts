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
export { COLUMN_TYPES, type ColumnType, isIsoDate, isValidValue, postgresType } from './column-types.js';
export { type CsvField, csvLine, QUOTED_EMPTY } from './csv-format.js';
export type { CsvIncrementalOptions } from './csv-incremental.js';
export { compareCursor, maxCursor, subtractLag } from './cursor-value.js';
export { boundaryKey, CursorWindow, type CursorWindowOptions, windowStart } from './cursor-window.js';
export { IngestError, type IngestErrorCode, type IngestErrorContext, isIngestError } from './errors.js';
export { FLATTEN_SEPARATOR, flattenRecord, type NestedMode } from './flatten.js';
export { createFsStore, type FsStoreOptions } from './fs-store.js';
export { ColumnTypeInferrer, type InferredType, inferColumnType, temporalType } from './infer.js';
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
export { dailyInterval, type Interval, parseIsoDate, renderLocation } from './interval.js';
export { type CompiledPath, compilePath, readPath, selectRecords } from './json-path.js';
export { type OpenLakeOptions, openLake } from './lake.js';
export { type Logger, silentLogger } from './logger.js';
export {
  type ColumnSchema,
  type CursorRange,
  type CursorState,
  type CursorValue,
  listPartitions,
  type ManifestFile,
  type PartitionManifest,
  parseManifest,
  partitionName,
  partitionPrefix,
  type RecordColumnType,
  readManifest,
} from './manifest.js';
export type { OAuth2ClientCredentials } from './oauth2.js';
export type { IncompleteWrite, ObjectInfo, ObjectStore, PutOptions } from './object-store.js';
export { getPath, nextPage, type PageState, type Paginator, parsePaginate } from './pagination.js';
export {
  type PartitionLease,
  type ReleaseLease,
  type StoreLeaseOptions,
  storeLease,
} from './partition-lock.js';
export { declaredRecordType, RecordSchemaInferrer, valueType, widenType } from './record-schema.js';
export { redactUrl } from './redact.js';
export { parseRetryAfter, type RetryOptions, retryDelay, retryPolicy } from './retry.js';
export { createS3Client, createS3Store, type S3ClientOptions, type S3StoreOptions } from './s3-store.js';
export { DEFAULT_GRACE_MS, type SweepOptions, type SweepResult, sweepPartition } from './sweep.js';
export { windowPartition } from './window-partition.js';
