import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { useTestBucket } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsStore, createS3Store, IngestError, isIngestError } from '../src/index.js';
import { useTempDir } from './helpers.js';

const tempDir = useTempDir();
const s3 = useTestBucket();
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const body = () => Readable.from([Buffer.alloc(1024, 'z')]);

const failure = async (p: Promise<unknown>): Promise<IngestError> => {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(e instanceof IngestError)) throw new Error(`expected an IngestError, got ${String(e)}`);
  return e;
};

/** A loopback "S3" that answers GetObject with a body that dies after a few bytes. */
let dying: Server;
let dyingUrl = '';
beforeAll(async () => {
  dying = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': '100000', 'content-type': 'text/csv' });
    res.write('id,name\n1,a\n');
    setTimeout(() => res.socket?.destroy(), 50);
  });
  await new Promise<void>((resolve) => dying.listen(0, '127.0.0.1', resolve));
  dyingUrl = `http://127.0.0.1:${(dying.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => dying.close(() => resolve())));

describe('store errors keep their real cause in the one-line message', () => {
  it('s3 put to a missing bucket says NoSuchBucket and is not retryable', async () => {
    const store = createS3Store({ bucket: 'no-such-bucket-here', endpoint: s3.s3.endpoint, credentials });
    for (const write of [() => store.put('a/b.csv', body()), () => store.putBytes('a/b.csv', 'x')]) {
      const error = await failure(write());
      expect(error.code).toBe('STORE');
      expect(error.message).toMatch(/s3 put(Bytes)? failed for a\/b\.csv \(HTTP 404 NoSuchBucket\)/);
      expect(error.retryable).toBe(false);
    }
    store.close?.();
  });

  it('s3 put to a refused connection says ECONNREFUSED and is retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const store = createS3Store({ bucket: 'b', endpoint: `http://127.0.0.1:${port}`, credentials });
    const error = await failure(store.putBytes('a/b.csv', 'x'));
    expect(error.message).toMatch(/s3 putBytes failed for a\/b\.csv \(ECONNREFUSED\)/);
    expect(error.retryable).toBe(true);
    store.close?.();
  });

  it('a filesystem write error keeps the OS reason (ENOTDIR here, ENOSPC on a full disk)', async () => {
    const file = join(tempDir(), 'not-a-dir');
    await writeFile(file, 'x');
    const store = createFsStore({ root: file });
    const error = await failure(store.put('a/b.csv', body()));
    expect(error.message).toMatch(/filesystem store: put failed for key a\/b\.csv: (ENOTDIR|EEXIST)/);
  });

  it('a dead S3 body stream is an S3 read failure naming the object, not a failure of the reader', async () => {
    const store = createS3Store({ bucket: 'lake', endpoint: dyingUrl, credentials });
    const stream = await store.get('orders/dt=2024-01-01/part-00000-aaaaaaaa.csv');
    const error = await failure(
      (async () => {
        for await (const _chunk of stream);
      })(),
    );
    expect(isIngestError(error, 'STORE')).toBe(true);
    expect(error.message).toMatch(
      /^s3 get: body of orders\/dt=2024-01-01\/part-00000-aaaaaaaa\.csv failed mid-stream/,
    );
    expect(error.retryable).toBe(true);
    store.close?.();
  });

  it('s3rver ignores If-None-Match, so the probe reports no atomic create there', async () => {
    const store = createS3Store({ client: s3.client, bucket: s3.bucket, prefix: `${s3.prefix}probe` });
    expect(await store.putIfAbsent?.('x/_lock', '{}')).toBe('unsupported');
    const fs = createFsStore({ root: join(tempDir(), 'probe') });
    expect(await fs.putIfAbsent?.('x/_lock', '{}')).toBe('created');
    expect(await fs.putIfAbsent?.('x/_lock', '{}')).toBe('exists');
  });
});
