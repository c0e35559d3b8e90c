import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { useTestBucket } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentLength } from '../src/csv-source.js';
import { createFsStore, dailyInterval, ingestCsv, type TransferProgress } from '../src/index.js';
import { useTempDir } from './helpers.js';

const tempDir = useTempDir();
const s3 = useTestBucket();
const day = dailyInterval('2024-01-15');

function csv(rows: number): string {
  let out = 'id,name,amount\n';
  for (let i = 1; i <= rows; i++) out += `${i},"customer ${i}",${(i * 1.25).toFixed(2)}\n`;
  return out;
}

const text = csv(5000);
const plain = Buffer.from(text);
const zipped = gzipSync(text);

async function ingestWithProgress(name: string, location: string, extra: object = {}) {
  const seen: TransferProgress[] = [];
  const manifest = await ingestCsv({
    source: 'orders',
    location,
    interval: day,
    store: createFsStore({ root: join(tempDir(), `lake-${name}`) }),
    options: { partBytes: 16 * 1024, ...extra },
    onProgress: (p) => seen.push(p),
  });
  expect(manifest.rows).toBe(5000);
  for (const p of seen) expect(p.bytes).toBeLessThanOrEqual(p.totalBytes ?? Number.POSITIVE_INFINITY);
  return seen.at(-1) as TransferProgress;
}

describe('ingestCsv onProgress: the total of remote sources (what the ETA needs)', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/sized.csv') res.writeHead(200, { 'content-length': String(plain.length) }).end(plain);
      else if (req.url === '/sized.csv.gz')
        res.writeHead(200, { 'content-length': String(zipped.length) }).end(zipped);
      else {
        // Chunked transfer: no content-length, so no total.
        res.writeHead(200, { 'content-type': 'text/csv' });
        res.write(plain.subarray(0, 1000));
        res.end(plain.subarray(1000));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("an HTTP source's content-length is the total (plain and gzipped, both paths)", async () => {
    expect(await ingestWithProgress('http', `${base}/sized.csv`)).toEqual({
      rows: 5000,
      bytes: plain.length,
      totalBytes: plain.length,
    });
    expect(
      await ingestWithProgress('http-parsed', `${base}/sized.csv`, { columns: { id: 'integer' } }),
    ).toEqual({
      rows: 5000,
      bytes: plain.length,
      totalBytes: plain.length,
    });
    expect(await ingestWithProgress('http-gz', `${base}/sized.csv.gz`)).toEqual({
      rows: 5000,
      bytes: zipped.length,
      totalBytes: zipped.length,
    });
  });

  it('a chunked HTTP response has no total (the bar shows rows and bytes only)', async () => {
    const last = await ingestWithProgress('chunked', `${base}/chunked.csv`);
    expect(last).toEqual({ rows: 5000, bytes: plain.length });
  });

  it("an S3 object's size is the total", async () => {
    const key = `${s3.prefix}progress/orders.csv`;
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: plain }));
    const last = await ingestWithProgress('s3', `s3://${s3.bucket}/${key}`, {
      s3: {
        endpoint: s3.s3.endpoint,
        region: s3.s3.region,
        credentials: { accessKeyId: s3.s3.accessKeyId, secretAccessKey: s3.s3.secretAccessKey },
      },
    });
    expect(last).toEqual({ rows: 5000, bytes: plain.length, totalBytes: plain.length });
  });

  it('reads content-length only when it is one non-negative integer', () => {
    expect(contentLength({ 'content-length': '42' })).toBe(42);
    expect(contentLength({})).toBeUndefined();
    expect(contentLength({ 'content-length': ['1', '2'] })).toBeUndefined();
    expect(contentLength({ 'content-length': '-1' })).toBeUndefined();
    expect(contentLength({ 'content-length': '99999999999999999999' })).toBeUndefined();
  });
});
