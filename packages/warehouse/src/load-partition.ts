import { performance } from 'node:perf_hooks';
import { qualify } from '@dataflow/pg';
import type pg from 'pg';
import { throwIfAborted } from './abort.js';
import { copyErrorLine, withClient } from './copy-into.js';
import { toWarehouseError, WarehouseError } from './errors.js';
import {
  createProgressCounter,
  type PartitionManifest,
  readPartitionManifest,
  silentLogger,
} from './lake.js';
import {
  checkFilesExist,
  checkManifest,
  type LoadPartitionOptions,
  type ResolvedLoad,
  resolveLoadOptions,
} from './load-options.js';
import { checkSourceOwnership, reserveLoad } from './load-registry.js';
import { acquirePartitionLock } from './partition-lock.js';
import { RowFormatError } from './records.js';
import { rejectsFileKey } from './rejects.js';
import { dropRetiredPartitions, sweepRetiredPartitions } from './retired-partitions.js';
import { advisoryLockKey, type Disposition, derivedName } from './sql.js';
import { legacyDirect } from './strategies/legacy-direct.js';
import type { LoadOutcome, LoadRun } from './strategies/load-run.js';
import { stageAndPublish } from './strategies/stage-and-publish.js';
import { swapPartition } from './strategies/swap-partition.js';
import { prepareTarget, resolveSchema, type TableLayout } from './target-table.js';

export type { LoadPartitionOptions } from './load-options.js';

/** What a load did. Always `rowsIn === rowsLoaded + rowsRejected`. */
export interface LoadResult {
  /** `schema.table` of the target. */
  table: string;
  partition: string;
  disposition: Disposition;
  files: number;
  rowsIn: number;
  rowsLoaded: number;
  rowsRejected: number;
  rejectsTable?: string;
  rejectsFile?: string;
  durationMs: number;
  /** The load's row in `<schema>._dataflow_loads` (absent for tables created by dataflow 0.1). */
  loadId?: number;
  /** How the target stores rows: `partitioned` (swapped partitions), `plain` (merge), `legacy` (0.1 tables). */
  layout?: TableLayout;
}

/** Named load strategies, by table layout and disposition. */
export type StrategyName = 'swap-partition' | 'stage-and-publish' | 'legacy-direct';

/**
 * The strategy a load takes: partitioned tables swap a fresh partition in for `replace` and
 * `replace_partition`; merge and append stage the files and insert them; tables from dataflow
 * 0.1 load as they did.
 *
 * @example
 * chooseStrategy('partitioned', 'replace_partition', undefined); // 'swap-partition'
 */
export function chooseStrategy(
  layout: TableLayout,
  disposition: Disposition,
  mode: 'direct' | 'staging' | undefined,
): StrategyName {
  if (layout === 'legacy') {
    return disposition === 'merge' || mode === 'staging' ? 'stage-and-publish' : 'legacy-direct';
  }
  if (layout === 'partitioned' && (disposition === 'replace' || disposition === 'replace_partition')) {
    return 'swap-partition';
  }
  return 'stage-and-publish';
}

/** Whether a load of this disposition may stage files on connections of its own. */
function mayStage(options: LoadPartitionOptions, disposition: Disposition): boolean {
  return disposition === 'merge' || disposition === 'append' || options.mode === 'staging';
}

async function runStrategy(run: LoadRun, mode: LoadPartitionOptions['mode']): Promise<LoadOutcome> {
  const strategy = chooseStrategy(run.target.layout, run.resolved.disposition, mode);
  run.log.info(
    { table: run.target.qualified, partition: run.resolved.partition, strategy },
    'loading partition',
  );
  if (strategy === 'legacy-direct') return legacyDirect(run);
  if (run.target.layout === 'legacy') return stageAndPublish(run, undefined);
  await checkSourceOwnership(
    run.client,
    run.target.schema,
    run.target.table,
    run.source,
    run.resolved.disposition,
  );
  // A load killed between its swap's commit and its drop of the old day left it behind.
  await sweepRetiredPartitions(run.client, run.target.schema, run.resolved.swapLockTimeoutMs, run.log);
  const stamp = await reserveLoad(run.client, run.target.schema, run.resolved.partitionDate);
  return strategy === 'swap-partition' ? swapPartition(run, stamp) : stageAndPublish(run, stamp);
}

function resultOf(run: LoadRun, outcome: LoadOutcome, started: number): LoadResult {
  const { resolved, target } = run;
  const rowsLoaded = outcome.outcomes.reduce((n, o) => n + o.loaded, 0);
  const rowsRejected = outcome.outcomes.reduce((n, o) => n + o.rejected, 0);
  const toFile = resolved.rejects === 'file';
  return {
    table: `${target.schema}.${target.table}`,
    partition: resolved.partition,
    disposition: resolved.disposition,
    files: run.manifest.files.length,
    rowsIn: rowsLoaded + rowsRejected,
    rowsLoaded,
    rowsRejected,
    ...(rowsRejected > 0 && !toFile
      ? { rejectsTable: `${target.schema}.${derivedName(target.table, '__rejects')}` }
      : {}),
    ...(rowsRejected > 0 && toFile
      ? { rejectsFile: rejectsFileKey(run.source, resolved.partition, run.runId) }
      : {}),
    durationMs: Math.round(performance.now() - started),
    ...(outcome.loadId !== undefined ? { loadId: outcome.loadId } : {}),
    layout: target.layout,
  };
}

/** The progress counter of a load: totals from the manifest. */
function loadProgress(options: LoadPartitionOptions, manifest: PartitionManifest) {
  return createProgressCounter(options.onProgress, {
    totalBytes: manifest.files.reduce((n, f) => n + f.bytes, 0),
    totalRows: manifest.files.reduce((n, f) => n + f.rows, 0),
  });
}

