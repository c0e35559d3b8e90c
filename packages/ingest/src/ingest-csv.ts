import { type Readable, pipeline as streamPipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CsvError, parse } from 'csv-parse';
import {
  bytesValidator,
  type ColumnType,
  isColumnType,
  isValidValue,
  valueValidator,
} from './column-types.js';
import { csvLine } from './csv-format.js';
import { CsvScanner } from './csv-scanner.js';
import { isGzipLocation, openSource, parseSourceLocation, type SourceLocation } from './csv-source.js';
import { abortError, IngestError } from './errors.js';
import { assertInterval, type Interval, renderLocation } from './interval.js';
import { type Logger, silentLogger } from './logger.js';
import type { PartitionManifest } from './manifest.js';
import type { ObjectStore } from './object-store.js';
import { PartitionAttempt, PartQueue } from './partition-writer.js';
import { type RetryOptions, retryPolicy } from './retry.js';
import type { S3ClientOptions } from './s3-store.js';
import { createUtf8Guard, Utf8Validator } from './utf8-guard.js';

/** Parsing, validation and output options of {@link ingestCsv}. */
export interface CsvIngestOptions {
  /** Input field delimiter (one character). Output is always comma-separated RFC 4180. Default `,`. */
  delimiter?: string;
  /**
   * Accept a `"` inside an unquoted field (and after a closing quote) as a literal character,
   * as csv-spectrum's location_coordinates case expects. Default false: RFC 4180 strict, such a
   * quote is a BAD_ROW.
   */
  relaxQuotes?: boolean;
  /**
   * `auto` (default) uses the byte-level fast path (declared types included) for comma-separated
   * input without rejects or relaxQuotes; `csv-parse` always parses and re-serialises every record.
   */
  parser?: 'auto' | 'csv-parse';
  /** Gzip the stored parts. Default true. */
  gzip?: boolean;
  /** zlib level 0-9 for stored parts. Default 1 (fast; ~3× less CPU than 6, ~20% larger). */
  gzipLevel?: number;
  /** Close a part once its uncompressed CSV reaches about this many bytes. Default 64 MiB. */
  partBytes?: number;
  /** Declared types, by header name, that values must parse as. Empty values count as NULL. */
  columns?: Record<string, ColumnType>;
  /** `fail` (default): the first bad row fails the ingest. `reject`: bad rows go to `_rejects/`. */
  onBadRow?: 'fail' | 'reject';
  /** With `reject`: fail with TOO_MANY_REJECTS beyond this many rejected rows. Default 1000. */
  maxRejects?: number;
  /** Only UTF-8 input is accepted; other bytes fail with BAD_ENCODING. */
  encoding?: 'utf8';
  /** Client settings for `s3://` locations (endpoint, region, credentials, checksum). */
  s3?: S3ClientOptions;
  /** Extra request headers for `http(s)://` locations (never logged). */
  headers?: Record<string, string>;
  /** Timeout for http(s) response headers and between body chunks. Default 30 s. */
  timeoutMs?: number;
  /** Retries for opening http(s) locations. */
  retry?: RetryOptions;
}

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
}

const DEFAULT_PART_BYTES = 64 * 1024 * 1024;
const FLUSH_CHARS = 256 * 1024;

interface TypeCheck {
  index: number;
  name: string;
  type: ColumnType;
}

interface Reject {
  line: number;
  reason: string;
  raw: string;
}

type ParsedRecord = string[] | { record: string[]; info?: { lines: number }; raw?: string };

/** One or more complete output records. */
interface Unit {
  data: string | Buffer;
  rows: number;
  size: number;
}

