import type { CsvIncrementalOptions, IncrementalOptions } from '@dataflow/ingest';
import { type CursorState, type ObjectStore, openLake, type PartitionManifest } from '@dataflow/ingest/lake';
import {
  isWarehouseError,
  type LoadPartitionOptions,
  type LoadResult,
  loadPartition,
} from '@dataflow/warehouse';
import { csvIngestOptions, lakeOptions, loadOptions } from '../config/library-options.js';
import type { SourceConfig } from '../config/schema.js';
import type { DayInterval } from '../interval.js';
import type { Session } from '../session.js';
import { warehouseLease } from './ingest-lease.js';
import { job } from './job.js';

/**
 * What a cursor run adds to an ingest (issue 16): the window it lands as, the stored state, the
 * source's cursor options (replaced by the day's bounds in a backfill), and the job's label.
 */
export interface CursorIngest {
  partition: string;
  label: string;
  cursorState?: CursorState;
  incremental: IncrementalOptions | CsvIncrementalOptions;
}

/** What a cursor run adds to a load: the window, the job's label, the state write in the publish. */
export interface CursorLoad {
  partition: string;
  label: string;
  interval: DayInterval;
  onPublish?: LoadPartitionOptions['onPublish'];
}

/** Opens the project's lake (closed with the session). */
export function openLakeStore(session: Session): ObjectStore {
  const { config, dir } = session.project;
  const { url, options } = lakeOptions(config, dir, session.invocation.env);
  const store = openLake(url, options);
  session.closers.push(() => store.close?.());
  return store;
}

/** Lands one source's partition in the lake (a cursor run's window when `cursor` is given). */
export async function ingestSource(
  session: Session,
  store: ObjectStore,
  name: string,
  source: SourceConfig,
  day: DayInterval,
  cursor?: CursorIngest,
): Promise<PartitionManifest> {
  const { signal } = session.invocation;
  const logger = session.logger.child({ step: 'ingest' });
  const { dir, config } = session.project;
  const lakeUrl = lakeOptions(config, dir, session.invocation.env).url;
  // Commits of one partition are serialised in the warehouse, whatever the object store supports.
  const lease = warehouseLease(session.pool, lakeUrl);
  const partition = cursor?.label ?? day.start;
  const tracker = session.reporter.sourceStarted('ingest', name, partition);
  const run = {
    interval: day,
    store,
    runId: session.runId,
    signal,
    logger,
    lease,
    ...(cursor
      ? {
          partition: cursor.partition,
          ...(cursor.cursorState ? { cursorState: cursor.cursorState } : {}),
        }
      : {}),
    onProgress: tracker.progress,
  };
  // Called only when lineage is on: @dataflow/lineage is imported then, not by every ingest.
  const lineage = async (manifest?: PartitionManifest) =>
    (await import('../lineage.js')).ingestJob({
      name,
      source,
      projectDir: dir,
      lakeUrl,
      ds: day.start,
      manifest,
    });
  return job(session, { step: 'ingest', target: name, partition, lineage, tracker }, async () => {
    // Ingestion itself (CSV / API, with zod) is imported here: `dataflow load` never needs it.
    const { ingestApi, ingestCsv } = await import('@dataflow/ingest');
    const manifest =
      source.type === 'csv'
        ? await ingestCsv({
            source: name,
            location: source.location,
            cwd: session.project.dir,
            options: csvIngestOptions(source, session.project.config),
            ...run,
            ...(cursor ? { incremental: cursor.incremental as CsvIncrementalOptions } : {}),
          })
        : await ingestApi({
            ...(await import('../config/api-options.js')).apiIngestOptions(name, source),
            ...run,
            ...(cursor ? { incremental: cursor.incremental as IncrementalOptions } : {}),
          });
    const rejected = manifest.rejects?.rows ?? 0;
    session.totals.rowsIn += manifest.rows + rejected;
    countedAtIngest(session).add(`${name}@${cursor?.partition ?? day.start}`);
    const count = { runId: session.runId, dataset: name, partition };
    await session.runLog.recordRowCount({ ...count, stage: 'ingested', rows: manifest.rows });
    if (rejected > 0) {
      session.totals.rowsRejected += rejected;
      await session.runLog.recordRowCount({ ...count, stage: 'rejected_at_ingest', rows: rejected });
    }
    tracker.finished({ status: 'ok', rows: manifest.rows, rejected });
    return {
      value: manifest,
      rowsIn: manifest.rows + rejected,
      rowsOut: manifest.rows,
      rowsRejected: rejected,
    };
  });
}

