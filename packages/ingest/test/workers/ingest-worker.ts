/**
 * A separate process running one `ingestCsv`, for tests of concurrent and killed runs.
 * Argument: JSON `WorkerSpec`. Exit 0 on success; prints the manifest (or the error code) as JSON.
 *
 *   node --conditions=source --import tsx ingest-worker.ts '{"store":{"kind":"fs","root":"/tmp/lake"},…}'
 */
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFsStore, createS3Store, dailyInterval, ingestCsv, type ObjectStore } from '../../src/index.js';

export interface WorkerSpec {
  store:
    | { kind: 'fs'; root: string }
    | {
        kind: 's3';
        endpoint: string;
        bucket: string;
        prefix: string;
        accessKeyId: string;
        secretAccessKey: string;
      };
  source: string;
  day: string;
  input: string;
  partBytes?: number;
  /** Gzip the parts (default true). */
  gzip?: boolean;
  /** Both workers wait here (a directory of marker files) before their commit's first step. */
  barrier?: { dir: string; id: string; parties: number };
  /** Kill this process with SIGKILL in the middle of its first data upload. */
  killMidUpload?: boolean;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as WorkerSpec;

async function waitAtBarrier(barrier: NonNullable<WorkerSpec['barrier']>): Promise<void> {
  await writeFile(join(barrier.dir, barrier.id), '');
  const deadline = Date.now() + 120_000;
  while ((await readdir(barrier.dir)).length < barrier.parties) {
    if (Date.now() > deadline) throw new Error('barrier timeout');
    await sleep(20);
  }
}

async function killWhenTempExists(dir: string): Promise<never> {
  for (;;) {
    const names = await readdir(dir).catch(() => [] as string[]);
    if (names.some((n) => n.includes('.tmp-'))) process.kill(process.pid, 'SIGKILL');
    await sleep(20);
  }
}

/** The store, with the test's hooks: the barrier before the commit, the kill mid-upload. */
function hooked(inner: ObjectStore): ObjectStore {
  let barrierPassed = !spec.barrier;
  const barrier = async (key: string): Promise<void> => {
    // The commit's first write: the lock (putIfAbsent) or, without one, the manifest.
    if (barrierPassed || !(key.endsWith('/_lock') || key.endsWith('/_manifest.json'))) return;
    barrierPassed = true;
    await waitAtBarrier(spec.barrier as NonNullable<WorkerSpec['barrier']>);
  };
  const store: ObjectStore = {
    ...inner,
    url: inner.url,
    async putBytes(key, body, options) {
      await barrier(key);
      await inner.putBytes(key, body, options);
      const recordsUpload = key.includes('/_attempts/') && String(body).includes('"uploads":[{');
      if (spec.killMidUpload && recordsUpload) process.kill(process.pid, 'SIGKILL');
    },
    put(key, body, options) {
      if (!spec.killMidUpload || spec.store.kind === 's3') return inner.put(key, body, options);
      let bytes = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _e, done) {
          bytes += chunk.length;
          if (bytes <= 256 * 1024) return done(null, chunk);
          // Stall the upload here and die once its temp file is on disk.
          void killWhenTempExists(
            join((spec.store as { root: string }).root, ...key.split('/').slice(0, -1)),
          );
        },
      });
      return inner.put(key, body.pipe(meter), options);
    },
  };
  if (inner.putIfAbsent) {
    store.putIfAbsent = async (key, body) => {
      await barrier(key);
      return (inner.putIfAbsent as NonNullable<ObjectStore['putIfAbsent']>)(key, body);
    };
  }
  return store;
}

const inner =
  spec.store.kind === 'fs'
    ? createFsStore({ root: spec.store.root })
    : createS3Store({
        bucket: spec.store.bucket,
        prefix: spec.store.prefix,
        endpoint: spec.store.endpoint,
        credentials: { accessKeyId: spec.store.accessKeyId, secretAccessKey: spec.store.secretAccessKey },
        partSize: 5 * 1024 * 1024,
      });

try {
  if (!existsSync(spec.input)) throw new Error(`no input ${spec.input}`);
  const manifest = await ingestCsv({
    source: spec.source,
    location: spec.input,
    interval: dailyInterval(spec.day),
    store: hooked(inner),
    options: { gzip: spec.gzip ?? true, ...(spec.partBytes ? { partBytes: spec.partBytes } : {}) },
  });
  process.stdout.write(`${JSON.stringify({ ok: true, attempt: manifest.attempt, rows: manifest.rows })}\n`);
} catch (error) {
  process.stdout.write(
    `${JSON.stringify({ ok: false, code: (error as { code?: string }).code, message: String(error) })}\n`,
  );
  process.exitCode = 1;
} finally {
  inner.close?.();
}
