import { type Readable, pipeline as streamPipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { csvLine } from './csv-format.js';
import type { CsvContext } from './csv-header.js';
import { type CsvIncrementalOptions, csvCursor } from './csv-incremental.js';
import { type CsvIngestOptions, csvReadError, usesFastPath, validateCsvOptions } from './csv-options.js';
import { isGzipLocation, openSource, parseSourceLocation } from './csv-source.js';
import { type CsvItems, type CsvUnits, parsedUnits, parseOptions, scannerUnits } from './csv-units.js';
import { abortError } from './errors.js';
import { runAttempt } from './ingest-run.js';
import { assertInterval, type Interval, renderLocation } from './interval.js';
import { type Logger, silentLogger } from './logger.js';
import type { CursorState, PartitionManifest } from './manifest.js';
import type { ObjectStore } from './object-store.js';
import { writeParts } from './part-writer.js';
import type { PartitionLease } from './partition-lock.js';
import type { PartitionAttempt } from './partition-writer.js';
import { createProgressCounter, type OnProgress } from './progress.js';
import { retryPolicy } from './retry.js';
import { createUtf8Guard } from './utf8-guard.js';

export type { CsvIngestOptions } from './csv-options.js';

/** Arguments of {@link ingestCsv}. */
export interface IngestCsvOptions {
  /** Source name: the first path segment of the partition. */
  source: string;
  /** Path, `file://`, `http(s)://` URL or `s3://bucket/key`; may use `{{ ds }}`-style placeholders. */
  location: string;
  interval: Interval;
  store: ObjectStore;
  runId?: string;
  signal?: AbortSignal;
  logger?: Logger;
  /** Base directory for relative paths. Default `process.cwd()`. */
  cwd?: string;
  options?: CsvIngestOptions;
  /** Serialises commits of the partition (e.g. a PostgreSQL advisory lease); default a store lock. */
  lease?: PartitionLease;
  /** Files of other attempts younger than this are never deleted. Default 1 h. */
  graceMs?: number;
  /** An append-only feed read by a cursor column (always parsed by csv-parse). */
  incremental?: CsvIncrementalOptions;
  /** The cursor state of the previous runs (read from the warehouse); absent: `initialValue`. */
  cursorState?: CursorState;
  /** The lake partition: `w=<id>` (see `windowPartition`) for a cursor run; default `dt=<interval start>`. */
  partition?: string;
  /**
   * Rows landed and source bytes read, throttled; `totalBytes` is what the source says it holds (a
   * local file's size, an HTTP `content-length`, an S3 object's size), when it says.
   */
  onProgress?: OnProgress;
}

// 16 MiB (uncompressed): a 100 MB day is 6-7 parts, which the warehouse COPYs in parallel on
// every core with balanced work (2 parts of 64 + 36 MiB would leave one core idle for a third of
// the load); see bench/warehouse/load-design-bench.ts.
const DEFAULT_PART_BYTES = 16 * 1024 * 1024;

// Plain parts by default: the warehouse load that reads them is CPU-bound, and gunzipping 100 MB
// of CSV costs Node 0.3-0.6 CPU-s, a fifth of the whole load's CPU and more than the margin
// between a load and `psql \copy` on 2 cores (bench/warehouse/load-profile.ts). Lakes where
// storage or transfer costs more than load CPU (S3) set `gzip: true` (3.2× smaller parts).
const DEFAULT_CSV_GZIP = false;

/**
 * Opens the read side: source bytes → gunzip (`.gz`) → (csv-parse path: UTF-8 guard → csv-parse).
 * Every failure of a stage surfaces from `next()` as an IngestError naming the location.
 */
function openItems(
  input: Readable,
  fast: boolean,
  gunzip: boolean,
  o: CsvIngestOptions,
  ctx: CsvContext,
  countBytes: (bytes: number) => void,
) {
  const stages: NodeJS.ReadWriteStream[] = gunzip ? [createGunzip({ chunkSize: 256 * 1024 })] : [];
  if (!fast) {
    const reject = o.onBadRow === 'reject';
    stages.push(createUtf8Guard(ctx), parse(parseOptions({ ...o, reject, info: true })));
  }
  const tail = (stages.at(-1) as unknown as Readable | undefined) ?? input;
  let failure: unknown;
  if (stages.length > 0) {
    streamPipeline([input, ...stages] as unknown as [Readable, NodeJS.WritableStream], (error) => {
      failure ??= error ?? undefined;
    });
    // Piped, the source already flows: one more 'data' listener only counts.
    input.on('data', (chunk: Buffer) => countBytes(chunk.length));
  }
  const iterator = tail[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  const items: CsvItems = {
    async next() {
      try {
        const r = await iterator.next();
        // Unpiped (the byte scanner reads the source itself), the items are the source's chunks.
        if (!r.done && stages.length === 0) countBytes((r.value as Buffer).length);
        return r.done ? undefined : r.value;
      } catch (error) {
        throw csvReadError(failure ?? error, ctx.source, ctx.location);
      }
    },
  };
  return { items, stop: (error?: unknown) => tail.destroy(error as Error | undefined) };
}

/**
 * Streams one CSV file into a lake partition: read (path, http(s), s3; `.gz` gunzipped) →
 * UTF-8 check → the byte scanner (comma-separated, no rejects) or csv-parse (strict quotes,
 * equal field counts, declared types, rejects) → RFC 4180 parts with the header on top of each,
 * split at record boundaries by size → optional gzip → sha256 → store. On success the manifest
 * is committed under the partition lease; on any failure this attempt's files are removed and
 * the previously committed partition stays as it was.
 *
 * @example
 * const manifest = await ingestCsv({
 *   source: 'orders', location: 'data/orders_{{ ds_nodash }}.csv',
 *   interval: dailyInterval('2024-01-01'), store: openLake('file://.dataflow/lake'),
 * });
 */
export async function ingestCsv(args: IngestCsvOptions): Promise<PartitionManifest> {
  const { source, signal } = args;
  const logger = args.logger ?? silentLogger;
  const o = args.options ?? {};
  validateCsvOptions(o);
  assertInterval(args.interval);
  const location = parseSourceLocation(
    renderLocation(args.location, args.interval),
    args.cwd ?? process.cwd(),
  );
  const ctx: CsvContext = { source, location: location.display };
  const cursor = args.incremental ? csvCursor(args.incremental, args.cursorState, ctx) : undefined;
  // The byte scanner passes records through unparsed: a cursor filter needs csv-parse's fields.
  const fast = cursor === undefined && usesFastPath(o);
  const partBytes = o.partBytes ?? DEFAULT_PART_BYTES;
  logger.info({ source, location: ctx.location }, 'ingest: csv started');
  let stop: ((error?: unknown) => void) | undefined;
  const onAbort = (): void => stop?.(abortError(signal as AbortSignal, { source }));
  signal?.addEventListener('abort', onAbort, { once: true });

  const progress = createProgressCounter(args.onProgress);
  const write = async (attempt: PartitionAttempt) => {
    const { stream: input, totalBytes } = await openSource(location, {
      source,
      logger,
      retry: retryPolicy(o.retry),
      timeoutMs: o.timeoutMs ?? 30_000,
      ...(o.headers ? { headers: o.headers } : {}),
      ...(o.s3 ? { s3: o.s3 } : {}),
      ...(signal ? { signal } : {}),
    });
    if (totalBytes !== undefined) progress.setTotalBytes(totalBytes);
    const opened = openItems(input, fast, isGzipLocation(location), o, ctx, progress.addBytes);
    stop = (error) => {
      opened.stop(error);
      input.destroy();
    };
    if (signal?.aborted) onAbort();
    const declared = o.columns ?? {};
    const csv: CsvUnits = fast
      ? await scannerUnits(opened.items, declared, ctx, partBytes)
      : await parsedUnits(opened.items, ctx, {
          declared,
          reject: o.onBadRow === 'reject',
          maxRejects: o.maxRejects ?? 1000,
          ...(cursor
            ? { cursor: { filterFor: cursor.filterFor, exhausted: () => cursor.window.exhausted } }
            : {}),
        });
    const onUnit = (rows: number) => progress.addRows(rows);
    await writeParts(attempt, csv.units, { header: csvLine(csv.header), partBytes, onUnit }, stop);
    return {
      columns: csv.header,
      ...(await writeRejects(attempt, csv, source, logger)),
      ...(cursor ? { cursor: cursor.window.range() } : {}),
    };
  };
  try {
    const manifest = await runAttempt(
      { ...args, logger },
      {
        format: 'csv',
        gzip: o.gzip ?? DEFAULT_CSV_GZIP,
        ...(o.gzipLevel !== undefined ? { gzipLevel: o.gzipLevel } : {}),
        write,
        failure: (error) =>
          signal?.aborted ? abortError(signal, { source }) : csvReadError(error, source, ctx.location),
      },
    );
    progress.flush();
    return manifest;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stop?.();
  }
}

/** Stores the rejected rows of an attempt (if any) as `_rejects/part-00000-<attempt>.csv`. */
async function writeRejects(attempt: PartitionAttempt, csv: CsvUnits, source: string, logger: Logger) {
  if (csv.rejects.length === 0) return {};
  const body =
    csvLine(['line', 'reason', 'raw']) +
    csv.rejects.map((r) => csvLine([String(r.line), r.reason, r.raw])).join('');
  const key = await attempt.writeSmall(`_rejects/part-00000-${attempt.attempt}.csv`, body);
  logger.warn({ source, rejected: csv.rejects.length }, 'ingest: rows rejected');
  return { rejects: { key, rows: csv.rejects.length } };
}
