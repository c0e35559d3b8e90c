import { ATTEMPTS_DIR, attemptOfKey, parseAttemptRecord } from './attempt-record.js';
import { IngestError } from './errors.js';
import type { Interval } from './interval.js';
import { type Logger, silentLogger } from './logger.js';
import {
  MANIFEST_NAME,
  type PartitionManifest,
  partitionName,
  partitionPrefix,
  readManifest,
  SUCCESS_NAME,
} from './manifest.js';
import type { IncompleteWrite, ObjectStore } from './object-store.js';
import { LOCK_NAME } from './partition-lock.js';

/** Default age after which files no manifest lists count as a dead attempt's garbage. */
export const DEFAULT_GRACE_MS = 60 * 60 * 1000;

/** Options of {@link sweepPartition}. */
export interface SweepOptions {
  /** Files and uploads younger than this are left alone (a live attempt may own them). Default 1 h. */
  graceMs?: number;
  /** Attempts known to be alive (the caller's own), never swept whatever their age. */
  liveAttempts?: readonly string[];
  /** The committed manifest when the caller has it (saves a read). */
  manifest?: PartitionManifest;
  logger?: Logger;
  /** The window (`w=<id>`) of an incremental run; default the interval's `dt=<start>`. */
  partition?: string;
}

/** What a sweep removed. */
export interface SweepResult {
  /** Keys deleted. */
  deleted: string[];
  /** Incomplete writes aborted (S3 multipart uploads by UploadId, filesystem temp files). */
  aborted: IncompleteWrite[];
}

/** The keys a committed manifest needs, plus the partition's own control objects. */
function keptKeys(prefix: string, manifest: PartitionManifest | undefined): Set<string> {
  return new Set([
    prefix + MANIFEST_NAME,
    prefix + SUCCESS_NAME,
    prefix + LOCK_NAME,
    ...(manifest?.files.map((f) => f.key) ?? []),
    ...(manifest?.rejects ? [manifest.rejects.key] : []),
  ]);
}

/**
 * Collects what dead attempts left in a partition: data and rejects files no committed manifest
 * lists, attempt records, filesystem temp files and open S3 multipart uploads (aborted by the ids
 * their attempt recorded, and by listing). An attempt is dead when its record was not refreshed
 * for `graceMs` (or it has none); anything younger than `graceMs` is never touched, so a
 * concurrent ingest's files survive. Run by every commit; safe to run any time.
 *
 * @example
 * const { deleted, aborted } = await sweepPartition(store, 'orders', dailyInterval('2024-01-01'), { graceMs: 3_600_000 });
 */
export async function sweepPartition(
  store: ObjectStore,
  source: string,
  interval: Interval,
  options: SweepOptions = {},
): Promise<SweepResult> {
  const prefix = partitionPrefix(source, interval, options.partition);
  const cutoff = Date.now() - (options.graceMs ?? DEFAULT_GRACE_MS);
  const manifest =
    options.manifest ??
    (await readManifest(store, source, interval, options.partition).catch(ignoreBadManifest));
  const keep = keptKeys(prefix, manifest);
  const live = new Set(options.liveAttempts ?? []);
  const objects = [];
  for await (const o of store.list(prefix)) objects.push(o);
  for (const o of objects) {
    const attempt = o.key.startsWith(prefix + ATTEMPTS_DIR) ? attemptOfKey(o.key) : undefined;
    if (attempt !== undefined && o.lastModified.getTime() >= cutoff) live.add(attempt);
  }
  const recorded = await recordedUploads(store, objects, prefix, live);
  const dead = (key: string, time: Date): boolean => {
    const attempt = attemptOfKey(key);
    return time.getTime() < cutoff && !(attempt !== undefined && live.has(attempt));
  };
  const deleted = objects.filter((o) => !keep.has(o.key) && dead(o.key, o.lastModified)).map((o) => o.key);
  const aborted: IncompleteWrite[] = [];
  const seen = new Set<string>();
  const listed = store.listIncomplete ? store.listIncomplete(prefix) : [];
  for await (const write of mergeIncomplete(recorded, listed)) {
    if (seen.has(write.id) || !dead(write.key, write.started)) continue;
    seen.add(write.id);
    await store.abortIncomplete?.(write);
    aborted.push(write);
  }
  // Records last: a sweep that dies half-way still finds the uploads they name next time.
  const records = deleted.filter((k) => k.startsWith(prefix + ATTEMPTS_DIR));
  await store.delete(deleted.filter((k) => !k.startsWith(prefix + ATTEMPTS_DIR)));
  await store.delete(records);
  if (deleted.length + aborted.length > 0) {
    (options.logger ?? silentLogger).info(
      {
        source,
        partition: partitionName(interval, options.partition),
        deleted: deleted.length,
        aborted: aborted.length,
      },
      'ingest: swept dead attempts',
    );
  }
  return { deleted, aborted };
}

function ignoreBadManifest(error: unknown): undefined {
  // An unreadable manifest protects nothing; everything old is garbage then, but say nothing here.
  if (error instanceof IngestError && error.code === 'BAD_MANIFEST') return undefined;
  throw error;
}

/** Upload ids named by the records of dead attempts. */
async function recordedUploads(
  store: ObjectStore,
  objects: Array<{ key: string }>,
  prefix: string,
  live: ReadonlySet<string>,
): Promise<IncompleteWrite[]> {
  const out: IncompleteWrite[] = [];
  for (const { key } of objects) {
    const attempt = key.startsWith(prefix + ATTEMPTS_DIR) ? attemptOfKey(key) : undefined;
    if (attempt === undefined || live.has(attempt) || !store.abortIncomplete) continue;
    const record = parseAttemptRecord(await readText(store, key));
    for (const u of record?.uploads ?? []) out.push({ key: u.key, id: u.id, started: new Date(u.started) });
  }
  return out;
}

async function* mergeIncomplete(
  first: IncompleteWrite[],
  rest: AsyncIterable<IncompleteWrite> | IncompleteWrite[],
): AsyncGenerator<IncompleteWrite> {
  yield* first;
  yield* rest;
}

async function readText(store: ObjectStore, key: string): Promise<string> {
  try {
    let text = '';
    for await (const chunk of await store.get(key)) text += String(chunk);
    return text;
  } catch (error) {
    if (error instanceof IngestError && error.code === 'NOT_FOUND') return '';
    throw error;
  }
}