function validateOptions(o: CsvIngestOptions): void {
  if (o.delimiter !== undefined && (o.delimiter.length !== 1 || /["\r\n]/.test(o.delimiter))) {
    throw new IngestError(
      'INVALID_OPTIONS',
      'delimiter must be a single character other than a quote or newline',
    );
  }
  if (o.partBytes !== undefined && !(o.partBytes >= 1))
    throw new IngestError('INVALID_OPTIONS', 'partBytes must be ≥ 1');
  if (o.gzipLevel !== undefined && !(Number.isInteger(o.gzipLevel) && o.gzipLevel >= 0 && o.gzipLevel <= 9)) {
    throw new IngestError('INVALID_OPTIONS', 'gzipLevel must be an integer 0-9');
  }
  if (o.encoding !== undefined && o.encoding !== 'utf8') {
    throw new IngestError('INVALID_OPTIONS', 'only utf8 input is supported');
  }
  for (const [name, type] of Object.entries(o.columns ?? {})) {
    if (!isColumnType(type)) {
      throw new IngestError('INVALID_OPTIONS', `unknown type ${JSON.stringify(type)} for column ${name}`, {
        column: name,
      });
    }
  }
}

/** Maps errors of the read side (zlib, csv-parse, fs, undici) to IngestErrors with context. */
function readError(error: unknown, source: string, location: string): IngestError {
  if (error instanceof IngestError) return error;
  const ctx = { source, location };
  if (error instanceof CsvError) {
    const line = (error as unknown as { lines?: number }).lines;
    const at = line !== undefined ? { line } : {};
    if (error.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
      // Not passed as cause: csv-parse attaches the record's values to its error.
      const m = /expect (\d+), got (\d+)/.exec(error.message);
      return new IngestError(
        'BAD_ROW',
        `${source}: line ${line} of ${location} has ${m?.[2] ?? '?'} fields, expected ${m?.[1] ?? '?'} (header)`,
        { ...ctx, ...at },
      );
    }
    return new IngestError(
      'BAD_ROW',
      `${source}: malformed CSV at line ${line} of ${location} (${error.code})`,
      {
        ...ctx,
        ...at,
      },
    );
  }
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new IngestError('BAD_GZIP', `${source}: ${location} is not a complete gzip stream (${code})`, {
      ...ctx,
      cause: error,
    });
  }
  if ((error as { name?: string })?.name === 'AbortError') {
    return new IngestError('ABORTED', `${source}: ingest aborted`, { ...ctx, cause: error });
  }
  return new IngestError('SOURCE', `${source}: reading ${location} failed`, {
    ...ctx,
    retryable: true,
    cause: error,
  });
}

/**
 * Streams one CSV file into a lake partition: read (path, http(s), s3; `.gz` gunzipped) →
 * UTF-8 check → csv-parse (BOM stripped, strict quotes, equal field counts, declared types) →
 * RFC 4180 re-serialisation with the header on top of every part → optional gzip → sha256 →
 * store. Parts are split at record boundaries by uncompressed size. On success the manifest is
 * committed and stale files of earlier attempts removed; on any failure this attempt's files
 * are removed and the previously committed partition stays as it was.
 *
 * @example
 * const manifest = await ingestCsv({
 *   source: 'orders', location: 'data/orders_{{ ds_nodash }}.csv',
 *   interval: dailyInterval('2024-01-01'), store: openLake('file://.dataflow/lake'),
 * });
 */
export async function ingestCsv(args: IngestCsvOptions): Promise<PartitionManifest> {
  const { source, store, signal } = args;
  const logger = args.logger ?? silentLogger;
  const o = args.options ?? {};
  validateOptions(o);
  assertInterval(args.interval);
  const rendered = renderLocation(args.location, args.interval);
  const location: SourceLocation = parseSourceLocation(rendered, args.cwd ?? process.cwd());
  const shown = location.display;
  const rejectMode = o.onBadRow === 'reject';
  const maxRejects = o.maxRejects ?? 1000;
  const partBytes = o.partBytes ?? DEFAULT_PART_BYTES;
  const attempt = new PartitionAttempt({
    store,
    source,
    interval: args.interval,
    format: 'csv',
    gzip: o.gzip ?? true,
    ...(o.gzipLevel !== undefined ? { gzipLevel: o.gzipLevel } : {}),
    ...(args.runId !== undefined ? { runId: args.runId } : {}),
    ...(signal ? { signal } : {}),
    logger,
  });
  if (signal?.aborted) throw abortError(signal, { source });
  logger.info({ source, location: shown, attempt: attempt.attempt }, 'ingest: csv started');

  let tail: Readable | undefined;
  let input: Readable | undefined;
  try {
    input = await openSource(location, {
      source,
      logger,
      retry: retryPolicy(o.retry),
      timeoutMs: o.timeoutMs ?? 30_000,
      ...(o.headers ? { headers: o.headers } : {}),
      ...(o.s3 ? { s3: o.s3 } : {}),
      ...(signal ? { signal } : {}),
    });
    const declared = o.columns ?? {};
    const typed = Object.values(declared).some((t) => t !== 'text' && t !== 'varchar');
    // Declared types are validated on top of the scanner's record boundaries; rejects, other
    // delimiters and relaxQuotes need csv-parse.
    const fast =
      o.parser !== 'csv-parse' && !rejectMode && (o.delimiter ?? ',') === ',' && o.relaxQuotes !== true;
    const needInfo = rejectMode || typed;
    const stages: NodeJS.ReadWriteStream[] = [];
    if (isGzipLocation(location)) stages.push(createGunzip({ chunkSize: 256 * 1024 }));
    // The fast path validates UTF-8 in its own loop; csv-parse gets a guard stream in front.
    if (!fast) stages.push(createUtf8Guard({ source, location: shown }));
    tail = fast
      ? ((stages.at(-1) as unknown as Readable | undefined) ?? input)
      : parse({
          bom: true,
          delimiter: o.delimiter ?? ',',
          relax_quotes: o.relaxQuotes === true,
          relax_column_count: rejectMode,
          skip_empty_lines: true,
          info: needInfo,
          raw: rejectMode,
        });
    if (!fast) stages.push(tail as unknown as NodeJS.ReadWriteStream);
    let readFailure: unknown;
    if (stages.length > 0) {
      streamPipeline([input, ...stages] as unknown as [Readable, NodeJS.WritableStream], (error) => {
        if (error) readFailure = error;
      });
    }
    const onAbort = (): void => {
      tail?.destroy(abortError(signal as AbortSignal, { source }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const iterator = tail[Symbol.asyncIterator]() as AsyncIterator<unknown>;
    const pull = async (): Promise<unknown> => {
      try {
        const r = await iterator.next();
        return r.done ? undefined : r.value;
      } catch (error) {
        throw readError(readFailure ?? error, source, shown);
      }
    };

    try {
      const rejects: Reject[] = [];
      /** Checks the header (BAD_HEADER) and returns the type checks of the declared columns. */
      const checkHeader = (names: string[]): TypeCheck[] => {
        const seen = new Set<string>();
        for (const name of names) {
          if (name.trim() === '' || seen.has(name)) {
            throw new IngestError(
              'BAD_HEADER',
              `${source}: header of ${shown} has an empty or duplicate column name`,
              { source, location: shown, column: name },
            );
          }
          seen.add(name);
        }
        const found: TypeCheck[] = [];
        for (const [name, type] of Object.entries(declared)) {
          const index = names.indexOf(name);
          if (index < 0) {
            throw new IngestError(
              'BAD_HEADER',
              `${source}: declared column ${name} is not in the header of ${shown}`,
              { source, location: shown, column: name },
            );
          }
          if (type !== 'text' && type !== 'varchar') found.push({ index, name, type });
        }
        return found;
      };
      const badValue = (check: TypeCheck, line: number): IngestError =>
        new IngestError(
          'BAD_VALUE',
          `${source}: line ${line} of ${shown}: column ${check.name} is not a valid ${check.type}`,
          { source, location: shown, line, column: check.name },
        );
      let checks: TypeCheck[] = [];

      let header: string[];
      /** The next unit of output (one or more complete records), or undefined at the end. */
      let nextUnit: () => Promise<Unit | undefined>;

      if (fast) {
        // The header is checked as soon as the scanner parses it, before any data record.
        const scanner = new CsvScanner(
          { source, location: shown },
          Math.min(FLUSH_CHARS, Math.ceil(partBytes / 8)),
          (names) => {
            checks = checkHeader(names);
            return checks.map((check) => ({
              index: check.index,
              valid: valueValidator(check.type),
              validBytes: bytesValidator(check.type),
              fail: (line: number) => badValue(check, line),
            }));
          },
        );
        const utf8 = new Utf8Validator({ source, location: shown }, () => scanner.currentLine);
        const queue: Unit[] = [];
        let ended = false;
        const readChunk = async (): Promise<void> => {
          const chunk = (await pull()) as Buffer | undefined;
          if (chunk === undefined) {
            ended = true;
            utf8.end();
          }
          for (const batch of chunk === undefined ? scanner.end() : scanner.push(utf8.check(chunk))) {
            queue.push({ data: batch.bytes, rows: batch.rows, size: batch.bytes.length });
          }
        };
        // Read until the header is known (or the input ends).
        while (scanner.header === undefined && !ended) await readChunk();
        if (scanner.header === undefined) {
          throw new IngestError('EMPTY_FILE', `${source}: ${shown} has no header row`, {
            source,
            location: shown,
          });
        }
        header = scanner.header;
        nextUnit = async () => {
          while (queue.length === 0 && !ended) await readChunk();
          return queue.shift();
        };
      } else {
        const first = (await pull()) as ParsedRecord | undefined;
        if (first === undefined) {
          throw new IngestError('EMPTY_FILE', `${source}: ${shown} has no header row`, {
            source,
            location: shown,
          });
        }
        header = Array.isArray(first) ? first : first.record;
        checks = checkHeader(header);
        nextUnit = async () => {
          for (;;) {
            const item = (await pull()) as ParsedRecord | undefined;
            if (item === undefined) return undefined;
            if (Array.isArray(item)) {
              const line = csvLine(item);
              return { data: line, rows: 1, size: line.length };
            }
            const lineNo = item.info?.lines ?? 0;
            const bad = problem(item.record, lineNo);
            if (bad) {
              if (!rejectMode) throw bad;
              rejects.push({ line: lineNo, reason: bad.code, raw: (item.raw ?? '').replace(/\r?\n$/, '') });
              if (rejects.length > maxRejects) {
                throw new IngestError(
                  'TOO_MANY_REJECTS',
                  `${source}: more than ${maxRejects} bad rows in ${shown} (last at line ${lineNo})`,
                  { source, location: shown, line: lineNo },
                );
              }
              continue;
            }
            const line = csvLine(item.record);
            return { data: line, rows: 1, size: line.length };
          }
        };
      }

      const headerLine = csvLine(header);

      /** Returns why a record is bad, or undefined when it is good. */
      function problem(fields: string[], line: number): IngestError | undefined {
        if (fields.length !== header.length) {
          return new IngestError(
            'BAD_ROW',
            `${source}: line ${line} of ${shown} has ${fields.length} fields, expected ${header.length} (header)`,
            { source, location: shown, line },
          );
        }
        for (const check of checks) {
          if (!isValidValue(check.type, fields[check.index] as string)) return badValue(check, line);
        }
        return undefined;
      }

      let pending: Unit | undefined;
      let finished = false;
      const parts = new PartQueue(attempt, (error) => tail?.destroy(error as Error));
      do {
        let rows = 0;
        // Pull-based: the store's upload reads this generator, so parsing runs no faster than
        // the store accepts bytes, and the next part starts only after this one is stored.
        const chunks = async function* (): AsyncGenerator<string | Buffer> {
          let size = headerLine.length;
          let text = headerLine;
          for (;;) {
            const unit = pending ?? (await nextUnit());
            pending = undefined;
            if (unit === undefined) {
              finished = true;
              break;
            }
            if (rows > 0 && size + unit.size > partBytes) {
              pending = unit;
              break;
            }
            size += unit.size;
            rows += unit.rows;
            if (typeof unit.data === 'string') {
              text += unit.data;
              if (text.length >= FLUSH_CHARS) {
                yield text;
                text = '';
              }
            } else {
              if (text.length > 0) yield text;
              text = '';
              yield unit.data;
            }
          }
          if (text.length > 0) yield text;
        };
        await parts.add(chunks(), () => rows);
      } while (!finished);
      await parts.finish();

      let rejectsInfo: { key: string; rows: number } | undefined;
      if (rejects.length > 0) {
        const body =
          csvLine(['line', 'reason', 'raw']) +
          rejects.map((r) => csvLine([String(r.line), r.reason, r.raw])).join('');
        const key = await attempt.writeSmall(`_rejects/part-00000-${attempt.attempt}.csv`, body);
        rejectsInfo = { key, rows: rejects.length };
        logger.warn({ source, rejected: rejects.length }, 'ingest: rows rejected');
      }
      return await attempt.commit({ columns: header, ...(rejectsInfo ? { rejects: rejectsInfo } : {}) });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  } catch (error) {
    const failure = signal?.aborted ? abortError(signal, { source }) : readError(error, source, shown);
    tail?.destroy();
    input?.destroy();
    await attempt.discard(failure);
    logger.error({ source, location: shown, code: failure.code, line: failure.line }, 'ingest: csv failed');
    throw failure;
  }
}
