import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { from as copyFrom } from 'pg-copy-streams';
import { describe, expect, it } from 'vitest';
import { listOpenUploads, useTestBucket, useTestDatabase } from '../src/index.js';

describe('test services are real servers', () => {
  const db = useTestDatabase();
  const s3 = useTestBucket();

  it('PostgreSQL accepts a COPY and reads the rows back', async () => {
    await db.pool.query('create table harness_copy (id int primary key, name text)');
    const client = await db.pool.connect();
    try {
      const sink = client.query(copyFrom('COPY harness_copy (id, name) FROM STDIN WITH (FORMAT csv)'));
      await pipeline(Readable.from(['1,alpha\n2,"b,eta"\n', '3,\n']), sink);
      expect(sink.rowCount).toBe(3);
    } finally {
      client.release();
    }
    const { rows } = await db.pool.query('select id, name from harness_copy order by id');
    expect(rows).toEqual([
      { id: 1, name: 'alpha' },
      { id: 2, name: 'b,eta' },
      { id: 3, name: null },
    ]);
    const version = await db.pool.query<{ v: string }>("select current_setting('server_version_num') as v");
    expect(Number(version.rows[0]?.v)).toBeGreaterThanOrEqual(150000);
  });

  it('each test file gets its own schema', async () => {
    const { rows } = await db.pool.query<{ s: string }>('select current_schema() as s');
    expect(rows[0]?.s).toBe(db.schema);
  });

  it('S3 store completes a 2-part multipart upload and lists it', async () => {
    const partSize = 5 * 1024 * 1024;
    const total = partSize + 1024 * 1024; // 6 MiB: two parts
    const key = `${s3.prefix}multipart/blob.bin`;
    let parts = 0;
    const upload = new Upload({
      client: s3.client,
      params: { Bucket: s3.bucket, Key: key, Body: Readable.from(chunks(total)) },
      partSize,
      queueSize: 2,
    });
    upload.on('httpUploadProgress', (p) => {
      if (p.part) parts = Math.max(parts, p.part);
    });
    await upload.done();
    expect(parts).toBe(2);

    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: s3.prefix }));
    expect(listed.Contents?.map((o) => [o.Key, o.Size])).toEqual([[key, total]]);

    const got = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    const body = Buffer.from(
      await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    expect(body.length).toBe(total);
    expect(body[partSize]).toBe(partSize % 251);
    expect(await listOpenUploads(s3.client, s3.bucket, s3.prefix)).toEqual([]);
  });
});

function* chunks(total: number): Generator<Buffer> {
  const size = 256 * 1024;
  for (let offset = 0; offset < total; offset += size) {
    const n = Math.min(size, total - offset);
    const buf = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) buf[i] = (offset + i) % 251;
    yield buf;
  }
}
