import type { CsvIncrementalOptions, IncrementalOptions } from '@dataflow/ingest';
import {
  type ObjectStore,
  type PartitionManifest,
  readManifest,
  windowPartition,
} from '@dataflow/ingest/lake';
import { inTransaction, withClient } from '@dataflow/pg';
import {
  acquireCursorLease,
  type CursorWriteOutcome,
  type LoadResult,
  readCursorState,
  writeCursorState,
} from '@dataflow/warehouse';
import { csvIncremental } from '../config/library-options.js';
import type { SourceConfig } from '../config/schema.js';
import { CliError } from '../errors.js';
import type { DayInterval } from '../interval.js';
import type { Session } from '../session.js';
import type { CursorRun } from '../summary.js';
import {
  backfillBounds,
  backfillPartition,
  committedWindows,
  isBackfillDay,
  pendingWindows,
  WINDOW_NAME,
  type WindowCandidate,
} from './cursor-windows.js';
import { job } from './job.js';
import { ingestSource, loadSource } from './source-steps.js';

// Issue 16's run flow for a source with `incremental:`. Ingest: lease → read the state → land a
// new window from it. Load: lease → read the state → publish every pending window in order, each
// advancing the state in its publish transaction. A backfill day reads and loads its own interval
// and never touches the state. Ingest and load may run in separate processes (Airflow's tasks).

/** The source's cursor options, or undefined when it has none. */
async function incrementalOf(
  name: string,
  source: SourceConfig,
): Promise<IncrementalOptions | CsvIncrementalOptions | undefined> {
  if (source.type === 'csv') return csvIncremental(source);
  const { apiIngestOptions } = await import('../config/api-options.js');
  return apiIngestOptions(name, source).incremental;
}

/**
 * Whether the source reads by cursor (it has `incremental:`).
 *
 * @example
 * if (isCursorSource(source)) await ingestCursorSource(session, store, name, source, day);
 */
export function isCursorSource(source: SourceConfig): boolean {
  return source.incremental !== undefined;
}

const today = () => new Date().toISOString().slice(0, 10);

/** The cursor lease of a source: waited for as long as the warehouse's `lock_timeout` allows. */
function leaseOptions(session: Session, source: string) {
  const { schema, lock_timeout: lockTimeout } = session.project.config.warehouse;
  return {
    schema,
    source,
    signal: session.invocation.signal,
    ...(lockTimeout ? { timeoutMs: lockTimeout } : {}),
  };
}

const rangeLabel = (partition: string, m?: PartitionManifest['cursor']) =>
  m ? `${partition} ${m.path} ${m.from}..${m.to}` : partition;

/** Lands a window: from the stored state, or the day's interval in a backfill. */
export async function ingestCursorSource(
  session: Session,
  store: ObjectStore,
  name: string,
  source: SourceConfig,
  day: DayInterval,
): Promise<PartitionManifest> {
  const incremental = await incrementalOf(name, source);
  if (!incremental) throw new Error(`source ${name} has no incremental options`);
  if (isBackfillDay(day, incremental.initialValue, today())) {
    const partition = backfillPartition(day);
    return ingestSource(session, store, name, source, day, {
      partition,
      label: partition,
      incremental: { ...incremental, ...backfillBounds(day, incremental.initialValue) },
    });
  }
  const lease = await acquireCursorLease(session.pool, leaseOptions(session, name));
  try {
    const state = await readCursorState(session.pool, leaseOptions(session, name));
    const partition = windowPartition();
    const manifest = await ingestSource(session, store, name, source, day, {
      partition,
      label: partition,
      incremental,
      ...(state ? { cursorState: { lastValue: state.lastValue, boundaryKeys: state.boundaryKeys } } : {}),
    });
    return manifest;
  } finally {
    await lease.release();
  }
}

/**
 * The committed cursor windows of a source newer than `after` (the last published one), with their
 * cursor ranges: only their manifests are read.
 */
async function lakeWindows(
  store: ObjectStore,
  name: string,
  day: DayInterval,
  after: string | undefined,
): Promise<WindowCandidate[]> {
  const keys: string[] = [];
  for await (const object of store.list(`${name}/w=`)) keys.push(object.key);
  const out: WindowCandidate[] = [];
  const newer = committedWindows(name, keys).filter(
    (p) => WINDOW_NAME.test(p) && (after === undefined || p > after),
  );
  for (const partition of newer) {
    const manifest = await readManifest(store, name, day, partition);
    if (manifest) out.push({ partition, cursor: manifest.cursor });
  }
  return out;
}

/** The window's manifest (its interval is the rows' `_partition`); undefined when not committed. */
function manifestOf(store: ObjectStore, name: string, day: DayInterval, partition: string) {
  return readManifest(store, name, day, partition);
}

