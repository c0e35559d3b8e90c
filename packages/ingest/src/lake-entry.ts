// `@dataflow/ingest/lake`: the reading side of the lake, for processes that load what ingest
// wrote (`dataflow load`): object stores, manifests and partitions, column types, errors. It
// imports neither the CSV / API ingestion half nor zod, whose start-up every load would pay
// otherwise (issue 13). Everything here is also exported by the package entry.
export { COLUMN_TYPES, type ColumnType, isIsoDate, isValidValue, postgresType } from './column-types.js';
export { compareCursor, maxCursor, subtractLag } from './cursor-value.js';
export { IngestError, type IngestErrorCode, type IngestErrorContext, isIngestError } from './errors.js';
export { createFsStore, type FsStoreOptions } from './fs-store.js';
export { ColumnTypeInferrer, type InferredType, inferColumnType, temporalType } from './infer.js';
export { dailyInterval, type Interval, parseIsoDate, renderLocation } from './interval.js';
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
export type { IncompleteWrite, ObjectInfo, ObjectStore, PutOptions } from './object-store.js';
export { isPackageNotFound, S3_SDK_PACKAGES } from './optional-dependency.js';
export {
  createProgressCounter,
  type OnProgress,
  type ProgressCounter,
  type TransferProgress,
} from './progress.js';
export { redactUrl } from './redact.js';
export { createS3Client, createS3Store, type S3ClientOptions, type S3StoreOptions } from './s3-store.js';
export { windowPartition } from './window-partition.js';
