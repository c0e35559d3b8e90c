import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import { IngestError } from './errors.js';

/** Length of the incomplete UTF-8 sequence at the end of `buf` (0-3 bytes) to carry over. */
function incompleteTail(buf: Buffer): number {
  const n = buf.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = buf[n - back] as number;
    if ((b & 0xc0) !== 0x80) {
      // A lead byte: how long should its sequence be?
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      return need > back ? back : 0;
    }
  }
  return 0;
}

/** Offset of the first invalid UTF-8 byte (only called once validation failed). */
function firstInvalidOffset(buf: Buffer): number {
  let lo = 0;
  let hi = buf.length;
  // Largest prefix that decodes cleanly (allowing an incomplete tail) — binary search.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}

const countNewlines = (buf: Buffer, end: number): number => {
  let count = 0;
  let i = buf.indexOf(10);
  while (i !== -1 && i < end) {
    count++;
    i = buf.indexOf(10, i + 1);
  }
  return count;
};

/**
 * Incremental UTF-8 validation with `buffer.isUtf8` (SIMD) per chunk, carrying a multi-byte
 * sequence split across chunks into the next one. Throws `BAD_ENCODING` with the 1-based line of
 * the first bad byte; `lineBase()` says which line the next unchecked byte is on.
 */
export class Utf8Validator {
  private carry: Buffer | undefined;

  constructor(
    private readonly context: { source: string; location: string },
    private readonly lineBase: () => number,
  ) {}

  private fail(buf: Buffer): IngestError {
    const offset = firstInvalidOffset(buf);
    const line = this.lineBase() + countNewlines(buf, offset);
    const { source, location } = this.context;
    return new IngestError('BAD_ENCODING', `${source}: invalid UTF-8 at line ${line} of ${location}`, {
      source,
      location,
      line,
    });
  }

  /** The valid, complete bytes of `chunk` (plus any carried prefix); throws on invalid bytes. */
  check(chunk: Buffer): Buffer {
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const tail = incompleteTail(buf);
    const body = tail > 0 ? buf.subarray(0, buf.length - tail) : buf;
    if (!isUtf8(body)) throw this.fail(buf);
    this.carry = tail > 0 ? Buffer.from(buf.subarray(buf.length - tail)) : undefined;
    return body;
  }

  /** Throws when the input ended inside a multi-byte sequence. */
  end(): void {
    if (this.carry && this.carry.length > 0) throw this.fail(this.carry);
  }
}

/**
 * A pass-through stream over {@link Utf8Validator} that counts lines itself (used in front of
 * csv-parse; the fast path validates inside its own loop, where lines are already counted).
 */
export function createUtf8Guard(context: { source: string; location: string }): Transform {
  let lines = 1;
  const validator = new Utf8Validator(context, () => lines);
  return new Transform({
    readableHighWaterMark: 1 << 20,
    writableHighWaterMark: 1 << 20,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        const body = validator.check(chunk);
        lines += countNewlines(body, body.length);
        callback(null, body);
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        validator.end();
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
