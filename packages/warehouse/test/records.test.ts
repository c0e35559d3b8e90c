import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chunkAtLeast } from '../src/index.js';
import { ndjsonToCsvRow, readCsvRecords, readNdjsonRecords, splitLines } from '../src/records.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('readCsvRecords', () => {
  it('keeps raw text, the record number and the physical start line of multi-line records', async () => {
    const csv = 'id,note\n1,"a\nb"\n2,\n3,""\n';
    const records = await collect(readCsvRecords(Readable.from([Buffer.from(csv)]), ['id', 'note'], 'f.csv'));
    expect(records).toEqual([
      { copy: '1,"a\nb"\n', raw: '1,"a\nb"', line: 2, record: 1 },
      { copy: '2,\n', raw: '2,', line: 4, record: 2 },
      { copy: '3,""\n', raw: '3,""', line: 5, record: 3 },
    ]);
  });

  it('rejects a header that differs from the manifest', async () => {
    await expect(
      collect(readCsvRecords(Readable.from(['x,y\n1,2\n']), ['id', 'note'], 'f.csv')),
    ).rejects.toMatchObject({
      code: 'HEADER_MISMATCH',
      line: 1,
    });
  });
});

describe('NDJSON', () => {
  it('converts objects to CSV rows: null → NULL, "" stays empty string, objects as JSON', () => {
    expect(ndjsonToCsvRow('{"a":1,"b":"x\\"y","c":null,"d":{"k":[1]}}', ['a', 'b', 'c', 'd', 'e'], 1)).toBe(
      '1,"x""y",,"{""k"":[1]}",\n',
    );
    expect(ndjsonToCsvRow('{"a":"","b":true}', ['a', 'b'], 1)).toBe('"",true\n');
  });

  it('flags bad lines with their line number instead of converting them', async () => {
    const body = '{"a":1}\n\nnot json\n[1]\n{"zz":1}\n{"a":2}';
    const records = await collect(readNdjsonRecords(Readable.from([body]), ['a']));
    // Record numbers skip blank lines, as the COPY of the converted file does.
    expect(records.map((r) => [r.line, r.record, r.copy ?? r.error])).toEqual([
      [1, 1, '1\n'],
      [3, 2, 'line is not valid JSON'],
      [4, 3, 'line is not a JSON object'],
      [5, 4, 'object has a key outside the manifest columns'],
      [6, 5, '2\n'],
    ]);
  });

  it('splits lines across chunk borders and multi-byte characters', async () => {
    const bytes = Buffer.from('ab\r\ncé\nd');
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 6), bytes.subarray(6)];
    expect(await collect(splitLines(Readable.from(chunks)))).toEqual(['ab', 'cé', 'd']);
  });
});

describe('chunkAtLeast', () => {
  it('emits chunks of at least the minimum, the last may be smaller, bytes preserved', async () => {
    const parts = Array.from({ length: 100 }, (_, i) => Buffer.alloc(1000, i));
    const out = await collect(
      chunkAtLeast(4096)(Readable.from(parts), { signal: new AbortController().signal }),
    );
    expect(out.slice(0, -1).every((b) => b.length >= 4096)).toBe(true);
    expect(Buffer.concat(out).equals(Buffer.concat(parts))).toBe(true);
    expect(out.length).toBe(20);
  });
});
