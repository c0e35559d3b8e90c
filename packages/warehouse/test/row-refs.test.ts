import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { LakeStore, PartitionManifest } from '../src/lake.js';
import { formatRowRefs, LINE_LOOKUP_MAX_BYTES, resolveLines } from '../src/row-refs.js';

describe('formatRowRefs', () => {
  it('groups consecutive rows of a file and adds lines only where known', () => {
    expect(
      formatRowRefs([
        { file: 'a.csv', record: 4, line: 5 },
        { file: 'a.csv', record: 17 },
        { file: 'b.csv', record: 2, line: 3 },
      ]),
    ).toBe('a.csv records 4 (line 5), 17; b.csv record 2 (line 3)');
  });

  it('joins the rows sharing a duplicated key with custom separators', () => {
    expect(
      formatRowRefs(
        [
          { file: 'a.csv', record: 5, group: 1 },
          { file: 'a.csv', record: 9, group: 1 },
          { file: 'b.csv', record: 1, group: 1 },
        ],
        ' & ',
        ' & ',
      ),
    ).toBe('a.csv records 5 & 9 & b.csv record 1');
    expect(formatRowRefs([])).toBe('');
  });
});

describe('resolveLines', () => {
  const manifest = (bytes: number): PartitionManifest => ({
    version: 1,
    source: 's',
    partition: 'dt=2024-01-01',
    interval: { start: '2024-01-01', end: '2024-01-02' },
    runId: 'r',
    attempt: 'a1',
    createdAt: '2024-01-02T00:00:00.000Z',
    format: 'csv',
    compression: 'none',
    columns: ['id', 'note'],
    files: [{ key: 'p.csv', rows: 3, bytes, sha256: '' }],
    rows: 3,
    bytes,
  });
  const body = 'id,note\n1,"a\nb"\n,x\n3,y\n';
  const reads: string[] = [];
  const store = {
    get: async (key: string) => {
      reads.push(key);
      if (key !== 'p.csv') throw new Error('no such key');
      return Readable.from([Buffer.from(body)]);
    },
  } as unknown as LakeStore;

  it('finds physical lines by re-reading the file, multi-line records counted', async () => {
    expect(await resolveLines(store, manifest(body.length), [{ file: 'p.csv', record: 2 }])).toEqual([
      { file: 'p.csv', record: 2, line: 4 },
    ]);
  });

  it('does not re-read files beyond the size budget, and keeps refs when a read fails', async () => {
    reads.length = 0;
    const refs = [{ file: 'p.csv', record: 2 }];
    expect(await resolveLines(store, manifest(LINE_LOOKUP_MAX_BYTES + 1), refs)).toEqual(refs);
    expect(reads).toEqual([]);
    const missing = { ...manifest(10), files: [{ key: 'gone.csv', rows: 1, bytes: 10, sha256: '' }] };
    expect(await resolveLines(store, missing, [{ file: 'gone.csv', record: 1 }])).toEqual([
      { file: 'gone.csv', record: 1 },
    ]);
    expect(reads).toEqual(['gone.csv']);
  });

  it('shares the size budget across files: a second file that would exceed it is skipped', async () => {
    reads.length = 0;
    const big = Math.ceil(LINE_LOOKUP_MAX_BYTES * 0.6);
    const two = {
      ...manifest(big),
      files: [
        { key: 'p.csv', rows: 3, bytes: big, sha256: '' },
        { key: 'q.csv', rows: 3, bytes: big, sha256: '' },
      ],
    };
    expect(
      await resolveLines(store, two, [
        { file: 'p.csv', record: 3 },
        { file: 'q.csv', record: 1 },
      ]),
    ).toEqual([
      { file: 'p.csv', record: 3, line: 5 },
      { file: 'q.csv', record: 1 },
    ]);
    expect(reads).toEqual(['p.csv']);
  });
});
