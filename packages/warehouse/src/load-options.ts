import { quoteIdent } from '@dataflow/pg';
import type pg from 'pg';
import { checkTypeName } from './column-types.js';
import { toWarehouseError, WarehouseError } from './errors.js';
import {
  type Interval,
  type LakeStore,
  type Logger,
  type OnProgress,
  type PartitionManifest,
  partitionOf,
} from './lake.js';
import { type Disposition, isMetadataColumn, RESERVED_STAGING_PREFIX } from './sql.js';

/** Options of {@link loadPartition}. */
export interface LoadPartitionOptions {
  store: LakeStore;
  source: string;
  interval: Interval;
  /**
   * The window partition (`w=<id>`) of an incremental run, loaded instead of the interval's
   * `dt=<start>`; its rows carry the interval's start as `_partition`. Only `append` and `merge`
   * (a window must never replace the windows before it).
   */
  partition?: string;
  /**
   * Runs inside the transaction that publishes the load's rows, last, on the client holding it:
   * what it writes commits exactly when the rows do (an incremental source's cursor state). Its
   * failure rolls the publish back.
   */
  onPublish?: (client: pg.ClientBase) => Promise<void>;
  /** Target table; default `raw_<source>`. */
  table?: string;
  schema?: string;
  /** Default `replace_partition`. */
  disposition?: Disposition;
  /** Required for `merge`. */
  primaryKey?: string[];
  /** Declared PostgreSQL types by column; undeclared columns are `text`. */
  columns?: Record<string, string>;
  /** New columns: `evolve` (default) adds them, `freeze` fails with SCHEMA_DRIFT. */
  schemaEvolution?: 'evolve' | 'freeze';
  /** Rejected rows tolerated before the load fails with TOO_MANY_REJECTS; default 0. */
  maxRejects?: number;
  /** Where rejected rows go: `<table>__rejects` (default) or an NDJSON file beside the partition. */
  rejects?: 'table' | 'file';
  /**
   * Only for tables created by dataflow 0.1 (per-row `_run_id` / `_source_file` columns), which
   * are loaded as before: `direct` (default) COPYs into the target inside the publish
   * transaction, `staging` COPYs into UNLOGGED staging tables in parallel first. Tables this
   * version creates ignore it: partition swaps are always direct, merge and append always stage.
   */
  mode?: 'direct' | 'staging';
  /**
   * Files COPYed at once, each on its own pool connection; default 3, bounded by the pool size - 1.
   * Swaps (replace_partition, replace) of several files also stay within `os.availableParallelism()`
   * unless this is set; `1` keeps them on one connection with `COPY … FREEZE`.
   */
  parallel?: number;
  runId: string;
  /** How long to wait for another load of the same partition, and for the swap's lock; default 10 minutes. */
  lockTimeoutMs?: number;
  /**
   * Longest wait for the table lock of one swap attempt (`lock_timeout`); default 1000 ms. A
   * swap that times out is rolled back to its savepoint and retried, so it never queues readers
   * behind a long query for longer than this.
   */
  swapLockTimeoutMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
  /**
   * Stored bytes read (of the manifest's total) and rows of the part files done (of the
   * manifest's), throttled.
   */
  onProgress?: OnProgress;
}

/** The options after validation, with defaults applied. */
export interface ResolvedLoad {
  table: string;
  /** `dt=<start>`, or the window partition `w=<id>`. */
  partition: string;
  /** The interval's start, the value of `_partition`. */
  partitionDate: string;
  disposition: Disposition;
  maxRejects: number;
  lockTimeoutMs: number;
  swapLockTimeoutMs: number;
  rejects: 'table' | 'file';
}

const DISPOSITIONS: readonly Disposition[] = ['append', 'replace', 'replace_partition', 'merge'];

/**
 * Validates names and options before any SQL runs.
 *
 * @example
 * resolveLoadOptions({ store, source: 'orders', interval, runId: 'r1' }).table; // 'raw_orders'
 */
export function resolveLoadOptions(options: LoadPartitionOptions): ResolvedLoad {
  try {
    return resolve(options);
  } catch (error) {
    // Identifier problems come from @dataflow/pg; callers match WarehouseError codes.
    throw toWarehouseError(error, 'INVALID_OPTIONS', 'validating the load options');
  }
}

