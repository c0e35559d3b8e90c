import { CsvError } from 'csv-parse';
import { type ColumnType, isColumnType } from './column-types.js';
import { IngestError } from './errors.js';
import type { RetryOptions } from './retry.js';
import type { S3ClientOptions } from './s3-client.js';

/** Parsing, validation and output options of `ingestCsv`. */
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
  /** Gzip the stored parts (level `gzipLevel`). Default false: loads read plain parts with less CPU. */
  gzip?: boolean;
  /** zlib level 0-9 for stored parts. Default 1 (fast; ~3× less CPU than 6, ~20% larger). */
  gzipLevel?: number;
  /** Close a part once its uncompressed CSV reaches about this many bytes. Default 16 MiB. */
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

/** Throws INVALID_OPTIONS for options no input could satisfy. */
export function validateCsvOptions(o: CsvIngestOptions): void {
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

/** True when the byte-level scanner can read the input (csv-parse is needed otherwise). */
export function usesFastPath(o: CsvIngestOptions): boolean {
  return (
    o.parser !== 'csv-parse' &&
    o.onBadRow !== 'reject' &&
    (o.delimiter ?? ',') === ',' &&
    o.relaxQuotes !== true
  );
}

/** Maps errors of the read side (zlib, csv-parse, fs, undici) to IngestErrors with context. */
export function csvReadError(error: unknown, source: string, location: string): IngestError {
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
  const reason = typeof code === 'string' ? ` (${code})` : '';
  return new IngestError('SOURCE', `${source}: reading ${location} failed${reason}`, {
    ...ctx,
    retryable: true,
    cause: error,
  });
}
