export {
  type ByteTransform,
  COPY_CHUNK_BYTES,
  type CopyIntoOptions,
  chunkAtLeast,
  copyInto,
} from './copy-into.js';
export {
  isWarehouseError,
  type RowRef,
  WarehouseError,
  type WarehouseErrorCode,
  type WarehouseErrorContext,
} from './errors.js';
export { MAX_IDENTIFIER_BYTES, qualify, quoteIdent } from './identifiers.js';
export { ColumnTypeInferrer, type InferredType, inferColumnType } from './infer.js';
export type { Interval, LakeStore, Logger, PartitionManifest } from './lake.js';
export { type LoadPartitionOptions, type LoadResult, loadPartition } from './load-partition.js';
export { type LoadSeedOptions, loadSeed, type SeedResult } from './seed.js';
export {
  advisoryLockKey,
  buildCopySql,
  buildCreateTableSql,
  buildPublishStatements,
  type ColumnDef,
  type Disposition,
  METADATA_COLUMNS,
  type PublishPlan,
  type SqlStatement,
  type StagedFile,
} from './sql.js';
