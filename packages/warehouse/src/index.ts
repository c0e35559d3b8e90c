// Identifier quoting is @dataflow/pg's; re-exported so existing imports keep working.
export { MAX_IDENTIFIER_BYTES, qualify, quoteIdent } from '@dataflow/pg';
export {
  type ByteTransform,
  COPY_CHUNK_BYTES,
  type CopyIntoOptions,
  chunkAtLeast,
  copyInto,
} from './copy-into.js';
export { acquireCursorLease, type CursorLease, type CursorLeaseOptions } from './cursor-lease.js';
export {
  type CursorStateKey,
  type CursorStateWrite,
  type CursorWriteOutcome,
  ensureStateTable,
  type Queryable,
  readCursorState,
  resetCursorState,
  STATE_TABLE,
  type StoredCursorState,
  setCursorState,
  writeCursorState,
} from './cursor-state.js';
export {
  isWarehouseError,
  type RowRef,
  WarehouseError,
  type WarehouseErrorCode,
  type WarehouseErrorContext,
} from './errors.js';
export { ColumnTypeInferrer, type InferredType, inferColumnType } from './infer.js';
export type { Interval, LakeStore, Logger, PartitionManifest } from './lake.js';
export { type LoadPartitionOptions, type LoadResult, loadPartition } from './load-partition.js';
export { pgTypeOf, widenedType } from './record-types.js';
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
