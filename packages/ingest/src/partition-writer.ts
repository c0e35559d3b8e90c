import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { pipeline, Readable, Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import { abortError, IngestError } from './errors.js';
import type { Interval } from './interval.js';
import type { Logger } from './logger.js';
import {
  MANIFEST_NAME,
  type ManifestFile,
  type PartitionManifest,
  partitionPrefix,
  partKey,
  SUCCESS_NAME,
} from './manifest.js';
import type { ObjectStore } from './object-store.js';

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
}

/**
 * One attempt at (re)writing a partition: data files get attempt-unique names; `commit()` writes
 * the manifest (the commit point), `_SUCCESS`, then deletes every other file under the partition;
 * `discard()` removes what this attempt wrote. Assumes one writer per partition at a time.
 */
export class PartitionAttempt {
  readonly attempt = newAttemptId();
  readonly runId: string;
  readonly prefix: string;
  private readonly written: string[] = [];
  private readonly files: ManifestFile[] = [];
  private committed = false;

  constructor(private readonly options: PartitionAttemptOptions) {
    this.prefix = partitionPrefix(options.source, options.interval);
    this.runId = options.runId ?? randomUUID();
  }

  private nextIndex = 0;
  private readonly inflight = new Set<Promise<unknown>>();

  private checkAborted(): void {
    const { signal, source } = this.options;
    if (signal?.aborted) throw abortError(signal, { source });
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
    const stages: NodeJS.ReadWriteStream[] = [];
    if (gzip) {
      stages.push(
        createGzip({
          // Level 1 by default: ~3× less CPU than zlib's default 6 for ~20% larger CSV parts,
          // which keeps gzip from being the bottleneck of an ingest (see bench/ingest).
          level: this.options.gzipLevel ?? DEFAULT_GZIP_LEVEL,
          chunkSize: 256 * 1024,
        }),
      );
    }
    // Callback pipeline: any stage failing destroys all of them, so store.put sees a failing
    // body and aborts (S3 multipart) or removes its temp file (fs).
    const out = pipeline([body, ...stages, hasher], () => undefined) as unknown as Readable;
    this.written.push(key);
    const put = store.put(key, out, {
      contentType: format === 'csv' ? 'text/csv' : 'application/x-ndjson',
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

  /**
   * Commits: manifest (the commit point), then `_SUCCESS`, then removal of every file under the
   * partition prefix that the new manifest does not reference.
   */
  async commit(fields: {
    columns: string[];
    rejects?: { key: string; rows: number };
  }): Promise<PartitionManifest> {
    this.checkAborted();
    const { store, source, interval, format, gzip, logger } = this.options;
    const manifest: PartitionManifest = {
      version: 1,
      source,
      partition: `dt=${interval.start}`,
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
    };
    await store.putBytes(this.prefix + MANIFEST_NAME, `${JSON.stringify(manifest, null, 2)}\n`, {
      contentType: 'application/json',
    });
    this.committed = true;
    await store.putBytes(this.prefix + SUCCESS_NAME, '');
    const keep = new Set([
      this.prefix + MANIFEST_NAME,
      this.prefix + SUCCESS_NAME,
      ...manifest.files.map((f) => f.key),
      ...(manifest.rejects ? [manifest.rejects.key] : []),
    ]);
    const stale: string[] = [];
    for await (const { key } of store.list(this.prefix)) if (!keep.has(key)) stale.push(key);
    if (stale.length > 0) {
      // The new partition is already committed; a failed cleanup only leaves garbage behind.
      await store.delete(stale).catch((error: unknown) => {
        logger.warn({ source, err: error, count: stale.length }, 'ingest: could not delete stale files');
      });
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

  /** Best-effort removal of everything this attempt wrote; never throws. No-op after commit. */
  async discard(reason: unknown): Promise<void> {
    if (this.committed || this.written.length === 0) return;
    const { store, source, logger } = this.options;
    // An upload still finishing would otherwise create its object after the delete below.
    await Promise.allSettled([...this.inflight]);
    try {
      await store.delete([...this.written]);
    } catch (error) {
      logger.error({ source, err: error }, 'ingest: could not remove files of a failed attempt');
    }
    logger.warn(
      { source, attempt: this.attempt, code: reason instanceof IngestError ? reason.code : undefined },
      'ingest: attempt discarded',
    );
  }
}

/**
 * Streams the parts of one attempt with one part of look-ahead: part N+1 is produced while part
 * N's upload finishes (its last multipart parts and CompleteMultipartUpload), which otherwise
 * leaves the source idle between parts. At most two parts are in flight; a failed part fails the
 * source through `onFailure`, so the part being produced stops too.
 */
export class PartQueue {
  private readonly pending: Array<Promise<ManifestFile>> = [];

  constructor(
    private readonly attempt: PartitionAttempt,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  /**
   * Starts a part whose body is produced by `chunks`; resolves once the body has been fully
   * produced (not necessarily stored), so the caller may start the next part.
   */
  async add(chunks: AsyncIterable<string | Buffer>, rows: () => number): Promise<void> {
    let produced!: () => void;
    const ended = new Promise<void>((resolve) => {
      produced = resolve;
    });
    const body = (async function* () {
      try {
        yield* chunks;
      } finally {
        produced();
      }
    })();
    const stored = this.attempt.writePart(textStream(body), rows);
    stored.catch((error: unknown) => this.onFailure(error));
    this.pending.push(stored);
    await Promise.race([ended, stored]);
    if (this.pending.length >= 2) await this.pending.shift();
  }

  /** Waits for every part to be stored; rejects with the first failure. */
  async finish(): Promise<void> {
    while (this.pending.length > 0) await this.pending.shift();
  }
}

/** Wraps an async generator of text/byte chunks as a byte stream with a large buffer. */
export function textStream(chunks: AsyncIterable<string | Buffer>): Readable {
  return Readable.from(
    (async function* () {
      for await (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    })(),
    { objectMode: false, highWaterMark: 1 << 20 },
  );
}
