import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsStore, type ObjectStore, type TransferProgress } from '@dataflow/ingest';
import { useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPartition } from '../src/index.js';
import { csv, day, writePartition } from './lake-fixture.js';

const db = useTestDatabase();
let dir: string;
let store: ObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warehouse-progress-'));
  store = createFsStore({ root: join(dir, 'lake') });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cols = ['id', 'amount'];
const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => [from + i, (from + i) * 2]);

describe('loadPartition onProgress', () => {
  it.each([
    ['replace_partition', false],
    ['merge', true],
  ] as const)('%s (gzip %s): ends with the manifest totals, counts only grow', async (disposition, gzip) => {
    const source = `progress_${disposition}`;
    const manifest = await writePartition(store, {
      source,
      ds: '2024-03-01',
      columns: cols,
      gzip,
      files: [csv(cols, rows(1, 300)), csv(cols, rows(301, 200))],
    });
    const seen: TransferProgress[] = [];
    const result = await loadPartition(db.pool, {
      store,
      source,
      interval: day('2024-03-01'),
      schema: db.schema,
      disposition,
      ...(disposition === 'merge' ? { primaryKey: ['id'] } : {}),
      columns: { id: 'integer', amount: 'integer' },
      runId: 'run-progress',
      onProgress: (p) => seen.push(p),
    });
    expect(result.rowsLoaded).toBe(500);
    expect(seen.at(-1)).toEqual({
      rows: 500,
      bytes: manifest.bytes,
      totalBytes: manifest.bytes,
      totalRows: 500,
    });
    for (const [i, p] of seen.entries()) {
      if (i === 0) continue;
      const prev = seen[i - 1] as TransferProgress;
      expect(p.bytes).toBeGreaterThanOrEqual(prev.bytes);
      expect(p.rows).toBeGreaterThanOrEqual(prev.rows);
    }
  });
});
