import { parse } from 'csv-parse/sync';
import { IngestError } from './errors.js';
import { RecordBatcher, type ScanBatch } from './record-batcher.js';

export type { ScanBatch } from './record-batcher.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;
const AFTER_CR = 4;

const MAX_RECORD_BYTES = 128 * 1024 * 1024;

/** A declared-type check of one column, applied by the scanner to every data record. */
export interface FieldCheck {
  /** 0-based field index. */
  index: number;
  /** True when the (unquoted, non-empty) value is acceptable. */
  valid: (value: string) => boolean;
  /** The same check on the field's undecoded bytes (non-empty, without `""` escapes), if available. */
  validBytes?: ((b: Uint8Array, start: number, end: number) => boolean) | undefined;
  /** The error for an invalid value on `line`. */
  fail: (line: number) => Error;
}

/** Called once with the header; may throw (BAD_HEADER) and returns the checks of data records. */
export type HeaderHook = (header: string[]) => FieldCheck[];

/**
 * Fast path of ingestCsv for comma-separated input (without rejects or relaxQuotes): a byte-level RFC 4180
 * validator that checks exactly what the csv-parse path checks (strict quotes, equal field
 * counts, BOM, blank lines skipped) and passes valid record bytes through unchanged, except that
 * record terminators become LF. Quoted fields stay quoted as written — the records a reader
 * parses are identical to the csv-parse path's output (a differential test holds it to that).
 * It exists because csv-parse → strings → re-serialise costs ~15× its CPU on the hot path.
 * Declared types come from the `onHeader` hook's checks, applied to each data record's fields.
 */
export class CsvScanner {
  header: string[] | undefined;
  private expected = 0;
  private state = FIELD_START;
  private fields = 0;
  private line = 1;
  /**
   * CRs inside quoted fields so far. csv-parse counts every CR and LF inside quotes as a line
   * (a quoted CRLF is two), so reported lines are `line + quotedCr` to match its numbers.
   */
  private quotedCr = 0;
  private carry: Buffer | undefined;
  private started = false;
  private readonly maxBatchBytes: number;
  /** The header hook's checks, in its order (which decides which failure is reported). */
  private declared: FieldCheck[] = [];
  /** The same checks by field index, for the single pass over a record. */
  private checks: FieldCheck[] = [];

  constructor(
    private readonly context: { source: string; location: string },
    maxBatchBytes: number,
    private readonly onHeader?: HeaderHook,
  ) {
    this.maxBatchBytes = Math.max(1, maxBatchBytes);
  }

  /**
   * The error for a record that failed a check: of its invalid values, the one whose check comes
   * first in the hook's order, as the record-by-record path reports it.
   */
  private firstFailure(b: Buffer, start: number, end: number, line: number): Error {
    const fields = (parse(b.subarray(start, end), { bom: false }) as string[][])[0] ?? [];
    for (const check of this.declared) {
      const value = fields[check.index] ?? '';
      if (value !== '' && !check.valid(value)) return check.fail(line);
    }
    // Unreachable while validBytes and valid agree (tested); fail on the first declared check.
    return (this.declared[0] as FieldCheck).fail(line);
  }

  /**
   * Splits the valid record `b[start, end)` just far enough to decode the checked fields
   * (quotes removed, `""` unescaped) and validates them; empty values are NULL and always valid.
   */
  private checkFields(b: Buffer, start: number, end: number, line: number): void {
    const checks = this.checks;
    let k = 0;
    let check = checks[0] as FieldCheck;
    let field = 0;
    let i = start;
    for (;;) {
      let next: number;
      let checked = false;
      if (i < end && b[i] === QUOTE) {
        // The record is valid RFC 4180: the closing quote is followed by a comma or the end.
        let j = i + 1;
        let escaped = false;
        for (;;) {
          j = b.indexOf(QUOTE, j);
          if (j + 1 < end && b[j + 1] === QUOTE) {
            escaped = true;
            j += 2;
          } else break;
        }
        if (field === check.index) {
          checked = true;
          if (j > i + 1) {
            const ok =
              check.validBytes && !escaped
                ? check.validBytes(b, i + 1, j)
                : check.valid(
                    escaped
                      ? b.toString('utf8', i + 1, j).replaceAll('""', '"')
                      : b.toString('utf8', i + 1, j),
                  );
            if (!ok) throw this.firstFailure(b, start, end, line);
          }
        }
        next = j + 1;
      } else {
        let j = i;
        while (j < end && b[j] !== COMMA) j++;
        if (field === check.index) {
          checked = true;
          if (
            j > i &&
            !(check.validBytes ? check.validBytes(b, i, j) : check.valid(b.toString('utf8', i, j)))
          ) {
            throw this.firstFailure(b, start, end, line);
          }
        }
        next = j;
      }
      if (checked) {
        if (++k >= checks.length) return;
        check = checks[k] as FieldCheck;
      }
      if (next >= end) return;
      field++;
      i = next + 1;
    }
  }

  private fail(reason: string, line: number): IngestError {
    const { source, location } = this.context;
    return new IngestError('BAD_ROW', `${source}: malformed CSV at line ${line} of ${location} (${reason})`, {
      source,
      location,
      line,
    });
  }

  /** The 1-based line of the next byte to scan (lines end at every LF, quoted or not). */
  get currentLine(): number {
    return this.line;
  }

  /** Where the next byte to scan is: its line as csv-parse counts it, and its 0-based field. */
  get position(): { line: number; field: number } {
    return { line: this.line + this.quotedCr, field: this.fields };
  }

