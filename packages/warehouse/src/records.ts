import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse';
import { WarehouseError } from './errors.js';

/** One input record: its exact bytes for COPY, the raw text for a rejects row, its first physical line. */
export interface SourceRecord {
  /** CSV text of the row (with trailing LF) as COPY should receive it; undefined when it cannot be converted. */
  copy?: string;
  /** The row as it appears in the part file, without the trailing LF. */
  raw: string;
  /** 1-based physical line where the row starts (the CSV header is line 1). */
  line: number;
  /** 1-based data record number in the file (header and NDJSON blank lines not counted). */
  record: number;
  /** Why the row could not be converted (NDJSON only). */
  error?: string;
}

/** A row-level format problem found before COPY (NDJSON line that is not a JSON object). */
export class RowFormatError extends Error {
  override readonly name = 'RowFormatError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** Splits a byte stream into lines (LF, optional CR stripped), decoding UTF-8 across chunk borders. */
export async function* splitLines(source: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of source) {
    rest += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    let nl = rest.indexOf('\n', start);
    while (nl >= 0) {
      const end = nl > start && rest.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      yield rest.slice(start, end);
      start = nl + 1;
      nl = rest.indexOf('\n', start);
    }
    rest = rest.slice(start);
  }
  rest += decoder.end();
  if (rest.length > 0) yield rest;
}

const csvQuote = (value: string): string => `"${value.replace(/"/g, '""')}"`;

/**
 * Converts one NDJSON object to a CSV row in `columns` order: missing/null → unquoted empty
 * (NULL), strings quoted (so '' stays an empty string), numbers/booleans as text, objects and
 * arrays as JSON text. Throws RowFormatError for non-objects and keys outside `columns`.
 */
export function ndjsonToCsvRow(line: string, columns: readonly string[], lineNumber: number): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    // No cause: JSON.parse's SyntaxError quotes the line, i.e. row values.
    throw new RowFormatError('line is not valid JSON', lineNumber);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RowFormatError('line is not a JSON object', lineNumber);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!columns.includes(key))
      throw new RowFormatError('object has a key outside the manifest columns', lineNumber);
  }
  const fields = columns.map((c) => {
    const v = record[c];
    if (v === undefined || v === null) return '';
    if (typeof v === 'string') return csvQuote(v);
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return csvQuote(JSON.stringify(v));
  });
  return `${fields.join(',')}\n`;
}

/** pipeline() stage: NDJSON bytes → CSV bytes (no header); blank lines skipped. */
export function ndjsonToCsv(columns: readonly string[]) {
  return async function* ndjsonToCsvStage(source: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
    let lineNumber = 0;
    let batch = '';
    for await (const line of splitLines(source)) {
      lineNumber += 1;
      if (line.trim() === '') continue;
      batch += ndjsonToCsvRow(line, columns, lineNumber);
      if (batch.length >= 65_536) {
        yield Buffer.from(batch);
        batch = '';
      }
    }
    if (batch.length > 0) yield Buffer.from(batch);
  };
}

/** NDJSON records with physical line numbers; unconvertible lines carry `error` instead of `copy`. */
export async function* readNdjsonRecords(
  source: AsyncIterable<Buffer | string>,
  columns: readonly string[],
): AsyncGenerator<SourceRecord> {
  let lineNumber = 0;
  let record = 0;
  for await (const line of splitLines(source)) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    record += 1;
    try {
      yield { copy: ndjsonToCsvRow(line, columns, lineNumber), raw: line, line: lineNumber, record };
    } catch (error) {
      yield { raw: line, line: lineNumber, record, error: (error as Error).message };
    }
  }
}

/**
 * CSV records of a part file after checking its header equals `columns`. Each record keeps its
 * exact source text (so COPY sees the same bytes, quoting and NULL-vs-empty intact) and the
 * physical line it starts on.
 */
export async function* readCsvRecords(
  source: AsyncIterable<Buffer | string>,
  columns: readonly string[],
  file: string,
): AsyncGenerator<SourceRecord> {
  const parser = parse({ raw: true, info: true, relax_column_count: true, skip_empty_lines: false });
  const feed = (async () => {
    try {
      for await (const chunk of source) {
        if (parser.destroyed) return;
        if (!parser.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              parser.off('drain', done);
              parser.off('close', done);
              resolve();
            };
            parser.on('drain', done);
            parser.on('close', done);
          });
        }
      }
      if (!parser.destroyed) parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();
  let first = true;
  let record = 0;
  try {
    for await (const item of parser as AsyncIterable<{
      record: string[];
      raw: string;
      info: { lines: number };
    }>) {
      const raw = item.raw.endsWith('\n') ? item.raw.slice(0, item.raw.endsWith('\r\n') ? -2 : -1) : item.raw;
      const newlines = raw.split('\n').length - 1;
      const line = item.info.lines - newlines;
      if (first) {
        first = false;
        const header = item.record;
        if (header.length !== columns.length || header.some((h, i) => h !== columns[i])) {
          throw new WarehouseError('HEADER_MISMATCH', `header of ${file} differs from the manifest columns`, {
            file,
            line: 1,
          });
        }
        continue;
      }
      record += 1;
      yield { copy: `${raw}\n`, raw, line, record };
    }
  } catch (error) {
    if (error instanceof WarehouseError) throw error;
    throw new WarehouseError('BAD_FILE', `${file} is not parseable CSV`, { file, cause: error });
  } finally {
    parser.destroy();
    await feed;
  }
}
