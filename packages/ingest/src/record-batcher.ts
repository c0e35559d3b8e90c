/** Complete records, LF-terminated, ready to store. */
export interface ScanBatch {
  bytes: Buffer;
  rows: number;
}

/** A lone `\.` is COPY's end-of-data marker; quoted, it is the text it says. */
const QUOTED_END_MARKER = Buffer.from('"\\."\n');
const LF_BYTE = Buffer.from('\n');

/**
 * Collects the records of one scanned buffer into batches of about `maxBatchBytes`, as slices of
 * the buffer where the bytes pass unchanged (copied only when a batch spans several slices):
 * CRLF terminators become LF, a missing final terminator is added, a lone `\.` is quoted, and
 * skipped bytes (blank lines, the header) are cut out. Positions are offsets into `b`.
 */
export class RecordBatcher {
  readonly batches: ScanBatch[] = [];
  private readonly segments: Buffer[] = [];
  /** Start of the bytes not yet copied into `segments`. */
  private segStart = 0;
  private batchBytes = 0;
  private batchRows = 0;

  constructor(
    private readonly b: Buffer,
    private readonly maxBatchBytes: number,
  ) {}

  /** Drops `[from, to)` (a blank line or the header with its terminator). */
  skip(from: number, to: number): void {
    if (from > this.segStart) this.segments.push(this.b.subarray(this.segStart, from));
    this.segStart = to;
  }

  /**
   * Adds the record `[start, termStart)` whose terminator ends before `next` (`next > b.length`:
   * the final record had no terminator); `lone`: the record has a single field.
   */
  record(start: number, termStart: number, next: number, crlf: boolean, lone: boolean): void {
    const b = this.b;
    const n = b.length;
    if (lone && termStart - start === 2 && b[start] === 0x5c && b[start + 1] === 0x2e) {
      this.segments.push(b.subarray(this.segStart, start), QUOTED_END_MARKER);
      this.segStart = Math.min(next, n);
      this.batchBytes += QUOTED_END_MARKER.length;
    } else if (crlf) {
      // Drop the CR of the terminator; the LF that follows starts the next segment.
      this.segments.push(b.subarray(this.segStart, termStart));
      this.segStart = termStart + 1;
      this.batchBytes += termStart - start + 1;
    } else {
      this.batchBytes += next - start;
      if (next > n) {
        this.segments.push(b.subarray(this.segStart, termStart), LF_BYTE);
        this.segStart = n;
      }
    }
    this.batchRows++;
    if (this.batchBytes >= this.maxBatchBytes) this.flush(Math.min(next, n));
  }

  /** Closes the current batch at `end` (the start of the first byte not yet part of a record). */
  flush(end: number): void {
    if (end > this.segStart) this.segments.push(this.b.subarray(this.segStart, end));
    this.segStart = end;
    if (this.batchRows > 0) {
      const segments = this.segments;
      this.batches.push({
        bytes: segments.length === 1 ? (segments[0] as Buffer) : Buffer.concat(segments),
        rows: this.batchRows,
      });
    }
    this.segments.length = 0;
    this.batchBytes = 0;
    this.batchRows = 0;
  }
}