  /** Scans a chunk; returns the batches of records completed by it. Throws BAD_ROW / BAD_HEADER. */
  push(chunk: Buffer): ScanBatch[] {
    let b = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    // Carried bytes were already scanned, except before the start (a possible partial BOM).
    let from = this.carry && this.started ? this.carry.length : 0;
    this.carry = undefined;
    if (!this.started) {
      if (b.length < 3 && (b.length === 0 || b[0] === 0xef)) {
        this.carry = Buffer.from(b);
        return [];
      }
      this.started = true;
      if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
      from = 0;
    }
    return this.scan(b, from, false);
  }

  /** Flushes the last record (which may lack a terminator). Throws on an unclosed quote. */
  end(): ScanBatch[] {
    let b = this.carry ?? Buffer.alloc(0);
    this.carry = undefined;
    if (!this.started) {
      this.started = true;
      if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
      return this.scan(b, 0, true);
    }
    return this.scan(b, b.length, true);
  }

  /**
   * Ends the record `[start, termStart)` (terminator ending before `next`) with `count` fields at
   * csv-parse line `at`: a blank line is skipped, the first record is the header, data records
   * are counted, checked and batched.
   */
  private endRecord(
    out: RecordBatcher,
    b: Buffer,
    start: number,
    termStart: number,
    next: number,
    crlf: boolean,
    count: number,
    at: number,
  ): void {
    if (termStart === start && count === 1) {
      // Blank line: skipped, like csv-parse's skip_empty_lines.
      out.skip(termStart, next);
    } else if (this.header === undefined) {
      this.header =
        (parse(b.subarray(start, termStart), { bom: false, relax_quotes: false }) as string[][])[0] ?? [];
      this.expected = count;
      if (this.onHeader) {
        this.declared = this.onHeader(this.header);
        this.checks = [...this.declared].sort((x, y) => x.index - y.index);
      }
      out.skip(start, next);
    } else {
      if (count !== this.expected) {
        const { source, location } = this.context;
        throw new IngestError(
          'BAD_ROW',
          `${source}: line ${at} of ${location} has ${count} fields, expected ${this.expected} (header)`,
          { source, location, line: at },
        );
      }
      if (this.checks.length > 0) this.checkFields(b, start, termStart, at);
      out.record(start, termStart, next, crlf, count === 1);
    }
  }

  /** The byte loop: RFC 4180 states over `b[from…]`; records go to a {@link RecordBatcher}. */
  private scan(b: Buffer, from: number, atEnd: boolean): ScanBatch[] {
    const out = new RecordBatcher(b, this.maxBatchBytes);
    let recStart = 0; // start of the current (incomplete) record
    let state = this.state;
    let fields = this.fields;
    let line = this.line;
    let crs = this.quotedCr;
    const n = b.length;

    const bytes: Uint8Array = b;
    const len = n;
    for (let i = from; i < len; i++) {
      let c = bytes[i] as number;
      if (state === QUOTED) {
        // Fast skip inside quotes: only `"` and LF matter.
        while (c !== QUOTE) {
          if (c === LF) line++;
          else if (c === CR) crs++;
          if (++i >= len) break;
          c = bytes[i] as number;
        }
        if (i < len) state = QUOTE_IN_QUOTED;
        continue;
      }
      if (state === UNQUOTED) {
        // Fast skip of ordinary bytes: everything above ',' (letters, digits, . - : / …) and
        // the few below it that are not special.
        while (c > COMMA || (c !== COMMA && c !== LF && c !== CR && c !== QUOTE)) {
          if (++i >= len) break;
          c = bytes[i] as number;
        }
        if (i >= len) break;
      }
      if (state === AFTER_CR && c !== LF) {
        throw this.fail('carriage return not followed by a line feed', line + crs);
      }
      if (c === COMMA) {
        fields++;
        state = FIELD_START;
      } else if (c === LF) {
        if (state === AFTER_CR) {
          this.endRecord(out, b, recStart, i - 1, i + 1, true, fields + 1, line + crs);
        } else {
          this.endRecord(out, b, recStart, i, i + 1, false, fields + 1, line + crs);
        }
        line++;
        fields = 0;
        state = FIELD_START;
        recStart = i + 1;
      } else if (c === CR) {
        state = AFTER_CR;
      } else if (c === QUOTE) {
        if (state === FIELD_START) state = QUOTED;
        else if (state === QUOTE_IN_QUOTED)
          state = QUOTED; // "" escape
        else throw this.fail('quote inside an unquoted field', line + crs);
      } else if (state === QUOTE_IN_QUOTED) {
        throw this.fail('invalid closing quote', line + crs);
      } else {
        state = UNQUOTED;
      }
    }

    if (atEnd) {
      if (state === QUOTED) {
        // Like csv-parse, which counts a CR or LF only when another byte follows it.
        const last = b[n - 1];
        throw this.fail(
          'quoted field not closed at end of file',
          line + crs - (last === LF || last === CR ? 1 : 0),
        );
      }
      // A final record without terminator (or ending in a lone CR) gets an LF.
      if (state === AFTER_CR) this.endRecord(out, b, recStart, n - 1, n + 1, false, fields + 1, line + crs);
      else if (recStart < n) this.endRecord(out, b, recStart, n, n + 1, false, fields + 1, line + crs);
      recStart = n;
      out.flush(n);
    } else {
      out.flush(recStart);
      if (recStart < n) {
        if (n - recStart > MAX_RECORD_BYTES)
          throw this.fail(`record larger than ${MAX_RECORD_BYTES} bytes`, line + crs);
        this.carry = Buffer.from(b.subarray(recStart));
      }
    }
    this.state = state;
    this.fields = fields;
    this.line = line;
    this.quotedCr = crs;
    return out.batches;
  }
}