function resolve(options: LoadPartitionOptions): ResolvedLoad {
  if (!options || typeof options.runId !== 'string' || options.runId.length === 0) {
    throw new WarehouseError('INVALID_OPTIONS', 'runId is required');
  }
  if (typeof options.source !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(options.source)) {
    throw new WarehouseError('INVALID_OPTIONS', 'source must be a plain lake source name');
  }
  const table = options.table ?? `raw_${options.source}`;
  quoteIdent(table);
  if (options.schema !== undefined) quoteIdent(options.schema);
  for (const [name, type] of Object.entries(options.columns ?? {})) {
    quoteIdent(name);
    checkTypeName(type, name);
  }
  const disposition = options.disposition ?? 'replace_partition';
  if (!DISPOSITIONS.includes(disposition)) {
    throw new WarehouseError('INVALID_OPTIONS', 'unknown disposition', { table });
  }
  if (disposition === 'merge' && (!options.primaryKey || options.primaryKey.length === 0)) {
    throw new WarehouseError('INVALID_OPTIONS', 'merge needs a primaryKey', { table });
  }
  options.primaryKey?.forEach(quoteIdent);
  const maxRejects = options.maxRejects ?? 0;
  if (!(maxRejects >= 0)) throw new WarehouseError('INVALID_OPTIONS', 'maxRejects must be >= 0', { table });
  if (options.parallel !== undefined && !(Number.isInteger(options.parallel) && options.parallel >= 1)) {
    throw new WarehouseError('INVALID_OPTIONS', 'parallel must be a positive integer', { table });
  }
  const swapLockTimeoutMs = options.swapLockTimeoutMs ?? 1000;
  if (!(Number.isInteger(swapLockTimeoutMs) && swapLockTimeoutMs >= 1)) {
    throw new WarehouseError('INVALID_OPTIONS', 'swapLockTimeoutMs must be a positive integer', { table });
  }
  const partition = partitionOf(options.interval, options.partition);
  if (options.partition !== undefined && disposition !== 'append' && disposition !== 'merge') {
    throw new WarehouseError(
      'INVALID_OPTIONS',
      `window partition ${options.partition} loads with append or merge, not ${disposition} (it would replace the windows before it)`,
      { table },
    );
  }
  return {
    table,
    partition,
    partitionDate: options.interval.start,
    disposition,
    maxRejects,
    lockTimeoutMs: options.lockTimeoutMs ?? 600_000,
    swapLockTimeoutMs,
    rejects: options.rejects ?? 'table',
  };
}

/**
 * Checks the manifest's columns against the options: unique, quotable, not a metadata name,
 * not in the staging tables' reserved prefix when the load stages, and holding the merge key.
 *
 * @example
 * checkManifest(manifest, ['id'], 'raw_orders', true);
 */
export function checkManifest(
  manifest: PartitionManifest,
  primaryKey: readonly string[],
  table: string,
  staged: boolean,
): void {
  if (manifest.columns.length === 0) {
    throw new WarehouseError('BAD_MANIFEST', 'manifest lists no columns', { table });
  }
  const seen = new Set<string>();
  for (const column of manifest.columns) {
    quoteIdent(column);
    if (isMetadataColumn(column)) {
      throw new WarehouseError(
        'BAD_MANIFEST',
        `column ${quoteIdent(column)} collides with a metadata column`,
        {
          table,
          column,
        },
      );
    }
    if (seen.has(column))
      throw new WarehouseError('BAD_MANIFEST', 'manifest repeats a column', { table, column });
    if (staged && column.startsWith(RESERVED_STAGING_PREFIX)) {
      throw new WarehouseError(
        'BAD_MANIFEST',
        `column ${quoteIdent(column)} uses the prefix ${RESERVED_STAGING_PREFIX} reserved for staging tables`,
        { table, column },
      );
    }
    seen.add(column);
  }
  for (const key of primaryKey) {
    if (!seen.has(key)) {
      throw new WarehouseError(
        'INVALID_OPTIONS',
        `primary key column ${quoteIdent(key)} is not in the partition`,
        {
          table,
          column: key,
        },
      );
    }
  }
}

/**
 * Fails BAD_MANIFEST when a part file the manifest lists is not in the lake, before anything is
 * locked or written (a concurrent ingest may have removed it).
 *
 * @example
 * await checkFilesExist(store, manifest, 'raw_orders');
 */
export async function checkFilesExist(
  store: LakeStore,
  manifest: PartitionManifest,
  table: string,
): Promise<void> {
  for (const file of manifest.files) {
    if (!(await store.exists(file.key))) {
      throw new WarehouseError(
        'BAD_MANIFEST',
        `${file.key} is listed in the manifest of ${manifest.source}/${manifest.partition} but missing from the lake`,
        { table, file: file.key },
      );
    }
  }
}