/**
 * Publishes the source's pending windows in order, each advancing the state atomically with its
 * rows; in a backfill, the day's own window without touching the state. Resolves the loads done
 * (empty: nothing was pending, the source counts as skipped).
 */
export async function loadCursorSource(
  session: Session,
  store: ObjectStore,
  name: string,
  source: SourceConfig,
  day: DayInterval,
): Promise<LoadResult[]> {
  const incremental = await incrementalOf(name, source);
  if (!incremental) throw new Error(`source ${name} has no incremental options`);
  if (isBackfillDay(day, incremental.initialValue, today())) {
    const partition = backfillPartition(day);
    const manifest = await manifestOf(store, name, day, partition);
    if (manifest && isEmptyWindow(manifest)) {
      await publishEmptyWindow(session, name, partition, manifest, undefined);
      return [];
    }
    const result = await loadSource(session, store, name, source, day, {
      partition,
      label: rangeLabel(partition, manifest?.cursor),
      interval: manifest?.interval ?? day,
    });
    if (result && manifest?.cursor) recordCursor(session, name, partition, manifest.cursor, 'backfill');
    return result ? [result] : [];
  }
  const key = leaseOptions(session, name);
  const lease = await acquireCursorLease(session.pool, key);
  try {
    const state = await readCursorState(session.pool, key);
    const windows = await lakeWindows(store, name, day, state?.partition);
    const { load, superseded } = pendingWindows(windows, state?.partition);
    if (superseded.length > 0) {
      session.logger.info(
        { source: name, superseded: superseded.map((w) => w.partition) },
        'windows read from an older state are superseded by a later window: not loaded',
      );
    }
    const results: LoadResult[] = [];
    for (const window of load) {
      const result = await loadWindow(session, store, name, source, day, window);
      if (result) results.push(result);
    }
    if (load.length === 0) {
      session.totals.skippedSources += 1;
      session.logger.info({ source: name }, `no pending window for ${name}: skipped`);
    }
    return results;
  } finally {
    await lease.release();
  }
}

async function loadWindow(
  session: Session,
  store: ObjectStore,
  name: string,
  source: SourceConfig,
  day: DayInterval,
  window: WindowCandidate,
): Promise<LoadResult | undefined> {
  const manifest = await manifestOf(store, name, day, window.partition);
  const cursor = manifest?.cursor;
  if (!manifest || !cursor) {
    throw new CliError(
      'CONFIG_INVALID',
      `window ${name}/${window.partition} has no cursor range in its manifest: not written by a cursor run`,
    );
  }
  const advance = {
    schema: session.project.config.warehouse.schema,
    source: name,
    cursorPath: cursor.path,
    state: { lastValue: cursor.to, boundaryKeys: cursor.boundaryKeys },
    runId: session.runId,
    partition: window.partition,
  };
  if (isEmptyWindow(manifest)) {
    await publishEmptyWindow(session, name, window.partition, manifest, advance);
    return undefined;
  }
  let outcome: CursorWriteOutcome | undefined;
  const result = await loadSource(session, store, name, source, day, {
    partition: window.partition,
    label: rangeLabel(window.partition, cursor),
    interval: manifest.interval,
    onPublish: async (client) => {
      outcome = await writeCursorState(client, advance);
    },
  });
  if (result && outcome) recordCursor(session, name, window.partition, cursor, outcome);
  return result;
}

/** A window that read no record (nothing new, or only boundary duplicates): no columns, no rows. */
const isEmptyWindow = (m: PartitionManifest) => m.rows === 0 && m.columns.length === 0;

/**
 * An empty window has nothing to load (and no columns to type a table with), but it was read:
 * its state write (the marker of the last published window, boundary keys of an equal value)
 * commits on its own. A backfill's empty window only records its range.
 */
async function publishEmptyWindow(
  session: Session,
  name: string,
  partition: string,
  manifest: PartitionManifest,
  advance: Parameters<typeof writeCursorState>[1] | undefined,
): Promise<void> {
  const cursor = manifest.cursor;
  const where = { step: 'load' as const, target: name, partition: rangeLabel(partition, cursor) };
  await job(session, where, async () => {
    const outcome = advance
      ? await withClient(session.pool, (client) =>
          inTransaction(client, () => writeCursorState(client, advance)),
        )
      : 'backfill';
    session.totals.ranSources += 1;
    if (cursor) recordCursor(session, name, partition, cursor, outcome);
    return { value: undefined, rowsIn: 0, rowsOut: 0, rowsRejected: 0 };
  });
}

function recordCursor(
  session: Session,
  source: string,
  partition: string,
  cursor: NonNullable<PartitionManifest['cursor']>,
  state: CursorRun['state'],
): void {
  session.totals.cursors.push({
    source,
    partition,
    path: cursor.path,
    from: cursor.from,
    to: cursor.to,
    duplicates_dropped: cursor.duplicatesDropped,
    state,
  });
}
