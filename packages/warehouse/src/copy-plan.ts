import { createGunzip } from 'node:zlib';
import { inSavepoint } from '@dataflow/pg';
import type pg from 'pg';
import { type ByteTransform, COPY_CHUNK_BYTES, withClient } from './copy-into.js';
import { type ExpectedFile, verifyFile } from './file-digest.js';
import type { LakeStore, Logger, PartitionManifest, ProgressCounter } from './lake.js';
import { ndjsonToCsv } from './records.js';
import { buildCopySql, STAGING_RECORD_COLUMN } from './sql.js';

/** What loading one part file needs to know about the load it belongs to. */
export interface FileLoadContext {
  pool: pg.Pool;
  store: LakeStore;
  manifest: PartitionManifest;
  /** Target table name, for errors. */
  table: string;
  /** The manifest columns, in manifest order. */
  columns: readonly string[];
  /** Qualified table collecting this load's rejected rows. */
  rejectsStaging: string;
  signal: AbortSignal;
  log: Logger;
  maxRejects: number;
  /** Rejected rows of the whole load so far (shared by files loading in parallel). */
  rejectedSoFar: { count: number };
  /** The load's progress (bytes of the first read of each file, rows of each file done). */
  progress?: ProgressCounter;
}

/** What became of one part file. */
export interface FileOutcome {
  file: string;
  loaded: number;
  rejected: number;
  firstRejectLine?: number;
}

/**
 * Where and how one part file is COPYed: the statements, the client (or a pool client of its
 * own per pass), whether each COPY runs under a savepoint, and whether a data error falls back
 * to isolating the bad rows.
 */
export interface FilePlan {
  /** COPY statement for the whole file. */
  wholeSql: string;
  /** Stages between the (decompressed) file bytes and COPY; built fresh per attempt. */
  transforms: () => Array<ByteTransform | NodeJS.ReadWriteStream>;
  /** COPY statement for bisection batches (no header). */
  batchSql: string;
  /** The client to use; otherwise each pass takes its own pool client. */
  client?: pg.ClientBase;
  /** Each COPY under a savepoint, so a failed one undoes only itself (shared transaction). */
  savepoint: boolean;
  /** On a data error, isolate the bad rows by bisection (else the error propagates). */
  bisect: boolean;
  /** `batchSql` takes each row's record number as its first column (staging tables). */
  recordColumn?: boolean;
}

/**
 * Plan for COPYing into `table` (a fresh partition or a legacy target) on `client`, inside the
 * caller's transaction. `freeze`: one pass, rows written frozen, no savepoint (FREEZE needs the
 * table created in the current subtransaction), a data error aborts the attempt.
 *
 * @example
 * loadFile(ctx, entry, directPlan(ctx, client, '"raw"."raw_orders_p20240101_7"', { freeze: true }));
 */
export function directPlan(
  ctx: Pick<FileLoadContext, 'columns' | 'manifest'>,
  client: pg.ClientBase,
  table: string,
  options: { freeze: boolean },
): FilePlan {
  const csv = ctx.manifest.format === 'csv';
  return {
    wholeSql: buildCopySql(table, ctx.columns, {
      format: 'csv',
      header: csv ? 'match' : false,
      ...(options.freeze ? { freeze: true } : {}),
    }),
    transforms: () => (csv ? [] : [ndjsonToCsv(ctx.columns)]),
    batchSql: buildCopySql(table, ctx.columns, { format: 'csv' }),
    client,
    savepoint: !options.freeze,
    bisect: !options.freeze,
  };
}

/**
 * Plan for one of several part files COPYed at once into `table`, a fresh partition committed
 * (empty) beforehand: each pass on a pool client of its own, each COPY its own transaction (a
 * failed one undoes only itself, so no savepoint), bad rows isolated by bisection. No FREEZE:
 * the table was not created in the COPYing transaction.
 *
 * @example
 * loadFile(ctx, entry, parallelPlan(ctx, '"raw"."raw_orders__df_stg_0123456789_ab12cd_new"'));
 */
export function parallelPlan(ctx: Pick<FileLoadContext, 'columns' | 'manifest'>, table: string): FilePlan {
  const csv = ctx.manifest.format === 'csv';
  return {
    wholeSql: buildCopySql(table, ctx.columns, { format: 'csv', header: csv ? 'match' : false }),
    transforms: () => (csv ? [] : [ndjsonToCsv(ctx.columns)]),
    batchSql: buildCopySql(table, ctx.columns, { format: 'csv' }),
    savepoint: false,
    bisect: true,
  };
}

/**
 * Plan for a file COPYed into its own UNLOGGED staging table on a pool client of its own, with
 * each row's record number (merge key errors name rows by it).
 *
 * @example
 * loadFile(ctx, entry, stagingPlan(ctx, '"raw"."_stg_orders_ab12_0"'));
 */
export function stagingPlan(ctx: Pick<FileLoadContext, 'columns' | 'manifest'>, staging: string): FilePlan {
  const csv = ctx.manifest.format === 'csv';
  return {
    wholeSql: buildCopySql(staging, ctx.columns, { format: 'csv', header: csv ? 'match' : false }),
    transforms: () => (csv ? [] : [ndjsonToCsv(ctx.columns)]),
    batchSql: buildCopySql(staging, [STAGING_RECORD_COLUMN, ...ctx.columns], { format: 'csv' }),
    savepoint: false,
    bisect: true,
    recordColumn: true,
  };
}

/** Output chunk size of the gunzip stage (see {@link storedStages}). */
export const GUNZIP_CHUNK_BYTES = 4 * COPY_CHUNK_BYTES;

/** The stages from stored bytes to CSV: digest check first (on stored bytes), then gunzip. */
export function storedStages(
  manifest: PartitionManifest,
  entry: ExpectedFile,
  table: string,
  countBytes?: (bytes: number) => void,
): NodeJS.ReadWriteStream[] {
  // Gunzip output in chunks of 4 COPY chunks: the chunker before COPY passes them through
  // instead of concatenating 16 KiB buffers, and each chunk is one round trip to zlib's thread:
  // 256 KiB took 0.36 s of CPU per 100 MB of CSV against 0.47 s for 64 KiB and 0.62 s for 16 KiB.
  const gunzip = manifest.compression === 'gzip' ? [createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES })] : [];
  return [verifyFile(entry, table, countBytes), ...gunzip];
}

/** Runs `fn` on the plan's client, or on a pool client of its own. */
export function onClient<T>(
  ctx: Pick<FileLoadContext, 'pool'>,
  plan: FilePlan,
  fn: (client: pg.ClientBase) => Promise<T>,
): Promise<T> {
  return plan.client ? fn(plan.client) : withClient(ctx.pool, fn);
}

/** Runs `fn` in a savepoint when the plan asks for one, undoing its effects on failure. */
export function maybeSavepoint<T>(client: pg.ClientBase, plan: FilePlan, fn: () => Promise<T>): Promise<T> {
  return plan.savepoint ? inSavepoint(client, 'wh_copy', fn) : fn();
}
