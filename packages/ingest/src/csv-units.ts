import { bytesValidator, type ColumnType, isValidValue, valueValidator } from './column-types.js';
import { type CsvField, csvLine, QUOTED_EMPTY } from './csv-format.js';
import { badValue, type CsvContext, checkHeader, emptyFile, nulByte, type TypeCheck } from './csv-header.js';
import type { CsvRowFilter } from './csv-incremental.js';
import { CsvScanner } from './csv-scanner.js';
import { IngestError } from './errors.js';
import type { Unit } from './part-writer.js';
import { Utf8Validator } from './utf8-guard.js';

/** The items of a CSV input: byte chunks (scanner) or parsed records (csv-parse). */
export interface CsvItems {
  /** The next item, or undefined at the end; read errors arrive mapped to IngestErrors. */
  next(): Promise<unknown>;
}

/** A CSV source as the part writer sees it: its header and an async generator of units. */
export interface CsvUnits {
  header: string[];
  units: AsyncGenerator<Unit>;
  /** Rows rejected so far (`onBadRow: 'reject'`); complete once `units` is done. */
  rejects: CsvReject[];
}

/** One rejected row: where, why, and its raw text (NUL bytes shown as `\0`). */
export interface CsvReject {
  line: number;
  reason: string;
  raw: string;
}

const FLUSH_CHARS = 256 * 1024;

/**
 * The fast path's units: byte chunks through the UTF-8 check and the RFC 4180 scanner, which
 * passes record bytes through unchanged (declared types checked on the way). Reads until the
 * header is known before returning.
 *
 * @example
 * const { header, units } = await scannerUnits(items, {}, ctx, 64 << 20);
 */
export async function scannerUnits(
  items: CsvItems,
  declared: Record<string, ColumnType>,
  ctx: CsvContext,
  partBytes: number,
): Promise<CsvUnits> {
  const scanner = new CsvScanner(ctx, Math.min(FLUSH_CHARS, Math.ceil(partBytes / 8)), (names) =>
    checkHeader(names, declared, ctx).map((check) => ({
      index: check.index,
      valid: valueValidator(check.type),
      validBytes: bytesValidator(check.type),
      fail: (line: number) => badValue(check, line, ctx),
    })),
  );
  const utf8 = new Utf8Validator(ctx, () => scanner.currentLine);
  const toUnits = (batches: Array<{ bytes: Buffer; rows: number }>): Unit[] =>
    batches.map((b) => ({ data: b.bytes, rows: b.rows, size: b.bytes.length }));
  let ended = false;
  const scan = async (): Promise<Unit[]> => {
    const chunk = (await items.next()) as Buffer | undefined;
    if (chunk === undefined) {
      ended = true;
      utf8.end();
      return toUnits(scanner.end());
    }
    const valid = utf8.check(chunk);
    // memchr over the chunk: far cheaper than a test per byte in the scanner's loop.
    const nul = valid.indexOf(0);
    if (nul >= 0) {
      // Scan up to the NUL so the scanner knows its line and field.
      scanner.push(valid.subarray(0, nul));
      const { line, field } = scanner.position;
      throw nulByte(scanner.header?.[field], line, ctx);
    }
    return toUnits(scanner.push(valid));
  };
  const queue: Unit[] = [];
  while (scanner.header === undefined && !ended) queue.push(...(await scan()));
  if (scanner.header === undefined) throw emptyFile(ctx);
  const units = async function* (): AsyncGenerator<Unit> {
    yield* queue;
    while (!ended) yield* await scan();
  };
  return { header: scanner.header, units: units(), rejects: [] };
}

/** A record as csv-parse yields it (with `info` and `raw` when asked). */
type ParsedRecord = CsvField[] | { record: CsvField[]; info?: { lines: number }; raw?: string };