/** Under the partition lock on `client`: target, strategy, result. */
async function loadLocked(
  pool: pg.Pool,
  client: pg.ClientBase,
  options: LoadPartitionOptions,
  resolved: ResolvedLoad,
  manifest: PartitionManifest,
  started: number,
): Promise<LoadResult> {
  const log = options.logger ?? silentLogger;
  const schema = await resolveSchema(client, options.schema, resolved.table);
  const qualified = qualify(schema, resolved.table);
  const lockKey = advisoryLockKey(qualified, resolved.disposition === 'replace' ? '*' : resolved.partition);
  const lock = await acquirePartitionLock(
    client,
    lockKey,
    resolved.lockTimeoutMs,
    options.signal,
    `${schema}.${resolved.table}`,
  );
  log.info(
    { table: `${schema}.${resolved.table}`, partition: resolved.partition, runId: options.runId },
    'partition lock acquired',
  );
  try {
    const target = await prepareTarget(
      client,
      {
        schema,
        table: resolved.table,
        createSchema: options.schema !== undefined,
        disposition: resolved.disposition,
        ...(options.primaryKey ? { primaryKey: options.primaryKey } : {}),
        declared: options.columns ?? {},
        schemaEvolution: options.schemaEvolution ?? 'evolve',
      },
      manifest,
      log,
    );
    const poolMax = pool.options?.max ?? 10;
    const run: LoadRun = {
      pool,
      client,
      store: options.store,
      source: options.source,
      runId: options.runId,
      primaryKey: options.primaryKey ?? [],
      resolved,
      target,
      manifest,
      parallel: Math.max(1, Math.min(options.parallel ?? 3, poolMax - 1)),
      parallelExplicit: options.parallel !== undefined,
      onPublish: options.onPublish,
      signal: options.signal,
      log,
      ...(options.onProgress ? { progress: loadProgress(options, manifest) } : {}),
    };
    const outcome = await runStrategy(run, options.mode);
    const result = resultOf(run, outcome, started);
    run.progress?.flush();
    log.info({ ...result }, 'partition published');
    await lock.release();
    // After the commit and the lock: the old day's files are unlinked while readers and the
    // next load of this partition already go ahead.
    await dropRetiredPartitions(client, outcome.retired ?? [], resolved.swapLockTimeoutMs, log);
    return result;
  } catch (error) {
    // A broken lock connection already released the lock with its session.
    await lock.release().catch(() => undefined);
    throw error;
  }
}

/**
 * Loads one committed lake partition into `raw_<source>` by COPY. Tables it creates are
 * LIST-partitioned by day (`_partition`), except for `merge`: `replace_partition` and `replace`
 * COPY (with FREEZE) into a fresh table and swap it in (DETACH / ATTACH in one short
 * transaction bounded by `lock_timeout`), so a re-load leaves no dead rows and costs the same
 * on day 365 as on day 1; `append` and `merge` stage the files in parallel and insert them in
 * one transaction. Every row carries `_load_id` (a row of `<schema>._dataflow_loads` with run
 * id, source and files), `_partition` and `_loaded_at`, all constants of the load. Part files
 * are streamed once, verified against the manifest's sha256 and size on the way, and must all
 * exist before anything starts. Bad rows are isolated by bisection and recorded with their
 * line; beyond `maxRejects` the load fails with TOO_MANY_REJECTS and publishes nothing. Loads
 * of the same (table, partition) serialize on an advisory lock.
 *
 * The pool's owner must handle `pool.on('error', …)`: idle clients can lose their connection.
 * Merge and append need a pool of at least 2 connections; replace and replace_partition use one.
 *
 * @example
 * const store = openLake('file:///data/lake');
 * const result = await loadPartition(pool, {
 *   store, source: 'orders', interval: { start: '2024-01-01', end: '2024-01-02' },
 *   runId: 'run-42', columns: { id: 'integer', amount: 'numeric(12,2)' },
 * });
 * // result.rowsIn === result.rowsLoaded + result.rowsRejected
 */
export async function loadPartition(pool: pg.Pool, options: LoadPartitionOptions): Promise<LoadResult> {
  const started = performance.now();
  const resolved = resolveLoadOptions(options);
  const { table, partition } = resolved;
  throwIfAborted(options.signal, `loading ${table}`);
  const manifest = await readPartitionManifest(
    options.store,
    options.source,
    options.interval,
    options.partition,
  );
  if (!manifest) {
    throw new WarehouseError(
      'NOT_COMMITTED',
      `partition ${options.source}/${partition} has no committed manifest`,
      {
        table,
      },
    );
  }
  const staged = mayStage(options, resolved.disposition);
  checkManifest(manifest, options.primaryKey ?? [], table, staged);
  if (staged && (pool.options?.max ?? 10) < 2) {
    // One connection holds the lock while the files need others: it would wait forever.
    throw new WarehouseError(
      'INVALID_OPTIONS',
      'staging mode (merge, append) needs a pool of at least 2 connections',
      {
        table,
      },
    );
  }
  try {
    await checkFilesExist(options.store, manifest, table);
    return await withClient(pool, (client) => loadLocked(pool, client, options, resolved, manifest, started));
  } catch (error) {
    if (error instanceof RowFormatError) {
      throw new WarehouseError('BAD_FILE', error.message, { table, line: error.line, cause: error });
    }
    const line = copyErrorLine(error);
    throw toWarehouseError(error, 'COPY_FAILED', `loading ${options.source}/${partition} into ${table}`, {
      table,
      ...(line !== undefined ? { line } : {}),
    });
  }
}