const ingestedBySession = new WeakMap<Session, Set<string>>();

/** The `source@day` partitions this session ingested (their rows in were counted there). */
function countedAtIngest(session: Session): Set<string> {
  let keys = ingestedBySession.get(session);
  if (!keys) {
    keys = new Set();
    ingestedBySession.set(session, keys);
  }
  return keys;
}

/**
 * Loads one committed partition into its raw table (a cursor run's window, advancing the state in
 * the publish, when `cursor` is given); `undefined` when nothing is committed (skip).
 */
export async function loadSource(
  session: Session,
  store: ObjectStore,
  name: string,
  source: SourceConfig,
  day: DayInterval,
  cursor?: CursorLoad,
): Promise<LoadResult | undefined> {
  const logger = session.logger.child({ step: 'load' });
  const { config, dir } = session.project;
  const options = loadOptions(name, source, config);
  const interval = cursor?.interval ?? day;
  const partition = cursor?.label ?? day.start;
  const lineage = async (result?: LoadResult) =>
    (await import('../lineage.js')).loadJob({
      name,
      lakeUrl: lakeOptions(config, dir, session.invocation.env).url,
      ds: interval.start,
      warehouseUrl: session.database.url,
      schema: options.schema ?? config.warehouse.schema,
      table: options.table ?? `raw_${name}`,
      result,
    });
  const tracker = session.reporter.sourceStarted('load', name, partition);
  const where = { step: 'load' as const, target: name, partition, lineage, tracker };
  return job<LoadResult | undefined>(session, where, async () => {
    let result: LoadResult;
    try {
      result = await loadPartition(session.pool, {
        ...options,
        store,
        interval,
        ...(cursor ? { partition: cursor.partition } : {}),
        ...(cursor?.onPublish ? { onPublish: cursor.onPublish } : {}),
        runId: session.runId,
        signal: session.invocation.signal,
        logger,
        onProgress: tracker.progress,
      });
    } catch (error) {
      if (!isWarehouseError(error, 'NOT_COMMITTED')) throw error;
      session.totals.skippedSources += 1;
      logger.warn({ partition }, `no committed partition for ${name} at ${partition}: skipped`);
      tracker.finished({ status: 'skip' });
      return { value: undefined, status: 'skipped' as const };
    }
    // rows in = loaded + rejected: a partition ingested in this run was counted in by its ingest.
    const ingestKey = `${name}@${cursor?.partition ?? day.start}`;
    if (!countedAtIngest(session).has(ingestKey)) session.totals.rowsIn += result.rowsIn;
    session.totals.rowsLoaded += result.rowsLoaded;
    session.totals.rowsRejected += result.rowsRejected;
    session.totals.ranSources += 1;
    const count = { runId: session.runId, dataset: name, partition };
    await session.runLog.recordRowCount({ ...count, stage: 'loaded', rows: result.rowsLoaded });
    if (result.rowsRejected > 0) {
      await session.runLog.recordRowCount({ ...count, stage: 'rejected', rows: result.rowsRejected });
    }
    tracker.finished({
      status: 'ok',
      rows: result.rowsLoaded,
      rejected: result.rowsRejected,
      table: result.table,
    });
    return {
      value: result,
      rowsIn: result.rowsIn,
      rowsOut: result.rowsLoaded,
      rowsRejected: result.rowsRejected,
    };
  });
}