/** csv-parse options of the record path: a quoted empty field stays distinct from NULL. */
export function parseOptions(o: {
  delimiter?: string;
  relaxQuotes?: boolean;
  reject: boolean;
  info: boolean;
}) {
  return {
    bom: true,
    delimiter: o.delimiter ?? ',',
    relax_quotes: o.relaxQuotes === true,
    relax_column_count: o.reject,
    skip_empty_lines: true,
    info: o.info,
    raw: o.reject,
    cast: (value: string, context: { quoting: boolean }): CsvField =>
      value === '' && context.quoting ? QUOTED_EMPTY : value,
  };
}

/** Options of {@link parsedUnits}. */
export interface ParsedUnitsOptions {
  declared: Record<string, ColumnType>;
  reject: boolean;
  maxRejects: number;
  /** Incremental runs: which valid rows land (built from the header), and whether reading can stop. */
  cursor?: { filterFor(header: readonly string[]): CsvRowFilter; exhausted(): boolean };
}

/**
 * The record path's units: each csv-parse record checked (field count, NUL bytes, declared
 * types) and re-serialised by {@link csvLine}; with `reject`, bad rows are collected instead.
 *
 * @example
 * const { header, units, rejects } = await parsedUnits(items, ctx, { declared: {}, reject: true, maxRejects: 10 });
 */
export async function parsedUnits(
  items: CsvItems,
  ctx: CsvContext,
  o: ParsedUnitsOptions,
): Promise<CsvUnits> {
  const first = (await items.next()) as ParsedRecord | undefined;
  if (first === undefined) throw emptyFile(ctx);
  const header = (Array.isArray(first) ? first : first.record).map(fieldText);
  const checks = checkHeader(header, o.declared, ctx);
  const keep = o.cursor?.filterFor(header);
  const rejects: CsvReject[] = [];
  const units = async function* (): AsyncGenerator<Unit> {
    for (let item = (await items.next()) as ParsedRecord | undefined; item !== undefined; ) {
      const record = Array.isArray(item) ? item : item.record;
      const line = Array.isArray(item) ? 0 : (item.info?.lines ?? 0);
      const bad = recordProblem(record, line, header, checks, ctx);
      if (bad === undefined) {
        if (keep === undefined || keep(record, line)) {
          const text = csvLine(record);
          yield { data: text, rows: 1, size: text.length };
        }
        if (o.cursor?.exhausted()) return;
      } else if (!o.reject) {
        throw bad;
      } else {
        const raw = Array.isArray(item) ? '' : (item.raw ?? '');
        rejects.push({ line, reason: bad.code, raw: raw.replace(/\r?\n$/, '').replaceAll('\0', '\\0') });
        if (rejects.length > o.maxRejects) {
          throw new IngestError(
            'TOO_MANY_REJECTS',
            `${ctx.source}: more than ${o.maxRejects} bad rows in ${ctx.location} (last at line ${line})`,
            { ...ctx, line },
          );
        }
      }
      item = (await items.next()) as ParsedRecord | undefined;
    }
  };
  return { header, units: units(), rejects };
}

const fieldText = (f: CsvField): string => (f === QUOTED_EMPTY ? '' : f);

/** Why a record is bad (field count, NUL byte, declared type), or undefined when it is good. */
function recordProblem(
  fields: CsvField[],
  line: number,
  header: string[],
  checks: TypeCheck[],
  ctx: CsvContext,
): IngestError | undefined {
  if (fields.length !== header.length) {
    return new IngestError(
      'BAD_ROW',
      `${ctx.source}: line ${line} of ${ctx.location} has ${fields.length} fields, expected ${header.length} (header)`,
      { ...ctx, line },
    );
  }
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as CsvField;
    if (f !== QUOTED_EMPTY && f.includes('\0')) return nulByte(header[i], line, ctx);
  }
  for (const check of checks) {
    if (!isValidValue(check.type, fieldText(fields[check.index] as CsvField)))
      return badValue(check, line, ctx);
  }
  return undefined;
}
