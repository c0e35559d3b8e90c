import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { pipeline, type Readable, Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import { AttemptHeartbeat, attemptRecordKey } from './attempt-record.js';
import { abortError, IngestError } from './errors.js';
import type { Interval } from './interval.js';
import type { Logger } from './logger.js';
import {
  type ColumnSchema,
  type CursorRange,
  MANIFEST_NAME,
  type ManifestFile,
  type PartitionManifest,
  partitionName,
  partitionPrefix,
  partKey,
  readManifest,
  SUCCESS_NAME,
} from './manifest.js';
import type { ObjectStore } from './object-store.js';
import type { PartitionLease } from './partition-lock.js';
import { DEFAULT_GRACE_MS, sweepPartition } from './sweep.js';

export const DEFAULT_GZIP_LEVEL = 1;

/** A short unique attempt id (8 hex chars) used in data file names. */
export function newAttemptId(): string {
  return randomBytes(4).toString('hex');
}

/** Options shared by the writers of one partition attempt. */
export interface PartitionAttemptOptions {
  store: ObjectStore;
  source: string;
  interval: Interval;
  format: 'csv' | 'ndjson';
  gzip: boolean;
  gzipLevel?: number;
  runId?: string;
  signal?: AbortSignal;
  logger: Logger;
  /** Serialises commits of one partition (store lock or a caller's lease). */
  lease: PartitionLease;
  /** Files of other attempts younger than this are never deleted by a commit. */
  graceMs?: number;
  /** The window (`w=<id>`) of an incremental run; default the interval's `dt=<start>`. */
  partition?: string;
}

/** What a source adds to the manifest once its parts are written. */
export interface CommitFields {
  columns: string[];
  rejects?: { key: string; rows: number };
  schema?: ColumnSchema[];
  cursor?: CursorRange;
}

/**
 * One attempt at (re)writing a partition: data files get attempt-unique names and a record under
 * `_attempts/` says the attempt is alive; `commit()` writes the manifest (the commit point) and
 * `_SUCCESS` under the partition lease, then removes the files of the manifest it replaced and
 * sweeps dead attempts' garbage older than the grace period; `discard()` removes what this
 * attempt wrote.
 */
export class PartitionAttempt {
  readonly attempt = newAttemptId();
  readonly runId: string;
  readonly prefix: string;
  private readonly written: string[] = [];
  private readonly files: ManifestFile[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly heartbeat: AttemptHeartbeat;
  private nextIndex = 0;
  private committed = false;

  constructor(private readonly options: PartitionAttemptOptions) {
    this.prefix = partitionPrefix(options.source, options.interval, options.partition);
    this.runId = options.runId ?? randomUUID();
    const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.heartbeat = new AttemptHeartbeat(
      options.store,
      attemptRecordKey(this.prefix, this.attempt),
      { attempt: this.attempt, runId: this.runId },
      Math.max(1000, Math.min(60_000, Math.floor(graceMs / 4))),
      options.logger,
    );
  }

  private checkAborted(): void {
    const { signal, source } = this.options;
    if (signal?.aborted) throw abortError(signal, { source });
  }

  /** Writes the attempt record, before any data file. */
  async begin(): Promise<void> {
    this.checkAborted();
    await this.heartbeat.start();
  }

  /**
   * Streams one data file: `body` → optional gzip → sha256/byte count → store.put.
   * `rows()` is read after the body ended, so the producer can count while it yields.
   */
  async writePart(body: Readable, rows: () => number): Promise<ManifestFile> {
    this.checkAborted();
    const { store, format, gzip, signal } = this.options;
    const index = this.nextIndex++;
    const key = partKey(this.prefix, index, this.attempt, gzip ? `${format}.gz` : format);
    const hash = createHash('sha256');
    let bytes = 0;
    const hasher = new Transform({
      readableHighWaterMark: 1 << 20,
      writableHighWaterMark: 1 << 20,
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    // Level 1 by default: ~3× less CPU than zlib's default 6 for ~20% larger CSV parts,
    // which keeps gzip from being the bottleneck of an ingest (see bench/ingest).
    const level = this.options.gzipLevel ?? DEFAULT_GZIP_LEVEL;
    const stages = gzip ? [createGzip({ level, chunkSize: 256 * 1024 })] : [];
    // Callback pipeline: any stage failing destroys all of them, so store.put sees a failing
    // body and aborts (S3 multipart) or removes its temp file (fs).
    const out = pipeline([body, ...stages, hasher], () => undefined) as unknown as Readable;
    this.written.push(key);
    const put = store.put(key, out, {
      contentType: format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      onIncomplete: (write) => this.heartbeat.addUpload(write),
      ...(signal ? { signal } : {}),
    });
    this.inflight.add(put);
    try {
      await put;
    } finally {
      this.inflight.delete(put);
    }
    const file: ManifestFile = { key, rows: rows(), bytes, sha256: hash.digest('hex') };
    this.files[index] = file;
    this.options.logger.debug(
      { source: this.options.source, key, rows: file.rows, bytes },
      'ingest: part written',
    );
    return file;
  }

  /** Writes a small object of this attempt (e.g. the rejects file) and tracks it for cleanup. */
  async writeSmall(name: string, body: string): Promise<string> {
    this.checkAborted();
    const key = `${this.prefix}${name}`;
    this.written.push(key);
    await this.options.store.putBytes(key, body, { contentType: 'text/csv' });
    return key;
  }

  /** The manifest this attempt commits. */
  private manifest(fields: CommitFields): PartitionManifest {
    const { source, interval, format, gzip } = this.options;
    return {
      version: 1,
      source,
      partition: partitionName(interval, this.options.partition),
      interval: { start: interval.start, end: interval.end },
      runId: this.runId,
      attempt: this.attempt,
      createdAt: new Date().toISOString(),
      format,
      compression: gzip ? 'gzip' : 'none',
      columns: fields.columns,
      files: this.files,
      rows: this.files.reduce((n, f) => n + f.rows, 0),
      bytes: this.files.reduce((n, f) => n + f.bytes, 0),
      ...(fields.rejects ? { rejects: fields.rejects } : {}),
      ...(fields.schema ? { schema: fields.schema } : {}),
      ...(fields.cursor ? { cursor: fields.cursor } : {}),
    };
  }

  /**
   * Commits under the partition lease: manifest (the commit point), `_SUCCESS`, then removal of
   * the files of the manifest it replaced and a sweep of garbage older than the grace period.
   * Files of a concurrent attempt are in neither set, so whichever manifest lands last, every
   * file it lists exists.
   */
  async commit(fields: CommitFields): Promise<PartitionManifest> {
    this.checkAborted();
    const { store, source, interval, logger, signal } = this.options;
    const manifest = this.manifest(fields);
    const release = await this.options.lease(this.prefix, signal ? { signal } : {});
    try {
      const replaced = await readManifest(store, source, interval, this.options.partition).catch(
        () => undefined,
      );
      await store.putBytes(this.prefix + MANIFEST_NAME, `${JSON.stringify(manifest, null, 2)}\n`, {
        contentType: 'application/json',
      });
      this.committed = true;
      await store.putBytes(this.prefix + SUCCESS_NAME, '');
      await this.heartbeat.stop();
      await this.cleanUp(manifest, replaced);
    } finally {
      await release().catch((error: unknown) =>
        logger.warn({ source, err: error }, 'ingest: could not release the lease'),
      );
    }
    logger.info(
      {
        source,
        partition: manifest.partition,
        rows: manifest.rows,
        files: manifest.files.length,
        bytes: manifest.bytes,
      },
      'ingest: partition committed',
    );
    return manifest;
  }

  /** Best effort: the new partition is already committed, a failed cleanup only leaves garbage. */
  private async cleanUp(manifest: PartitionManifest, replaced: PartitionManifest | undefined): Promise<void> {
    const { store, source, interval, logger, graceMs } = this.options;
    const mine = new Set([...manifest.files.map((f) => f.key), manifest.rejects?.key]);
    const superseded = [...(replaced?.files.map((f) => f.key) ?? []), replaced?.rejects?.key].filter(
      (k): k is string => k !== undefined && !mine.has(k),
    );
    try {
      if (superseded.length > 0) await store.delete(superseded);
      await sweepPartition(store, source, interval, {
        manifest,
        liveAttempts: [this.attempt],
        logger,
        ...(graceMs !== undefined ? { graceMs } : {}),
        ...(this.options.partition !== undefined ? { partition: this.options.partition } : {}),
      });
    } catch (error) {
      logger.warn({ source, err: error }, 'ingest: could not delete stale files');
    }
  }

  /** Best-effort removal of everything this attempt wrote; never throws. No-op after commit. */
  async discard(reason: unknown): Promise<void> {
    if (this.committed) return;
    const { store, source, logger } = this.options;
    // An upload still finishing would otherwise create its object after the delete below.
    await Promise.allSettled([...this.inflight]);
    try {
      if (this.written.length > 0) await store.delete([...this.written]);
    } catch (error) {
      logger.error({ source, err: error }, 'ingest: could not remove files of a failed attempt');
    }
    await this.heartbeat.stop();
    logger.warn(
      { source, attempt: this.attempt, code: reason instanceof IngestError ? reason.code : undefined },
      'ingest: attempt discarded',
    );
  }
}
