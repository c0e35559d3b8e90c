import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { useTestBucket } from '@dataflow/testkit';
import { parse } from 'csv-parse';
import { describe, expect, it } from 'vitest';
import { createFsStore, createS3Store, dailyInterval, type ObjectStore, readManifest } from '../src/index.js';
import { listKeys, useTempDir } from './helpers.js';
import { runWorker } from './workers/run-worker.js';

const tempDir = useTempDir();
const s3 = useTestBucket();
const day = '2024-07-01';

/** A CSV of `rows` rows tagged `tag` (so the winner's rows can be told apart). */
async function csvInput(name: string, rows: number, tag: string): Promise<string> {
  const path = join(tempDir(), name);
  let text = 'id,tag,payload\n';
  for (let i = 1; i <= rows; i++) text += `${i},${tag},${'x'.repeat(40)}-${i}\n`;
  await writeFile(path, text);
  return path;
}

/** Reads every file of the committed manifest as a loader would: bytes, sha256, rows. */
async function loadCommitted(
  store: ObjectStore,
  source: string,
): Promise<{ rows: number; tags: Set<string> }> {
  const manifest = await readManifest(store, source, dailyInterval(day));
  if (!manifest) throw new Error('nothing committed');
  let rows = 0;
  const tags = new Set<string>();
  for (const file of manifest.files) {
    const hash = createHash('sha256');
    let bytes = 0;
    const raw = await store.get(file.key);
    raw.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    let fileRows = -1; // the header
    for await (const record of raw.pipe(createGunzip()).pipe(parse())) {
      fileRows++;
      if (fileRows > 0) tags.add((record as string[])[1] as string);
    }
    expect(bytes).toBe(file.bytes);
    expect(hash.digest('hex')).toBe(file.sha256);
    expect(fileRows).toBe(file.rows);
    rows += fileRows;
  }
  expect(rows).toBe(manifest.rows);
  return { rows, tags };
}

const TRIALS = 5;

describe('two concurrent ingests of one partition', () => {
  for (const kind of ['fs', 's3'] as const) {
    it(`${kind}: two concurrent ingest of one partition: one writer wins cleanly, ${TRIALS} trials`, async () => {
      for (let trial = 0; trial < TRIALS; trial++) {
        const source = `race${trial}`;
        const store =
          kind === 'fs'
            ? ({ kind: 'fs', root: join(tempDir(), 'lake') } as const)
            : ({
                kind: 's3',
                endpoint: s3.s3.endpoint,
                bucket: s3.bucket,
                prefix: `${s3.prefix}race`,
                accessKeyId: s3.s3.accessKeyId,
                secretAccessKey: s3.s3.secretAccessKey,
              } as const);
        const barrier = await mkdtemp(join(tempDir(), `barrier-${kind}-`));
        await mkdir(barrier, { recursive: true });
        // Several parts each, so a deletion by the other attempt cannot go unnoticed.
        const inputs = [
          await csvInput(`${kind}-a${trial}.csv`, 3000, 'A'),
          await csvInput(`${kind}-b${trial}.csv`, 2000, 'B'),
        ];
        const results = await Promise.all(
          inputs.map((input, i) =>
            runWorker({
              store,
              source,
              day,
              input,
              partBytes: 64 * 1024,
              barrier: { dir: barrier, id: String(i), parties: 2 },
            }),
          ),
        );
        for (const r of results) expect(r.code, r.out).toBe(0);
        const opened =
          kind === 'fs'
            ? createFsStore({ root: store.root as string })
            : createS3Store({ client: s3.client, bucket: s3.bucket, prefix: `${s3.prefix}race` });
        const { rows, tags } = await loadCommitted(opened, source);
        // Exactly one attempt's data: all of A (3000 rows) or all of B (2000 rows).
        expect(tags.size).toBe(1);
        expect(rows).toBe(tags.has('A') ? 3000 : 2000);
        expect((await listKeys(opened, `${source}/`)).filter((k) => k.endsWith('/_lock'))).toEqual([]);
      }
    }, 900_000);
  }
});
