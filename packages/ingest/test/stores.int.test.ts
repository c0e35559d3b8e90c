import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { listOpenUploads, useTestBucket } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { createFsStore, createS3Store, IngestError, openLake } from '../src/index.js';
import { useTempDir } from './helpers.js';
import { storeContract } from './store-contract.js';

const s3 = useTestBucket();
const tempDir = useTempDir();

async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('S3 store', () => {
  const open = () =>
    createS3Store({
      client: s3.client,
      bucket: s3.bucket,
      prefix: `${s3.prefix}contract`,
      partSize: 5 * 1024 * 1024,
    });
  storeContract('s3', open, async () => {
    expect(await listOpenUploads(s3.client, s3.bucket, s3.prefix)).toEqual([]);
  });

  it('openLake(s3://) uses the endpoint, path-style and the prefix', async () => {
    const lake = openLake(`s3://${s3.bucket}/${s3.prefix}lake`, {
      endpoint: s3.s3.endpoint,
      region: s3.s3.region,
      credentials: { accessKeyId: s3.s3.accessKeyId, secretAccessKey: s3.s3.secretAccessKey },
    });
    try {
      expect(lake.url).toBe(`s3://${s3.bucket}/${s3.prefix}lake/`);
      await lake.putBytes('x/y.txt', 'via lake');
      const direct = createS3Store({ client: s3.client, bucket: s3.bucket, prefix: s3.prefix });
      expect(await direct.exists('lake/x/y.txt')).toBe(true);
    } finally {
      lake.close?.();
    }
  });

  it('openLake reads the endpoint from AWS_ENDPOINT_URL_S3', async () => {
    const lake = openLake(`s3://${s3.bucket}/${s3.prefix}env`, {
      env: { AWS_ENDPOINT_URL_S3: s3.s3.endpoint },
      credentials: { accessKeyId: s3.s3.accessKeyId, secretAccessKey: s3.s3.secretAccessKey },
    });
    try {
      await lake.putBytes('k.txt', 'v');
      expect(await lake.exists('k.txt')).toBe(true);
    } finally {
      lake.close?.();
    }
  });
});

describe('filesystem store', () => {
  const open = () => createFsStore({ root: join(tempDir(), 'contract') });
  storeContract('fs', open, async () => {
    const files = await allFiles(tempDir()).catch(() => []);
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('openLake accepts file:///abs, file://relative and plain paths', async () => {
    const cwd = tempDir();
    const a = openLake('file://lake-rel', { cwd });
    const b = openLake(`file://${join(cwd, 'lake-rel')}`);
    const c = openLake('lake-rel', { cwd });
    await a.putBytes('one.txt', '1');
    expect(await b.exists('one.txt')).toBe(true);
    expect(await c.exists('one.txt')).toBe(true);
    expect(a.url).toBe(b.url);
  });

  it('openLake rejects unknown schemes', () => {
    expect(() => openLake('ftp://host/x')).toThrow(IngestError);
  });
});
