import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listOpenUploads, useTestBucket } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import {
  createFsStore,
  createS3Store,
  dailyInterval,
  type IncompleteWrite,
  ingestCsv,
  type ObjectStore,
  readManifest,
  sweepPartition,
} from '../src/index.js';
import { listKeys, readObject, useTempDir } from './helpers.js';
import { runWorker } from './workers/run-worker.js';

const tempDir = useTempDir();
const s3 = useTestBucket();
const day = dailyInterval('2024-08-01');

async function bigCsv(name: string, megabytes: number): Promise<string> {
  const path = join(tempDir(), name);
  const row = (i: number) => `${i},${(i * 7919).toString(36).padStart(12, 'q')},${'y'.repeat(60)}\n`;
  let text = 'id,code,payload\n';
  for (let i = 1; text.length < megabytes * 1024 * 1024; i++) text += row(i);
  await writeFile(path, text);
  return path;
}

async function incomplete(store: ObjectStore, prefix: string): Promise<IncompleteWrite[]> {
  const found: IncompleteWrite[] = [];
  for await (const w of store.listIncomplete?.(prefix) ?? []) found.push(w);
  return found;
}

describe('garbage of a killed run is collected', () => {
  it('fs: a killed ingest leaves a hidden .tmp- file and its attempt record; a sweep past the grace period removes both', async () => {
    const root = join(tempDir(), 'killed-fs');
    const result = await runWorker({
      store: { kind: 'fs', root },
      source: 'killed',
      day: day.start,
      input: await bigCsv('killed-fs.csv', 4),
      gzip: false,
      killMidUpload: true,
    });
    expect(result.signal).toBe('SIGKILL');
    const store = createFsStore({ root });
    const temps = await incomplete(store, 'killed/');
    expect(temps).toEqual([
      {
        key: expect.stringMatching(/^killed\/dt=2024-08-01\/part-00000-[0-9a-f]{8}\.csv$/),
        id: expect.stringMatching(/^\.part-00000-.*\.tmp-/),
        started: expect.any(Date),
      },
    ]);
    expect(await listKeys(store, 'killed/')).toEqual([
      expect.stringMatching(/^killed\/dt=2024-08-01\/_attempts\/[0-9a-f]{8}\.json$/),
    ]);
    // Young garbage may belong to a live run: the default grace period leaves it alone.
    expect(await sweepPartition(store, 'killed', day)).toEqual({ deleted: [], aborted: [] });
    const swept = await sweepPartition(store, 'killed', day, { graceMs: 0 });
    expect(swept.aborted.map((w) => w.id)).toEqual([temps[0]?.id]);
    expect(swept.deleted).toHaveLength(1);
    expect(await incomplete(store, 'killed/')).toEqual([]);
    expect(await listKeys(store, 'killed/')).toEqual([]);
  });

  it('s3: a killed ingest leaves an open multipart upload whose id its attempt record names; the sweep aborts it by id', async () => {
    const prefix = `${s3.prefix}killed`;
    const result = await runWorker({
      store: {
        kind: 's3',
        endpoint: s3.s3.endpoint,
        bucket: s3.bucket,
        prefix,
        accessKeyId: s3.s3.accessKeyId,
        secretAccessKey: s3.s3.secretAccessKey,
      },
      source: 'killed',
      day: day.start,
      input: await bigCsv('killed-s3.csv', 14),
      gzip: false,
      killMidUpload: true,
    });
    expect(result.signal).toBe('SIGKILL');
    const store = createS3Store({ client: s3.client, bucket: s3.bucket, prefix });
    expect(await listOpenUploads(s3.client, s3.bucket, `${prefix}/killed/`)).toHaveLength(1);
    const [recordKey] = await listKeys(store, 'killed/dt=2024-08-01/_attempts/');
    const record = JSON.parse((await readObject(store, recordKey as string)).toString()) as {
      uploads: Array<{ key: string; id: string }>;
    };
    expect(record.uploads).toHaveLength(1);
    expect(await sweepPartition(store, 'killed', day)).toEqual({ deleted: [], aborted: [] });
    const swept = await sweepPartition(store, 'killed', day, { graceMs: 0 });
    expect(swept.aborted.map((w) => w.id)).toEqual([record.uploads[0]?.id]);
    expect(swept.deleted).toEqual([recordKey]);
    expect(await listOpenUploads(s3.client, s3.bucket, `${prefix}/killed/`)).toEqual([]);
    expect(await listKeys(store, 'killed/')).toEqual([]);
  });

  it('a commit never deletes another attempt’s files younger than the grace period, and sweeps older ones', async () => {
    const store: ObjectStore = createFsStore({ root: join(tempDir(), 'grace') });
    const input = join(tempDir(), 'grace.csv');
    await writeFile(input, 'id\n1\n2\n');
    const foreign = 'g/dt=2024-08-01/part-00000-0badf00d.csv.gz';
    await store.putBytes(foreign, 'a concurrent attempt’s part');
    const first = await ingestCsv({ source: 'g', location: input, interval: day, store });
    expect(await store.exists(foreign)).toBe(true);
    const second = await ingestCsv({ source: 'g', location: input, interval: day, store, graceMs: 0 });
    expect(await store.exists(foreign)).toBe(false);
    // The replaced manifest's files go at once; the new manifest's stay.
    expect(await store.exists(first.files[0]?.key as string)).toBe(false);
    expect(await readManifest(store, 'g', day)).toEqual(second);
    expect(await listKeys(store, 'g/')).toEqual(
      [second.files[0]?.key, 'g/dt=2024-08-01/_SUCCESS', 'g/dt=2024-08-01/_manifest.json'].sort(),
    );
  });
});
