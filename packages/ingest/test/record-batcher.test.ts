import { describe, expect, it } from 'vitest';
import { RecordBatcher } from '../src/record-batcher.js';

const text = (batches: Array<{ bytes: Buffer; rows: number }>) =>
  batches.map((b) => [b.bytes.toString(), b.rows]);

describe('RecordBatcher (record bytes → batches)', () => {
  it('passes LF records through, turns CRLF into LF and adds a missing final LF', () => {
    const b = Buffer.from('a,1\r\nb,2\nc,3');
    const out = new RecordBatcher(b, 1 << 20);
    out.record(0, 3, 5, true, false);
    out.record(5, 8, 9, false, false);
    out.record(9, 12, 14, false, false);
    out.flush(b.length);
    expect(text(out.batches)).toEqual([['a,1\nb,2\nc,3\n', 3]]);
  });

  it('cuts skipped bytes out and quotes a lone \\. record', () => {
    const b = Buffer.from('h\n\n\\.\nx\n');
    const out = new RecordBatcher(b, 1 << 20);
    out.skip(0, 2); // header
    out.skip(2, 3); // blank line
    out.record(3, 5, 6, false, true);
    out.record(6, 7, 8, false, true);
    out.flush(b.length);
    expect(text(out.batches)).toEqual([['"\\."\nx\n', 2]]);
  });

  it('closes a batch once it reaches maxBatchBytes, between records', () => {
    const b = Buffer.from('aa\nbb\ncc\n');
    const out = new RecordBatcher(b, 5);
    out.record(0, 2, 3, false, true);
    out.record(3, 5, 6, false, true);
    out.record(6, 8, 9, false, true);
    out.flush(b.length);
    expect(text(out.batches)).toEqual([
      ['aa\nbb\n', 2],
      ['cc\n', 1],
    ]);
  });
});
