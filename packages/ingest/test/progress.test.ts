import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFsStore,
  createProgressCounter,
  dailyInterval,
  ingestApi,
  ingestCsv,
  type TransferProgress,
} from '../src/index.js';
import { useTempDir } from './helpers.js';

const tempDir = useTempDir();
const day = dailyInterval('2024-01-15');

describe('createProgressCounter', () => {
  it('reports at most once per interval, and always on flush with the final counts', () => {
    let t = 0;
    const seen: TransferProgress[] = [];
    const counter = createProgressCounter((p) => seen.push(p), {
      totalBytes: 100,
      intervalMs: 50,
      now: () => t,
    });
    counter.addBytes(10); // first add reports at once
    t = 20;
    counter.addBytes(10);
    counter.addRows(3);
    t = 60;
    counter.addRows(1);
    t = 70;
    counter.addBytes(5);
    counter.flush();
    expect(seen).toEqual([
      { rows: 0, bytes: 10, totalBytes: 100 },
      { rows: 4, bytes: 20, totalBytes: 100 },
      { rows: 4, bytes: 25, totalBytes: 100 },
    ]);
  });

  it('ignores a callback that throws (progress never fails the transfer)', () => {
    const counter = createProgressCounter(() => {
      throw new Error('display broke');
    });
    expect(() => {
      counter.addRows(1);
      counter.flush();
    }).not.toThrow();
  });

  it('is a no-op without a callback', () => {
    const counter = createProgressCounter(undefined);
    counter.addRows(1);
    counter.addBytes(1);
    counter.flush();
  });
});

function csv(rows: number): string {
  let out = 'id,name,amount\n';
  for (let i = 1; i <= rows; i++) out += `${i},"customer ${i}",${(i * 1.25).toFixed(2)}\n`;
  return out;
}

describe('ingestCsv onProgress', () => {
  const cases = [
    ['byte scanner (plain file)', 'plain.csv', {}, false],
    ['csv-parse path (declared columns)', 'typed.csv', { columns: { id: 'integer' } }, false],
    ['gzipped file', 'zipped.csv.gz', {}, true],
  ] as const;
  for (const [name, file, options, gz] of cases) {
    it(`${name}: ends with every row and every source byte, the file's size as total`, async () => {
      const text = csv(5000);
      const body = gz ? gzipSync(text) : Buffer.from(text);
      const path = join(tempDir(), file);
      await writeFile(path, body);
      const seen: TransferProgress[] = [];
      const manifest = await ingestCsv({
        source: 'orders',
        location: path,
        interval: day,
        store: createFsStore({ root: join(tempDir(), `lake-${file}`) }),
        options: { ...options, partBytes: 16 * 1024 },
        onProgress: (p) => seen.push(p),
      });
      expect(manifest.rows).toBe(5000);
      expect(seen.at(-1)).toEqual({ rows: 5000, bytes: body.length, totalBytes: body.length });
      for (const [i, p] of seen.entries()) {
        if (i > 0) expect(p.rows).toBeGreaterThanOrEqual((seen[i - 1] as TransferProgress).rows);
        expect(p.bytes).toBeLessThanOrEqual(body.length);
      }
    });
  }
});

describe('ingestApi onProgress', () => {
  let server: Server;
  let url = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      const page = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('page') ?? '1');
      const data = page <= 2 ? Array.from({ length: 10 }, (_, i) => ({ id: (page - 1) * 10 + i })) : [];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/items`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('ends with every record and the bytes landed (no total: an API has no size)', async () => {
    const seen: TransferProgress[] = [];
    const manifest = await ingestApi({
      source: 'items',
      interval: day,
      store: createFsStore({ root: join(tempDir(), 'lake-api') }),
      request: { url },
      records: 'data',
      paginate: { type: 'page', pageParam: 'page' },
      onProgress: (p) => seen.push(p),
    });
    expect(manifest.rows).toBe(20);
    const last = seen.at(-1) as TransferProgress;
    expect(last.rows).toBe(20);
    // NDJSON: one line per record, `{"id":N}\n`.
    const expected = Array.from({ length: 20 }, (_, i) => `${JSON.stringify({ id: i })}\n`).join('').length;
    expect(last.bytes).toBe(expected);
    expect(last.totalBytes).toBeUndefined();
  });
});
